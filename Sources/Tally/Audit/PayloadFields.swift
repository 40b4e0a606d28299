/// The top-level fields of a JSON object payload that the CSV export flattens into columns
/// (amount, currency, accounts, service, …), found in the payload's bytes without building
/// the object: `JSONSerialization` building every payload was nine tenths of a CSV export.
///
/// It answers for the common shapes only, exactly as the Foundation path would: a field is
/// a string without escapes (its bytes), a plain integer (its digits), or a value that is
/// neither string nor number (an empty cell). Anything else among the wanted fields (an
/// escape, a fraction, `true`) makes ``find(in:into:)`` return `false`, and the caller
/// takes the Foundation path for that event.
enum PayloadFields {
    /// The flattened columns, in CSV order.
    static let keys: [StaticString] = [
        "amount", "currency", "debit_account", "credit_account", "service", "version", "environment", "component", "status",
    ]

    /// Fills `ranges` (one per key: the value's byte range in `payload`, or `nil` for an
    /// empty cell). `payload` must be valid JSON (``JSONSyntax/isValid(_:)-(UnsafeRawBufferPointer)``);
    /// one that is not an object has every cell empty.
    static func find(in payload: UnsafeRawBufferPointer, into ranges: inout [Range<Int>?]) -> Bool {
        Self.find(Self.keys, in: payload, into: &ranges)
    }

    /// ``find(in:into:)`` for any top-level `keys` (one range per key).
    static func find(_ keys: [StaticString], in payload: UnsafeRawBufferPointer, into ranges: inout [Range<Int>?]) -> Bool {
        for index in ranges.indices { ranges[index] = nil }
        var scanner = Scanner(bytes: payload)
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "{") else { return true }
        scanner.index += 1
        while true {
            scanner.skipWhitespace()
            guard scanner.current == UInt8(ascii: "\"") else { return true }  // `}`: the end
            guard let key = scanner.string() else { return false }
            let wanted = Self.keyIndex(keys, UnsafeRawBufferPointer(rebasing: payload[key.range]))
            if key.escaped && wanted == nil && Self.mightBeWanted(UnsafeRawBufferPointer(rebasing: payload[key.range])) { return false }
            scanner.skipWhitespace()
            scanner.index += 1  // `:`
            scanner.skipWhitespace()
            let start = scanner.index
            switch scanner.current {
            case UInt8(ascii: "\""):
                guard let value = scanner.string() else { return false }
                if let wanted {
                    if value.escaped { return false }
                    ranges[wanted] = value.range
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["), UInt8(ascii: "n"):
                scanner.skipValue()
                if let wanted { ranges[wanted] = nil }
            default:  // a number, true or false
                scanner.skipValue()
                if let wanted {
                    var end = scanner.index
                    while end > start, [0x20, 0x0A, 0x0D, 0x09].contains(payload[end - 1]) { end -= 1 }
                    guard Self.isPlainInteger(UnsafeRawBufferPointer(rebasing: payload[start..<end])) else { return false }
                    ranges[wanted] = start..<end
                }
            }
            scanner.skipWhitespace()
            guard scanner.current == UInt8(ascii: ",") else { return true }
            scanner.index += 1
        }
    }

    private static func keyIndex(_ keys: [StaticString], _ key: UnsafeRawBufferPointer) -> Int? {
        for (index, name) in keys.enumerated()
        where name.utf8CodeUnitCount == key.count && UnsafeRawBufferPointer(start: name.utf8Start, count: key.count).elementsEqual(key) {
            return index
        }
        return nil
    }

    /// An escaped key could spell a wanted one (`"\u0061mount"`): only Foundation can tell.
    private static func mightBeWanted(_ key: UnsafeRawBufferPointer) -> Bool { key.count <= 6 * 14 }

    /// `-?[0-9]{1,18}`: digits `NSNumber.stringValue` gives back unchanged.
    static func isPlainInteger(_ literal: UnsafeRawBufferPointer) -> Bool {
        let digits = literal.first == UInt8(ascii: "-") ? literal.dropFirst() : literal[...]
        return !digits.isEmpty && digits.count <= 18 && digits.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// Moves through JSON text already known to be valid.
    private struct Scanner {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

        mutating func skipWhitespace() {
            while let byte = self.current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { self.index += 1 }
        }

        /// A string at `index` (on its opening quote): the range of its contents, and whether
        /// it holds an escape.
        mutating func string() -> (range: Range<Int>, escaped: Bool)? {
            self.index += 1
            let start = self.index
            var escaped = false
            while let byte = self.current {
                if byte == UInt8(ascii: "\"") {
                    self.index += 1
                    return (start..<(self.index - 1), escaped)
                }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    self.index += 1
                }
                self.index += 1
            }
            return nil
        }

        /// Steps over one value of any kind.
        mutating func skipValue() {
            var depth = 0
            while let byte = self.current {
                switch byte {
                case UInt8(ascii: "\""):
                    _ = self.string()
                    if depth == 0 { return }
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return }  // the end of the enclosing object
                    depth -= 1
                    if depth == 0 {
                        self.index += 1
                        return
                    }
                case UInt8(ascii: ","):
                    if depth == 0 { return }
                default: break
                }
                self.index += 1
            }
        }
    }
}
