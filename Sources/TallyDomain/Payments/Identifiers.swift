/// An identifier chosen by the client: 1 to 64 of `A–Z a–z 0–9 . _ : -`.
///
/// Account and transfer ids appear in stream ids (`account-<id>`, `transfer-<id>`), so the
/// alphabet is one that needs no escaping anywhere (paths, URLs, CSV, shells).
public struct DomainID: Hashable, Sendable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The id as given.
    public let rawValue: String
    /// ``IDHash`` of `rawValue`, computed once: the write model looks ids up in tables
    /// several times a transfer, and each lookup then costs no pass over the bytes.
    private let keyedHash: UInt64

    /// The most bytes an id may have.
    public static let bytesMax = 64

    /// Validates `rawValue`; `field` names it in the rejection.
    public init(_ rawValue: String, field: String) throws(Rejection) {
        let bytes = rawValue.utf8
        guard !bytes.isEmpty, bytes.count <= Self.bytesMax else {
            throw Rejection(.invalidField, "\(field) must be 1 to \(Self.bytesMax) characters; got \(bytes.count)")
        }
        for byte in bytes where !Self.allowed(byte) {
            throw Rejection(
                .invalidField,
                "\(field) \"\(rawValue)\" may use only letters, digits and . _ : - (found \(Unicode.Scalar(byte).escaped(asASCII: true)))")
        }
        self.rawValue = rawValue
        self.keyedHash = IDHash.hash(bytes)
    }

    /// For literals in code and tests; traps on an invalid literal.
    public init(stringLiteral value: String) {
        do { try self.init(value, field: "id") } catch { preconditionFailure("invalid id literal: \(error)") }
    }

    static func allowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            return true
        default:
            return false
        }
    }

    public var description: String { self.rawValue }

    public static func < (lhs: DomainID, rhs: DomainID) -> Bool { lhs.rawValue < rhs.rawValue }

    public static func == (lhs: DomainID, rhs: DomainID) -> Bool { lhs.keyedHash == rhs.keyedHash && lhs.rawValue == rhs.rawValue }

    public func hash(into hasher: inout Hasher) { hasher.combine(self.keyedHash) }

    /// What Swift's tables call to place a key: the hash made once, mixed with the table's
    /// seed, without a `Hasher` (whose setup and finish cost more than the rest of a lookup).
    public func _rawHashValue(seed: Int) -> Int { IDHash.seeded(self.keyedHash, seed) }

    /// The keyed hash made once (``IDHash``), for the write model's own tables (``SlotIndex``).
    var hashWord: UInt64 { self.keyedHash }
}

/// A currency code: 2 to 8 uppercase letters or digits (`APX`, `USD`, `CREDIT1`).
public struct Currency: Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    /// The code.
    public let rawValue: String

    /// Validates `rawValue`.
    public init(_ rawValue: String) throws(Rejection) {
        let bytes = rawValue.utf8
        let valid =
            (2...8).contains(bytes.count)
            && bytes.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        guard valid else {
            throw Rejection(.invalidCurrency, "currency \"\(rawValue)\" must be 2 to 8 uppercase letters or digits, e.g. APX")
        }
        self.rawValue = rawValue
    }

    /// For literals in code and tests; traps on an invalid literal.
    public init(stringLiteral value: String) {
        do { try self.init(value) } catch { preconditionFailure("invalid currency literal: \(error)") }
    }

    public var description: String { self.rawValue }
}

/// A free-text field (memo, external reference): at most `bytesMax` bytes, no control characters.
enum FreeText {
    static let memoBytesMax = 256
    static let referenceBytesMax = 128

    static func validate(_ text: String?, field: String, max: Int) throws(Rejection) {
        guard let text else { return }
        guard text.utf8.count <= max else {
            throw Rejection(.invalidField, "\(field) may have at most \(max) bytes; got \(text.utf8.count)")
        }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
            throw Rejection(.invalidField, "\(field) may not contain control characters")
        }
    }
}
