/// A fast reader for the flat JSON objects ``JSONWriter`` writes: string values, lists of
/// strings and `null`, no whitespace. Parsing returns `nil` for anything else, and the
/// caller falls back to Foundation's parser.
///
/// It records where each field lies in the bytes and decodes a value only when asked: a
/// replay reads millions of payloads, and building a `[String: Value]` dictionary for each
/// was most of a projection rebuild's time (before that, `JSONSerialization` was).
struct FlatJSON {
    enum Value: Equatable {
        case string(String)
        case strings([String])
        case null
    }

    private enum Kind { case string, escapedString, strings, null }

    private struct Field {
        var key: Range<Int>
        var kind: Kind
        /// The string's bytes between the quotes, or the list between the brackets.
        var value: Range<Int>
    }

    private let bytes: [UInt8]
    private let fields: [Field]

    /// Parses `bytes`, or `nil` when they are not in the writer's flat form.
    static func parse(_ bytes: [UInt8]) -> FlatJSON? {
        guard let fields = Self.scan(bytes) else { return nil }
        return FlatJSON(bytes: bytes, fields: fields)
    }

    /// The value of `key`, or `nil` when it is absent (the last one wins if repeated).
    /// `scan` checked every string and escape, so a present field always decodes.
    subscript(key: String) -> Value? {
        guard let field = self.field(key) else { return nil }
        return self.value(field)
    }

    /// Every field, decoded (for tests and diagnostics).
    var dictionary: [String: Value] {
        var result: [String: Value] = [:]
        for field in self.fields {
            result[String(decoding: self.bytes[field.key], as: UTF8.self)] = self.value(field)
        }
        return result
    }

    private func field(_ key: String) -> Field? {
        var key = key
        return key.withUTF8 { wanted in
            self.bytes.withUnsafeBufferPointer { buffer in
                self.fields.last { field in
                    field.key.count == wanted.count && UnsafeBufferPointer(rebasing: buffer[field.key]).elementsEqual(wanted)
                }
            }
        }
    }

    private func value(_ field: Field) -> Value? {
        switch field.kind {
        case .null: return .null
        case .string: return .string(String(decoding: self.bytes[field.value], as: UTF8.self))
        case .escapedString: return Self.unescape(self.bytes[field.value]).map(Value.string)
        case .strings:
            var items: [String] = []
            var index = field.value.lowerBound
            while index < field.value.upperBound {
                // `scan` checked the shape: "item","item",…
                let start = index + 1
                var end = start
                var plain = true
                while self.bytes[end] != UInt8(ascii: "\"") {
                    if self.bytes[end] == UInt8(ascii: "\\") { plain = false; end += 1 }
                    end += 1
                }
                guard let item = plain ? String(decoding: self.bytes[start..<end], as: UTF8.self) : Self.unescape(self.bytes[start..<end]) else { return nil }
                items.append(item)
                index = end + 2
            }
            return .strings(items)
        }
    }

    private static func scan(_ bytes: [UInt8]) -> [Field]? {
        bytes.withUnsafeBufferPointer { buffer -> [Field]? in
            var index = 0
            func expect(_ byte: UInt8) -> Bool {
                guard index < buffer.count, buffer[index] == byte else { return false }
                index += 1
                return true
            }
            /// Skips a quoted string; its bytes between the quotes and whether it has escapes.
            func string() -> (Range<Int>, plain: Bool)? {
                guard expect(UInt8(ascii: "\"")) else { return nil }
                let start = index
                var plain = true
                while index < buffer.count, buffer[index] != UInt8(ascii: "\"") {
                    if buffer[index] == UInt8(ascii: "\\") { plain = false; index += 1 }
                    index += 1
                }
                guard index < buffer.count else { return nil }
                index += 1
                // Escapes are rare: check them now, so that a value decodes later for sure.
                if !plain, Self.unescape(bytes[start..<index - 1]) == nil { return nil }
                return (start..<index - 1, plain)
            }
            var fields: [Field] = []
            guard expect(UInt8(ascii: "{")) else { return nil }
            if expect(UInt8(ascii: "}")) { return index == buffer.count ? fields : nil }
            repeat {
                guard let (key, _) = string(), expect(UInt8(ascii: ":")) else { return nil }
                if expect(UInt8(ascii: "[")) {
                    let start = index
                    if !expect(UInt8(ascii: "]")) {
                        repeat {
                            guard string() != nil else { return nil }
                        } while expect(UInt8(ascii: ","))
                        guard expect(UInt8(ascii: "]")) else { return nil }
                    }
                    fields.append(Field(key: key, kind: .strings, value: start..<index - 1))
                } else if index + 4 <= buffer.count, buffer[index] == UInt8(ascii: "n") {
                    guard buffer[index + 1] == UInt8(ascii: "u"), buffer[index + 2] == UInt8(ascii: "l"), buffer[index + 3] == UInt8(ascii: "l") else { return nil }
                    index += 4
                    fields.append(Field(key: key, kind: .null, value: index..<index))
                } else {
                    guard let (value, plain) = string() else { return nil }
                    fields.append(Field(key: key, kind: plain ? .string : .escapedString, value: value))
                }
            } while expect(UInt8(ascii: ","))
            guard expect(UInt8(ascii: "}")), index == buffer.count else { return nil }
            return fields
        }
    }

    /// The escapes JSONWriter writes: \" \\ \/ and \u00XX; anything else is not ours.
    private static func unescape(_ raw: ArraySlice<UInt8>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(raw.count)
        var index = raw.startIndex
        while index < raw.endIndex {
            let byte = raw[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 1 < raw.endIndex else { return nil }
            switch raw[index + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"):
                out.append(raw[index + 1])
                index += 2
            case UInt8(ascii: "u"):
                guard index + 6 <= raw.endIndex,
                    let value = UInt32(String(decoding: raw[index + 2..<index + 6], as: UTF8.self), radix: 16),
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
