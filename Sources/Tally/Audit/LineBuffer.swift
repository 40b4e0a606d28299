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

    init(capacity: Int = 1 << 16) {
        self.capacity = max(capacity, 64)
        self.base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit { self.base.deallocate() }

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

    private mutating func grow(_ extra: Int) {
        let capacity = max(self.capacity * 2, self.count + extra)
        let base = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
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
        self.reserve(bytes.count)
        (self.base + self.count).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        self.count += bytes.count
    }

    mutating func put(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { self.put($0) }
    }

    mutating func put(_ text: String) {
        var text = text
        text.withUTF8 { self.put(UnsafeRawBufferPointer($0)) }
    }

    /// ``putQuoted(_:)-(UnsafeRawBufferPointer)`` of a string's UTF-8.
    mutating func putQuoted(_ text: String) {
        var text = text
        text.withUTF8 { _ = self.putQuoted(UnsafeRawBufferPointer($0)) }
    }

    /// 16 lowercase hex digits, as `xxhsum` prints a hash.
    mutating func putHex(_ value: UInt64) {
        self.reserve(16)
        for index in 0..<16 {
            self.base[self.count + index] = Self.hexDigits[Int((value >> UInt64(60 - 4 * index)) & 0xF)]
        }
        self.count += 16
    }

    /// Decimal digits.
    mutating func putDecimal(_ value: UInt64) {
        self.reserve(20)
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        var value = value
        for index in stride(from: self.count + digits - 1, through: self.count, by: -1) {
            self.base[index] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: value % 10)
            value /= 10
        }
        self.count += digits
    }

    /// A UUID's 16 bytes (RFC 4122 order) as 36 lowercase characters with dashes.
    mutating func putUUID(_ bytes: UnsafeRawBufferPointer) {
        self.reserve(36)
        var out = self.count
        for index in 0..<16 {
            if index == 4 || index == 6 || index == 8 || index == 10 {
                self.base[out] = UInt8(ascii: "-")
                out += 1
            }
            self.base[out] = Self.hexDigits[Int(bytes[index] >> 4)]
            self.base[out + 1] = Self.hexDigits[Int(bytes[index] & 0xF)]
            out += 2
        }
        self.count = out
    }

    /// `2026-11-22T07:40:01.123456789Z` (``RFC3339/format(nanoseconds:)``).
    mutating func putRFC3339(_ nanoseconds: UInt64) {
        self.reserve(RFC3339.length)
        RFC3339.write(nanoseconds: nanoseconds, into: self.base + self.count)
        self.count += RFC3339.length
    }

    /// A JSON string of UTF-8 bytes: quotes, backslashes and control characters escaped
    /// (controls as `\u00XX`), runs that need no escape copied whole. `false` (with the
    /// string written anyway) when the bytes are not UTF-8.
    @discardableResult
    mutating func putQuoted(_ bytes: UnsafeRawBufferPointer) -> Bool {
        self.put(UInt8(ascii: "\""))
        var start = 0
        var ascii = true
        for index in 0..<bytes.count {
            let byte = bytes[index]
            if byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") {
                if byte >= 0x80 { ascii = false }
                continue
            }
            self.put(UnsafeRawBufferPointer(rebasing: bytes[start..<index]))
            self.reserve(6)
            self.base[self.count] = UInt8(ascii: "\\")
            if byte < 0x20 {
                self.base[self.count + 1] = UInt8(ascii: "u")
                self.base[self.count + 2] = UInt8(ascii: "0")
                self.base[self.count + 3] = UInt8(ascii: "0")
                self.base[self.count + 4] = Self.hexDigits[Int(byte >> 4)]
                self.base[self.count + 5] = Self.hexDigits[Int(byte & 0xF)]
                self.count += 6
            } else {
                self.base[self.count + 1] = byte
                self.count += 2
            }
            start = index + 1
        }
        self.put(UnsafeRawBufferPointer(rebasing: bytes[start...]))
        self.put(UInt8(ascii: "\""))
        return ascii || String(validating: bytes.bindMemory(to: UInt8.self), as: UTF8.self) != nil
    }

    /// Standard base64 (RFC 4648, with padding).
    mutating func putBase64(_ bytes: UnsafeRawBufferPointer) {
        self.reserve((bytes.count + 2) / 3 * 4)
        var index = 0
        while index + 3 <= bytes.count {
            let word = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            for shift in 0..<4 { self.base[self.count + shift] = Self.base64Digits[Int((word >> UInt32(18 - 6 * shift)) & 0x3F)] }
            self.count += 4
            index += 3
        }
        let rest = bytes.count - index
        guard rest > 0 else { return }
        let word = UInt32(bytes[index]) << 16 | (rest == 2 ? UInt32(bytes[index + 1]) << 8 : 0)
        self.base[self.count] = Self.base64Digits[Int(word >> 18)]
        self.base[self.count + 1] = Self.base64Digits[Int((word >> 12) & 0x3F)]
        self.base[self.count + 2] = rest == 2 ? Self.base64Digits[Int((word >> 6) & 0x3F)] : UInt8(ascii: "=")
        self.base[self.count + 3] = UInt8(ascii: "=")
        self.count += 4
    }

    private static let hexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    private static let base64Digits: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
}
