import HTTPTypes
import Tally
/// A parsed JSON request body. Each value remembers the bytes it came from, so a payload is
/// stored exactly as the client sent it (validated, never re-encoded), and each error names
/// the JSON path of the value to blame. The CLI reads `tally append --file` lines with it too
/// (package access), so a payload is stored the same way whichever way it came in.
package struct JSONValue: Sendable {
    package enum Kind: Sendable {
        case object([(key: String, value: JSONValue)])
        case array([JSONValue])
        case string(String)
        /// The number as written.
        case number(String)
        case bool(Bool)
        case null
        /// A value checked to be JSON (RFC 8259) but not built: the value of a member the
        /// parse was asked to keep as bytes (`unparsedKey`, the events' `payload`); `range`
        /// holds it.
        case unparsed
    }

    package var kind: Kind
    /// Where the value is in the parsed bytes.
    package var range: Range<Int>

    /// The kind's name for error messages.
    package var kindName: String {
        switch self.kind {
        case .object: "an object"
        case .array: "an array"
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .unparsed: "a JSON value"
        }
    }

    /// Parses `bytes` as one JSON value (RFC 8259) nested at most `depthMax` deep; `subject`
    /// names the bytes in error messages. The value of every object member named
    /// `unparsedKey` is only checked, not built (``Kind/unparsed``): an event's payload is
    /// stored as its bytes, so building its strings and arrays was wasted work. What is
    /// accepted and every error message are the same either way (a member that the quick
    /// check refuses, or that holds a `\u` escape, is parsed in full).
    ///
    /// - Throws: 400 `malformed_json` naming the byte offset, or `json_too_deep`.
    package static func parse(
        _ bytes: [UInt8], depthMax: Int = 32, subject: String = "the body", unparsedKey: String? = nil
    ) throws(APIProblem) -> JSONValue {
        var parser = JSONParser(bytes: bytes, depthMax: depthMax, subject: subject, unparsedKey: unparsedKey.map { Array($0.utf8) })
        parser.skipSpace()
        let value = try parser.value(depth: 1)
        parser.skipSpace()
        guard parser.index == bytes.count else { throw parser.failure("unexpected bytes after the JSON value") }
        return value
    }
}

/// The recursive-descent parser behind ``JSONValue/parse(_:depthMax:)``.
private struct JSONParser {
    let bytes: [UInt8]
    let depthMax: Int
    let subject: String
    let unparsedKey: [UInt8]?
    var index = 0

    init(bytes: [UInt8], depthMax: Int, subject: String, unparsedKey: [UInt8]?) {
        self.bytes = bytes
        self.depthMax = depthMax
        self.subject = subject
        self.unparsedKey = unparsedKey
    }

    func failure(_ message: String) -> APIProblem {
        APIProblem(.badRequest, "malformed_json", "\(self.subject) is not valid JSON: \(message) at byte \(self.index)")
    }

    mutating func skipSpace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x09, 0x0A, 0x0D: self.index += 1
            default: return
            }
        }
    }

    mutating func value(depth: Int) throws(APIProblem) -> JSONValue {
        guard self.index < self.bytes.count else { throw self.failure("unexpected end") }
        let start = self.index
        switch self.bytes[self.index] {
        case UInt8(ascii: "{"):
            guard depth <= self.depthMax else {
                throw APIProblem(.badRequest, "json_too_deep", "\(self.subject) nests deeper than \(self.depthMax) levels")
            }
            self.index += 1
            var fields: [(key: String, value: JSONValue)] = []
            self.skipSpace()
            if self.peek(UInt8(ascii: "}")) {
                self.index += 1
                return JSONValue(kind: .object(fields), range: start..<self.index)
            }
            while true {
                self.skipSpace()
                guard self.peek(UInt8(ascii: "\"")) else { throw self.failure("expected a quoted key") }
                let key = try self.string()
                self.skipSpace()
                guard self.peek(UInt8(ascii: ":")) else { throw self.failure("expected ':'") }
                self.index += 1
                self.skipSpace()
                if let unparsedKey = self.unparsedKey, key.utf8.elementsEqual(unparsedKey), let end = self.endOfUnparsed(depth: depth + 1) {
                    fields.append((key, JSONValue(kind: .unparsed, range: self.index..<end)))
                    self.index = end
                } else {
                    fields.append((key, try self.value(depth: depth + 1)))
                }
                self.skipSpace()
                if self.peek(UInt8(ascii: ",")) { self.index += 1; continue }
                guard self.peek(UInt8(ascii: "}")) else { throw self.failure("expected ',' or '}'") }
                self.index += 1
                return JSONValue(kind: .object(fields), range: start..<self.index)
            }
        case UInt8(ascii: "["):
            guard depth <= self.depthMax else {
                throw APIProblem(.badRequest, "json_too_deep", "\(self.subject) nests deeper than \(self.depthMax) levels")
            }
            self.index += 1
            var items: [JSONValue] = []
            self.skipSpace()
            if self.peek(UInt8(ascii: "]")) {
                self.index += 1
                return JSONValue(kind: .array(items), range: start..<self.index)
            }
            while true {
                self.skipSpace()
                items.append(try self.value(depth: depth + 1))
                self.skipSpace()
                if self.peek(UInt8(ascii: ",")) { self.index += 1; continue }
                guard self.peek(UInt8(ascii: "]")) else { throw self.failure("expected ',' or ']'") }
                self.index += 1
                return JSONValue(kind: .array(items), range: start..<self.index)
            }
        case UInt8(ascii: "\""):
            let text = try self.string()
            return JSONValue(kind: .string(text), range: start..<self.index)
        case UInt8(ascii: "t"):
            try self.literal("true")
            return JSONValue(kind: .bool(true), range: start..<self.index)
        case UInt8(ascii: "f"):
            try self.literal("false")
            return JSONValue(kind: .bool(false), range: start..<self.index)
        case UInt8(ascii: "n"):
            try self.literal("null")
            return JSONValue(kind: .null, range: start..<self.index)
        default:
            let text = try self.number()
            return JSONValue(kind: .number(text), range: start..<self.index)
        }
    }

    /// Where the value at `index` (at `depth`) ends, when the quick check
    /// (``JSONSyntax/endOfValue(in:from:depthMax:)``) accepts it exactly as ``value(depth:)``
    /// would; `nil` sends it through ``value(depth:)``, which accepts or names the error.
    /// The quick check is stricter on depth (it counts scalars too), knows nothing of
    /// surrogate pairs (so a value holding `\u` is left to the full parse), and stops after
    /// the value (so what follows must be a separator, as the full parse would require).
    private func endOfUnparsed(depth: Int) -> Int? {
        let end = self.bytes.withUnsafeBytes { JSONSyntax.endOfValue(in: $0, from: self.index, depthMax: self.depthMax - depth + 1) }
        guard let end else { return nil }
        if end < self.bytes.count {
            switch self.bytes[end] {
            case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"): break
            default: return nil
            }
        }
        var at = self.index
        while at + 1 < end {
            if self.bytes[at] == UInt8(ascii: "\\") {
                if self.bytes[at + 1] == UInt8(ascii: "u") { return nil }
                at += 2
            } else {
                at += 1
            }
        }
        return end
    }

    private func peek(_ byte: UInt8) -> Bool {
        self.index < self.bytes.count && self.bytes[self.index] == byte
    }

    private mutating func literal(_ word: String) throws(APIProblem) {
        let expected = Array(word.utf8)
        guard self.index + expected.count <= self.bytes.count, Array(self.bytes[self.index..<(self.index + expected.count)]) == expected
        else { throw self.failure("expected \(word)") }
        self.index += expected.count
    }

    private mutating func number() throws(APIProblem) -> String {
        let start = self.index
        func digits(_ parser: inout JSONParser) -> Int {
            let from = parser.index
            while parser.index < parser.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(parser.bytes[parser.index]) {
                parser.index += 1
            }
            return parser.index - from
        }
        if self.peek(UInt8(ascii: "-")) { self.index += 1 }
        let integer = digits(&self)
        guard integer > 0 else { throw self.failure("expected a value") }
        if integer > 1, self.bytes[self.index - integer] == UInt8(ascii: "0") { throw self.failure("a number has a leading zero") }
        if self.peek(UInt8(ascii: ".")) {
            self.index += 1
            guard digits(&self) > 0 else { throw self.failure("expected digits after '.'") }
        }
        if self.peek(UInt8(ascii: "e")) || self.peek(UInt8(ascii: "E")) {
            self.index += 1
            if self.peek(UInt8(ascii: "+")) || self.peek(UInt8(ascii: "-")) { self.index += 1 }
            guard digits(&self) > 0 else { throw self.failure("expected digits in the exponent") }
        }
        return String(decoding: self.bytes[start..<self.index], as: UTF8.self)
    }

    /// A quoted string starting at `index`, unescaped; invalid UTF-8 is refused.
    private mutating func string() throws(APIProblem) -> String {
        self.index += 1
        // Most strings (keys, ids, types, names) hold no escape: one scan to the closing
        // quote and one `String`, instead of a byte array grown a byte at a time (that was a
        // quarter of `tally append --file`).
        let start = self.index
        var end = start
        while end < self.bytes.count {
            let byte = self.bytes[end]
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            end += 1
        }
        if end < self.bytes.count, self.bytes[end] == UInt8(ascii: "\"") {
            self.index = end + 1
            let text = self.bytes.withUnsafeBufferPointer { String(validating: UnsafeBufferPointer(rebasing: $0[start..<end]), as: UTF8.self) }
            guard let text else { throw self.failure("a string is not valid UTF-8") }
            return text
        }
        var out = Array(self.bytes[start..<end])
        self.index = end
        while true {
            guard self.index < self.bytes.count else { throw self.failure("unterminated string") }
            let byte = self.bytes[self.index]
            self.index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard let text = String(validating: out, as: UTF8.self) else { throw self.failure("a string is not valid UTF-8") }
                return text
            case UInt8(ascii: "\\"):
                guard self.index < self.bytes.count else { throw self.failure("unterminated escape") }
                let escaped = self.bytes[self.index]
                self.index += 1
                switch escaped {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0C)
                case UInt8(ascii: "n"): out.append(0x0A)
                case UInt8(ascii: "r"): out.append(0x0D)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try self.hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        guard self.peek(UInt8(ascii: "\\")) else { throw self.failure("a lone surrogate") }
                        self.index += 1
                        guard self.peek(UInt8(ascii: "u")) else { throw self.failure("a lone surrogate") }
                        self.index += 1
                        let low = try self.hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw self.failure("a lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw self.failure("a lone surrogate") }
                    out.append(contentsOf: Array(String(Character(unicode)).utf8))
                default: throw self.failure("an unknown escape")
                }
            case 0..<0x20: throw self.failure("a control character inside a string")
            default: out.append(byte)
            }
        }
    }

    private mutating func hex4() throws(APIProblem) -> UInt32 {
        guard self.index + 4 <= self.bytes.count else { throw self.failure("a short \\u escape") }
        var value: UInt32 = 0
        for byte in self.bytes[self.index..<(self.index + 4)] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw self.failure("a bad \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        self.index += 4
        return value
    }
}
