/// A fast reader for the flat JSON objects ``JSONWriter`` writes: string values and lists
/// of strings, no whitespace. Returns `nil` for anything else, and the caller falls back
/// to Foundation's parser; replaying payments spent most of its time in
/// `JSONSerialization` before this.
enum FlatJSON {
    enum Value: Equatable {
        case string(String)
        case strings([String])
        case null
    }

    static func parse(_ bytes: [UInt8]) -> [String: Value]? {
        bytes.withUnsafeBufferPointer { buffer -> [String: Value]? in
            var index = 0
            func expect(_ byte: UInt8) -> Bool {
                guard index < buffer.count, buffer[index] == byte else { return false }
                index += 1
                return true
            }
            func string() -> String? {
                guard expect(UInt8(ascii: "\"")) else { return nil }
                let start = index
                var plain = true
                while index < buffer.count, buffer[index] != UInt8(ascii: "\"") {
                    if buffer[index] == UInt8(ascii: "\\") { plain = false; index += 1 }
                    index += 1
                }
                guard index < buffer.count else { return nil }
                let raw = UnsafeBufferPointer(rebasing: buffer[start..<index])
                index += 1
                if plain { return String(decoding: raw, as: UTF8.self) }
                return Self.unescape(raw)
            }
            var object: [String: Value] = [:]
            guard expect(UInt8(ascii: "{")) else { return nil }
            if expect(UInt8(ascii: "}")) { return index == buffer.count ? object : nil }
            repeat {
                guard let key = string(), expect(UInt8(ascii: ":")) else { return nil }
                if index < buffer.count, buffer[index] == UInt8(ascii: "[") {
                    index += 1
                    var list: [String] = []
                    if !expect(UInt8(ascii: "]")) {
                        repeat {
                            guard let item = string() else { return nil }
                            list.append(item)
                        } while expect(UInt8(ascii: ","))
                        guard expect(UInt8(ascii: "]")) else { return nil }
                    }
                    object[key] = .strings(list)
                } else if index + 4 <= buffer.count, buffer[index] == UInt8(ascii: "n") {
                    guard Array(buffer[index..<index + 4]) == Array("null".utf8) else { return nil }
                    index += 4
                    object[key] = .null
                } else {
                    guard let value = string() else { return nil }
                    object[key] = .string(value)
                }
            } while expect(UInt8(ascii: ","))
            guard expect(UInt8(ascii: "}")), index == buffer.count else { return nil }
            return object
        }
    }

    /// The escapes JSONWriter writes: \" \\ and \u00XX; anything else is not ours.
    private static func unescape(_ raw: UnsafeBufferPointer<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = 0
        while index < raw.count {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 1 < raw.count else { return nil }
            switch raw[index + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
                out.append(raw[index + 1])
                index += 2
            case UInt8(ascii: "u"):
                guard index + 6 <= raw.count,
                    let value = UInt32(String(decoding: UnsafeBufferPointer(rebasing: raw[index + 2..<index + 6]), as: UTF8.self), radix: 16),
                    value < 0x80
                else { return nil }
                out.append(UInt8(value))
                index += 6
            default:
                return nil
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
