import Foundation

/// A growable byte buffer written through a raw pointer, for building export lines: every
/// `put` checks the capacity once (one compare) and copies, with none of an array's
/// per-append uniqueness and bounds work. The audit export writes each line here, then
/// hands the bytes to its file.
struct LineBuffer: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written since the last ``removeAll()``.
    private(set) var count = 0

    /// The second of the last time written, and its first 20 bytes.
    private var cachedSecond = UInt64.max
    private let cachedTime = UnsafeMutablePointer<UInt8>.allocate(capacity: 20)

    init(capacity: Int = 1 << 16) {
        self.capacity = max(capacity, 64)
        self.base = Self.allocate(self.capacity)
    }

    deinit {
        self.base.deallocate()
        self.cachedTime.deallocate()
    }

    /// The bytes written; valid until the next mutation.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: self.base, count: self.count) }

    /// Forgets the bytes, keeping the memory.
    mutating func removeAll() { self.count = 0 }

    /// Forgets the bytes after the first `count`.
    mutating func truncate(to count: Int) { self.count = min(max(count, 0), self.count) }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if self.count + extra > self.capacity { self.grow(extra) }
    }

    /// Memory aligned for `O_DIRECT` (``HashedFileOutput`` writes its chunks from here).
    private static func allocate(_ capacity: Int) -> UnsafeMutablePointer<UInt8> {
        UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 4096).bindMemory(to: UInt8.self, capacity: capacity)
    }

    /// The first `count` bytes (at most ``count``), for handing a chunk to a writer.
    func prefix(_ count: Int) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: self.base, count: min(count, self.count)) }

    private mutating func grow(_ extra: Int) {
        let capacity = max(self.capacity * 2, self.count + extra)
        let base = Self.allocate(capacity)
        base.update(from: self.base, count: self.count)
        self.base.deallocate()
        self.base = base
        self.capacity = capacity
    }

    @inline(__always)
    mutating func put(_ byte: UInt8) {
        self.reserve(1)
        self.base[self.count] = byte
        self.count += 1
    }

    @inline(__always)
    mutating func put(_ text: StaticString) {
        self.put(UnsafeRawBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    @inline(__always)
    mutating func put(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        let count = bytes.count
        self.reserve(count)
        let target = UnsafeMutableRawPointer(self.base + self.count)
        if count >= 8 && count <= 64 {
            // Short pieces (keys, ids, names) as 8-byte words, the last one overlapping:
            // a `memmove` call costs more than the copy.
            var offset = 0
            while offset < count - 8 {
                target.storeBytes(of: source.loadUnaligned(fromByteOffset: offset, as: UInt64.self), toByteOffset: offset, as: UInt64.self)
                offset += 8
            }
            target.storeBytes(of: source.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self), toByteOffset: count - 8, as: UInt64.self)
        } else if count < 8 {
            if count >= 4 {  // two 4-byte words, overlapping
                target.storeBytes(of: source.loadUnaligned(as: UInt32.self), as: UInt32.self)
                target.storeBytes(of: source.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self), toByteOffset: count - 4, as: UInt32.self)
            } else {
                for offset in 0..<count { target.storeBytes(of: source.load(fromByteOffset: offset, as: UInt8.self), toByteOffset: offset, as: UInt8.self) }
            }
        } else {
            target.copyMemory(from: source, byteCount: count)
        }
        self.count += count
    }

    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.put($0) }
    }

    /// ``putQuoted(_:)-(UnsafeRawBufferPointer)`` of a string's UTF-8.
    mutating func putQuoted(_ text: String) {
        var text = text
        text.withUTF8 { _ = self.putQuoted(UnsafeRawBufferPointer($0)) }
    }

    /// 16 lowercase hex digits, as `xxhsum` prints a hash.
    mutating func putHex(_ value: UInt64) {
        self.reserve(16)
        let target = UnsafeMutableRawPointer(self.base + self.count)
        for index in 0..<8 {
            target.storeBytes(of: Self.hexPair(UInt8(truncatingIfNeeded: value >> UInt64(56 - 8 * index))), toByteOffset: 2 * index, as: UInt16.self)
        }
        self.count += 16
    }

    /// A byte's two hex digits as they lie in memory.
    @inline(__always)
    private static func hexPair(_ byte: UInt8) -> UInt16 {
        UnsafeRawPointer(Self.hexPairs.utf8Start).loadUnaligned(fromByteOffset: 2 * Int(byte), as: UInt16.self)
    }

    /// Decimal digits, written in place two at a time (no scratch copy: a `memmove` call
    /// for a handful of bytes cost more than the digits).
    mutating func putDecimal(_ value: UInt64) {
        self.reserve(20)
        var digits = 1
        var threshold: UInt64 = 10
        while value >= threshold {
            digits += 1
            if digits == 20 { break }  // 10^19 is the last power of ten a UInt64 holds
            threshold &*= 10
        }
        let target = UnsafeMutableRawPointer(self.base + self.count)
        var rest = value
        var end = digits
        while rest >= 100 {
            target.storeBytes(of: Self.decimalPair(Int(rest % 100)), toByteOffset: end - 2, as: UInt16.self)
            rest /= 100
            end -= 2
        }
        if rest >= 10 {
            target.storeBytes(of: Self.decimalPair(Int(rest)), toByteOffset: end - 2, as: UInt16.self)
        } else {
            target.storeBytes(of: UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest), toByteOffset: end - 1, as: UInt8.self)
        }
        self.count += digits
    }

    /// Two decimal digits (`00`…`99`) as they lie in memory.
    @inline(__always)
    private static func decimalPair(_ value: Int) -> UInt16 {
        UnsafeRawPointer(Self.decimalPairs.utf8Start).loadUnaligned(fromByteOffset: 2 * value, as: UInt16.self)
    }

    private static let decimalPairs: StaticString = """
        0001020304050607080910111213141516171819202122232425262728293031323334353637383940414243444546474849\
        5051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899
        """

    /// A UUID's 16 bytes (RFC 4122 order) as 36 lowercase characters with dashes.
    mutating func putUUID(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count >= 16, let source = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        self.reserve(36)
        let target = UnsafeMutableRawPointer(self.base + self.count)
        var out = 0
        for index in 0..<16 {
            if index == 4 || index == 6 || index == 8 || index == 10 {
                target.storeBytes(of: UInt8(ascii: "-"), toByteOffset: out, as: UInt8.self)
                out += 1
            }
            target.storeBytes(of: Self.hexPair(source[index]), toByteOffset: out, as: UInt16.self)
            out += 2
        }
        self.count += out
    }

    /// `2026-11-22T07:40:01.123456789Z` (``RFC3339/format(nanoseconds:)``).
    /// Successive lines mostly share their second, so its 20 bytes (`…T07:40:01.`) are
    /// kept and copied; only the nanoseconds are formatted again.
    mutating func putRFC3339(_ nanoseconds: UInt64) {
        self.reserve(RFC3339.length)
        let target = self.base + self.count
        let second = nanoseconds / 1_000_000_000
        if second == self.cachedSecond {
            let cached = UnsafeRawPointer(self.cachedTime)  // 20 bytes as three words, the last overlapping
            let out = UnsafeMutableRawPointer(target)
            out.storeBytes(of: cached.loadUnaligned(as: UInt64.self), as: UInt64.self)
            out.storeBytes(of: cached.loadUnaligned(fromByteOffset: 8, as: UInt64.self), toByteOffset: 8, as: UInt64.self)
            out.storeBytes(of: cached.loadUnaligned(fromByteOffset: 12, as: UInt64.self), toByteOffset: 12, as: UInt64.self)
            var fraction = nanoseconds % 1_000_000_000
            for index in stride(from: 28, through: 20, by: -1) {
                target[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: fraction % 10)
                fraction /= 10
            }
            target[29] = UInt8(ascii: "Z")
        } else {
            RFC3339.write(nanoseconds: nanoseconds, into: target)
            self.cachedTime.update(from: target, count: 20)
            self.cachedSecond = second
        }
        self.count += RFC3339.length
    }

    /// A JSON string of UTF-8 bytes: quotes, backslashes and control characters escaped
    /// (controls as `\u00XX`). Scanning and copying are one pass, eight bytes at a time
    /// while none needs a look (nearly all text). `false` (with the string written anyway)
    /// when the bytes are not UTF-8.
    @discardableResult
    mutating func putQuoted(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let count = bytes.count
        self.reserve(9 + 6 * count)  // every byte escaped as \u00XX, the quotes, and a whole word stored at the end
        let out = UnsafeMutableRawPointer(self.base + self.count)
        out.storeBytes(of: UInt8(ascii: "\""), as: UInt8.self)
        var written = 1
        var ascii = true
        var index = 0
        if let source = bytes.baseAddress {
            while index < count {
                if count - index >= 16, JSONBytes.isPlain16(source, at: index) {
                    out.storeBytes(of: source.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self), toByteOffset: written, as: SIMD16<UInt8>.self)
                    written += 16
                    index += 16
                    continue
                }
                // Eight bytes at a time: the plain ones before the first that needs a look
                // are copied together (the whole word is stored; what follows overwrites the rest).
                let word = JSONBytes.word(source, at: index, count: count)
                let plain = min(JSONBytes.plainPrefix(JSONBytes.escapeMask(word)), count - index)
                out.storeBytes(of: word.littleEndian, toByteOffset: written, as: UInt64.self)
                written += plain
                index += plain
                if plain < 8, index < count {
                    written = Self.escape(source.load(fromByteOffset: index, as: UInt8.self), into: out, at: written, ascii: &ascii)
                    index += 1
                }
            }
        }
        out.storeBytes(of: UInt8(ascii: "\""), toByteOffset: written, as: UInt8.self)
        self.count += written + 1
        return ascii || String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) != nil
    }

    /// One byte of a JSON string at `out + at`, escaped if it must be; the next offset.
    @inline(__always)
    private static func escape(_ byte: UInt8, into out: UnsafeMutableRawPointer, at offset: Int, ascii: inout Bool) -> Int {
        if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
            if byte >= 0x80 { ascii = false }
            out.storeBytes(of: byte, toByteOffset: offset, as: UInt8.self)
            return offset + 1
        }
        out.storeBytes(of: UInt8(ascii: "\\"), toByteOffset: offset, as: UInt8.self)
        guard byte < 0x20 else {
            out.storeBytes(of: byte, toByteOffset: offset + 1, as: UInt8.self)
            return offset + 2
        }
        out.storeBytes(of: UInt8(ascii: "u"), toByteOffset: offset + 1, as: UInt8.self)
        out.storeBytes(of: UInt8(ascii: "0"), toByteOffset: offset + 2, as: UInt8.self)
        out.storeBytes(of: UInt8(ascii: "0"), toByteOffset: offset + 3, as: UInt8.self)
        out.storeBytes(of: Self.hexDigit(byte >> 4), toByteOffset: offset + 4, as: UInt8.self)
        out.storeBytes(of: Self.hexDigit(byte), toByteOffset: offset + 5, as: UInt8.self)
        return offset + 6
    }

    /// A CSV cell (RFC 4180): quoted, with quotes doubled, when it holds a comma, quote, CR
    /// or LF (bytes, so a CRLF pair counts too); a leading `'` neutralises a cell that a
    /// spreadsheet would run as a formula (starting with = + - @, tab or CR).
    mutating func putCSVCell(_ bytes: UnsafeRawBufferPointer) {
        let formula = bytes.first.map { [UInt8(ascii: "="), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "@"), 0x09, 0x0D].contains($0) } ?? false
        let quoted = bytes.contains { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }
        if quoted { self.put(UInt8(ascii: "\"")) }
        if formula { self.put(UInt8(ascii: "'")) }
        guard quoted else {
            self.put(bytes)
            return
        }
        var start = 0
        for index in 0..<bytes.count where bytes[index] == UInt8(ascii: "\"") {
            self.put(UnsafeRawBufferPointer(rebasing: bytes[start...index]))
            self.put(UInt8(ascii: "\""))
            start = index + 1
        }
        self.put(UnsafeRawBufferPointer(rebasing: bytes[start...]))
        self.put(UInt8(ascii: "\""))
    }

    /// Standard base64 (RFC 4648, with padding).
    mutating func putBase64(_ bytes: UnsafeRawBufferPointer) {
        self.reserve((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let word = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in 0..<4 { self.base[self.count + shift] = Self.base64Digit(word >> UInt32(18 - 6 * shift)) }
            self.count += 4
            index += 3
        }
        let rest = bytes.count - index
        guard rest > 0 else { return }
        let word = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
        self.base[self.count] = Self.base64Digit(word >> 18)
        self.base[self.count + 1] = Self.base64Digit(word >> 12)
        self.base[self.count + 2] = rest == 2 ? Self.base64Digit(word >> 6) : UInt8(ascii: "=")
        self.base[self.count + 3] = UInt8(ascii: "=")
        self.count += 4
    }

    // Tables as static strings: their bytes are constants, with no lazy initialisation or
    // reference counting on each use (as a `static let` array has).
    private static let hexTable: StaticString = "0123456789abcdef"
    private static let hexPairs: StaticString = """
        000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f\
        303132333435363738393a3b3c3d3e3f404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f\
        606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f808182838485868788898a8b8c8d8e8f\
        909192939495969798999a9b9c9d9e9fa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf\
        c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef\
        f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff
        """
    private static let base64Table: StaticString = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

    @inline(__always)
    private static func hexDigit(_ value: some BinaryInteger) -> UInt8 { Self.hexTable.utf8Start[Int(truncatingIfNeeded: value) & 0xF] }
    @inline(__always)
    private static func base64Digit(_ value: UInt32) -> UInt8 { Self.base64Table.utf8Start[Int(value & 0x3F)] }
}
