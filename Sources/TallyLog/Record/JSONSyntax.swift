/// Whether bytes are one JSON value (RFC 8259), checked without building it: the export
/// writes a payload as it is stored when it is JSON, as a string otherwise, and Foundation's
/// parser (which builds the value) was a third of the export's time.
package enum JSONSyntax {
    /// `true` when `bytes` hold exactly one JSON value, with optional whitespace around it.
    package static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { Self.isValid($0) }
    }

    /// `true` when `bytes` hold exactly one JSON value, with optional whitespace around it.
    package static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let buffer = bytes.bindMemory(to: UInt8.self)
        var parser = Parser(bytes: buffer)
        parser.skipWhitespace()
        guard parser.value(depth: 0) else { return false }
        parser.skipWhitespace()
        guard parser.index == buffer.count else { return false }
        // Text outside ASCII must be valid UTF-8 (a JSONL line is UTF-8).
        return Self.isUTF8(bytes)
    }

    /// Where the one JSON value that starts at `start` ends (the offset just after it), or
    /// `nil` when no valid value starts there, a value lies `depthMax` or more levels deep
    /// (the value itself at level 0), or its bytes are not UTF-8. For readers that keep a
    /// value as bytes (the server's payloads) and need only to know that it is JSON.
    package static func endOfValue(in bytes: UnsafeRawBufferPointer, from start: Int, depthMax: Int) -> Int? {
        guard start >= 0, start < bytes.count, depthMax > 0 else { return nil }
        var parser = Parser(bytes: bytes.bindMemory(to: UInt8.self), depthMax: depthMax)
        parser.index = start
        guard parser.value(depth: 0), Self.isUTF8(UnsafeRawBufferPointer(rebasing: bytes[start..<parser.index])) else { return nil }
        return parser.index
    }

    /// Whether `bytes` are UTF-8 (ASCII checked eight bytes at a time first).
    package static func isUTF8(_ bytes: UnsafeRawBufferPointer) -> Bool {
        !Self.hasHigh(bytes) || String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) != nil
    }

    private static func hasHigh(_ bytes: UnsafeRawBufferPointer) -> Bool {
        var index = 0
        while index + 8 <= bytes.count {
            if JSONBytes.hasHigh(bytes.loadUnaligned(fromByteOffset: index, as: UInt64.self)) { return true }
            index += 8
        }
        return bytes[index...].contains { $0 >= 0x80 }
    }

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        /// Values this deep (the outermost at 0) are refused rather than risking the stack.
        let depthMax: Int
        var index = 0

        init(bytes: UnsafeBufferPointer<UInt8>, depthMax: Int = 512) {
            self.bytes = bytes
            self.depthMax = depthMax
        }

        var current: UInt8? { self.index < self.bytes.count ? self.bytes[self.index] : nil }

        mutating func skipWhitespace() {
            while let byte = self.current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { self.index += 1 }
        }

        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard self.index + count <= self.bytes.count else { return false }
            for offset in 0..<count where self.bytes[self.index + offset] != text.utf8Start[offset] { return false }
            self.index += count
            return true
        }

        mutating func value(depth: Int) -> Bool {
            guard depth < self.depthMax, let byte = self.current else { return false }
            switch byte {
            case UInt8(ascii: "{"): return self.object(depth: depth)
            case UInt8(ascii: "["): return self.array(depth: depth)
            case UInt8(ascii: "\""): return self.string()
            case UInt8(ascii: "t"): return self.literal("true")
            case UInt8(ascii: "f"): return self.literal("false")
            case UInt8(ascii: "n"): return self.literal("null")
            default: return self.number()
            }
        }

        mutating func object(depth: Int) -> Bool {
            self.index += 1
            self.skipWhitespace()
            if self.current == UInt8(ascii: "}") {
                self.index += 1
                return true
            }
            while true {
                self.skipWhitespace()
                guard self.current == UInt8(ascii: "\""), self.string() else { return false }
                self.skipWhitespace()
                guard self.current == UInt8(ascii: ":") else { return false }
                self.index += 1
                self.skipWhitespace()
                guard self.value(depth: depth + 1) else { return false }
                self.skipWhitespace()
                switch self.current {
                case UInt8(ascii: ","): self.index += 1
                case UInt8(ascii: "}"):
                    self.index += 1
                    return true
                default: return false
                }
            }
        }

        mutating func array(depth: Int) -> Bool {
            self.index += 1
            self.skipWhitespace()
            if self.current == UInt8(ascii: "]") {
                self.index += 1
                return true
            }
            while true {
                self.skipWhitespace()
                guard self.value(depth: depth + 1) else { return false }
                self.skipWhitespace()
                switch self.current {
                case UInt8(ascii: ","): self.index += 1
                case UInt8(ascii: "]"):
                    self.index += 1
                    return true
                default: return false
                }
            }
        }

        /// A string: escapes well formed, no control characters (UTF-8 is checked up front).
        mutating func string() -> Bool {
            self.index += 1
            let count = self.bytes.count
            guard let base = UnsafeRawPointer(self.bytes.baseAddress) else { return false }
            while self.index < count {
                if count - self.index >= 16, JSONBytes.isPlain16(base, at: self.index) {
                    self.index += 16
                    continue
                }
                // Plain bytes skipped up to eight at a time (UTF-8 was checked up front).
                let plain = JSONBytes.plainPrefix(JSONBytes.escapeMask(JSONBytes.word(base, at: self.index, count: count)))
                self.index = min(self.index + plain, count)
                guard plain < 8, let byte = self.current else { continue }
                self.index += 1
                switch byte {
                case UInt8(ascii: "\""): return true
                case UInt8(ascii: "\\"):
                    guard let escaped = self.current else { return false }
                    self.index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "n"),
                        UInt8(ascii: "r"), UInt8(ascii: "t"):
                        continue
                    case UInt8(ascii: "u"):
                        for _ in 0..<4 {
                            guard let digit = self.current, Self.isHex(digit) else { return false }
                            self.index += 1
                        }
                    default: return false
                    }
                case 0..<0x20: return false
                default: continue
                }
            }
            return false
        }

        static func isHex(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
        }

        mutating func digits() -> Bool {
            let start = self.index
            while let byte = self.current, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { self.index += 1 }
            return self.index > start
        }

        mutating func number() -> Bool {
            if self.current == UInt8(ascii: "-") { self.index += 1 }
            if self.current == UInt8(ascii: "0") {
                self.index += 1
            } else {
                guard self.digits() else { return false }
            }
            if self.current == UInt8(ascii: ".") {
                self.index += 1
                guard self.digits() else { return false }
            }
            if self.current == UInt8(ascii: "e") || self.current == UInt8(ascii: "E") {
                self.index += 1
                if self.current == UInt8(ascii: "+") || self.current == UInt8(ascii: "-") { self.index += 1 }
                guard self.digits() else { return false }
            }
            return true
        }
    }
}
