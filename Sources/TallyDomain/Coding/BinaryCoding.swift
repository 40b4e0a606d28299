/// A little-endian binary writer for snapshots (not for the log, whose payloads are JSON).
struct BinaryWriter {
    private(set) var bytes: [UInt8] = []

    mutating func u8(_ value: UInt8) { self.bytes.append(value) }

    mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { self.bytes.append(contentsOf: $0) }
    }

    mutating func string(_ value: String) {
        let utf8 = value.utf8
        self.u64(UInt64(utf8.count))
        self.bytes.append(contentsOf: utf8)
    }

    mutating func optionalString(_ value: String?) {
        self.u8(value == nil ? 0 : 1)
        if let value { self.string(value) }
    }

    mutating func optionalU64(_ value: UInt64?) {
        self.u8(value == nil ? 0 : 1)
        if let value { self.u64(value) }
    }

    /// An unsigned LEB128 integer: 7 bits a byte, low first (1 byte below 128, at most 10).
    mutating func varint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            self.bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        self.bytes.append(UInt8(rest))
    }

    /// A string as its byte count (``varint(_:)``) and its UTF-8.
    mutating func shortString(_ value: String) {
        let utf8 = value.utf8
        self.varint(UInt64(utf8.count))
        self.bytes.append(contentsOf: utf8)
    }
}

/// Reads what ``BinaryWriter`` wrote; every read is bounds-checked.
struct BinaryReader {
    struct Malformed: Error, CustomStringConvertible {
        let offset: Int
        var description: String { "snapshot malformed at byte \(self.offset)" }
    }

    private let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { self.offset == self.bytes.count }

    mutating func u8() throws(Malformed) -> UInt8 {
        guard self.offset < self.bytes.count else { throw Malformed(offset: self.offset) }
        defer { self.offset += 1 }
        return self.bytes[self.offset]
    }

    mutating func u64() throws(Malformed) -> UInt64 {
        guard self.offset + 8 <= self.bytes.count else { throw Malformed(offset: self.offset) }
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(self.bytes[self.offset + index]) << (8 * index) }
        self.offset += 8
        return value
    }

    mutating func string() throws(Malformed) -> String {
        let count = try self.u64()
        guard count <= UInt64(self.bytes.count - self.offset) else { throw Malformed(offset: self.offset) }
        let end = self.offset + Int(count)
        defer { self.offset = end }
        return String(decoding: self.bytes[self.offset..<end], as: UTF8.self)
    }

    mutating func optionalString() throws(Malformed) -> String? {
        try self.u8() == 0 ? nil : try self.string()
    }

    mutating func optionalU64() throws(Malformed) -> UInt64? {
        try self.u8() == 0 ? nil : try self.u64()
    }

    /// Reads what ``BinaryWriter/varint(_:)`` wrote; more than 64 bits is malformed.
    mutating func varint() throws(Malformed) -> UInt64 {
        let start = self.offset
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try self.u8()
            guard shift < 64, shift < 63 || byte <= 1 else { throw Malformed(offset: start) }
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    /// Reads what ``BinaryWriter/shortString(_:)`` wrote.
    mutating func shortString() throws(Malformed) -> String {
        let count = try self.varint()
        guard count <= UInt64(self.bytes.count - self.offset) else { throw Malformed(offset: self.offset) }
        let end = self.offset + Int(count)
        defer { self.offset = end }
        return String(decoding: self.bytes[self.offset..<end], as: UTF8.self)
    }
}
