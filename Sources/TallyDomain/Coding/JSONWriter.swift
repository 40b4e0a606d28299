/// Writes one flat JSON object with keys in the order they are added.
///
/// Payloads are written by hand rather than by `JSONEncoder`: the order of keys is part of
/// the documented format (an auditor can diff them), and the commit path encodes every
/// transfer, where `JSONEncoder` would cost more than the rest of the append.
struct JSONWriter {
    private(set) var bytes: [UInt8]

    /// An empty object, with room for `capacity` bytes: a transfer's payload (~110 bytes)
    /// then takes one allocation, where growing from one byte took seven.
    init(capacity: Int = 192) {
        self.bytes = []
        self.bytes.reserveCapacity(capacity)
        self.bytes.append(UInt8(ascii: "{"))
    }

    mutating func string(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        self.key(key)
        self.quoted(value)
    }

    /// A UInt64 as a string of digits (JSON numbers past 2^53 lose precision in many readers).
    mutating func digits(_ key: StaticString, _ value: UInt64?) {
        guard let value else { return }
        self.key(key)
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(contentsOf: String(value).utf8)
        self.bytes.append(UInt8(ascii: "\""))
    }

    mutating func strings(_ key: StaticString, _ values: [String]) {
        self.key(key)
        self.bytes.append(UInt8(ascii: "["))
        for (index, value) in values.enumerated() {
            if index > 0 { self.bytes.append(UInt8(ascii: ",")) }
            self.quoted(value)
        }
        self.bytes.append(UInt8(ascii: "]"))
    }

    consuming func finish() -> [UInt8] {
        self.bytes.append(UInt8(ascii: "}"))
        return self.bytes
    }

    /// Keys are this module's constants (snake_case ASCII): written without an escape check.
    private mutating func key(_ key: StaticString) {
        assert(key.withUTF8Buffer { $0.allSatisfy { $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") } })
        if self.bytes.count > 1 { self.bytes.append(UInt8(ascii: ",")) }
        self.bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { self.bytes.append(contentsOf: $0) }
        // Two appends, not an array literal: a literal is an allocation per key.
        self.bytes.append(UInt8(ascii: "\""))
        self.bytes.append(UInt8(ascii: ":"))
    }

    private mutating func quoted(_ value: String) {
        self.bytes.append(UInt8(ascii: "\""))
        // Ids, codes and most text need no escape: copy them whole.
        if value.utf8.allSatisfy({ $0 >= 0x20 && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) {
            self.bytes.append(contentsOf: value.utf8)
            self.bytes.append(UInt8(ascii: "\""))
            return
        }
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                self.bytes.append(contentsOf: Array("\\u00".utf8))
                self.bytes.append(hex[Int(byte >> 4)])
                self.bytes.append(hex[Int(byte & 0xF)])
            default: self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }
}
