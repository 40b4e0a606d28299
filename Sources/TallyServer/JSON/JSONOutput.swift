/// Writes a JSON document into bytes, field by field, in the order given.
///
/// Responses are written by hand rather than through `JSONEncoder` so an event's payload,
/// already JSON in the log, is embedded as it is stored (no decode and re-encode), and so
/// amounts (UInt64) are written exactly, as strings of digits.
struct JSONOutput {
    private(set) var bytes: [UInt8] = []
    /// Whether the innermost open object or array already holds a value.
    private var hasValue: [Bool] = []

    init(reservingCapacity capacity: Int = 256) {
        self.bytes.reserveCapacity(capacity)
    }

    mutating func objectStart() { self.valueStart(); self.bytes.append(UInt8(ascii: "{")); self.hasValue.append(false) }
    mutating func objectEnd() { self.bytes.append(UInt8(ascii: "}")); self.hasValue.removeLast() }
    mutating func arrayStart() { self.valueStart(); self.bytes.append(UInt8(ascii: "[")); self.hasValue.append(false) }
    mutating func arrayEnd() { self.bytes.append(UInt8(ascii: "]")); self.hasValue.removeLast() }

    /// Writes `"key":` inside an object; the value follows.
    mutating func key(_ key: String) {
        self.valueStart()
        self.quoted(key)
        self.bytes.append(UInt8(ascii: ":"))
        // The value that follows must not write another comma.
        self.hasValue[self.hasValue.count - 1] = false
    }

    mutating func string(_ value: String) { self.valueStart(); self.quoted(value) }
    mutating func number(_ value: UInt64) { self.valueStart(); self.bytes.append(contentsOf: String(value).utf8) }
    mutating func number(_ value: Double) { self.valueStart(); self.bytes.append(contentsOf: (value.isFinite ? String(value) : "null").utf8) }
    mutating func bool(_ value: Bool) { self.valueStart(); self.bytes.append(contentsOf: (value ? "true" : "false").utf8) }
    mutating func null() { self.valueStart(); self.bytes.append(contentsOf: "null".utf8) }
    /// Embeds bytes that already are one JSON value.
    mutating func raw(_ json: some Sequence<UInt8>) { self.valueStart(); self.bytes.append(contentsOf: json) }

    mutating func field(_ key: String, _ value: String) { self.key(key); self.string(value) }
    mutating func field(_ key: String, _ value: UInt64) { self.key(key); self.number(value) }
    mutating func field(_ key: String, _ value: Bool) { self.key(key); self.bool(value) }
    mutating func field(_ key: String, _ value: Double) { self.key(key); self.number(value) }
    /// Writes the field only when `value` is set.
    mutating func field(_ key: String, ifPresent value: String?) { if let value { self.field(key, value) } }
    /// An amount: a string of digits in minor units.
    mutating func amount(_ key: String, _ value: UInt64) { self.field(key, String(value)) }

    private mutating func valueStart() {
        guard let last = self.hasValue.last else { return }
        if last { self.bytes.append(UInt8(ascii: ",")) }
        self.hasValue[self.hasValue.count - 1] = true
    }

    private mutating func quoted(_ value: String) {
        self.bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
            case UInt8(ascii: "\\"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\n"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            case UInt8(ascii: "\t"): self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                self.bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0")])
                self.bytes.append(hex[Int(byte >> 4)])
                self.bytes.append(hex[Int(byte & 0xF)])
            default: self.bytes.append(byte)
            }
        }
        self.bytes.append(UInt8(ascii: "\""))
    }
}
