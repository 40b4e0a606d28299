/// Word-at-a-time tests on eight bytes of JSON text (SWAR). A mask flags each byte a test
/// matches in its high bit; borrows can flag bytes after a real match too, so only the lowest
/// flagged byte is exact, which is all the scans use.
package enum JSONBytes {
    @inlinable static var ones: UInt64 { 0x0101_0101_0101_0101 }
    @inlinable static var highs: UInt64 { 0x8080_8080_8080_8080 }

    /// Whether some byte is zero.
    @inlinable @inline(__always)
    package static func hasZero(_ word: UInt64) -> Bool {
        Self.zeroMask(word) != 0
    }

    /// The bytes a JSON string writer or reader must look at: control characters, `"`, `\`
    /// and bytes outside ASCII. Byte *i* of the text is bit `8 * i + 7` of the mask.
    @inlinable @inline(__always)
    package static func escapeMask(_ word: UInt64) -> UInt64 {
        // A byte below 0x20 borrows (high bit set), one at or above 0x80 has it already.
        let outside = ((word &- Self.ones &* 0x20) | word) & Self.highs
        return outside | Self.zeroMask(word ^ (Self.ones &* 0x22)) | Self.zeroMask(word ^ (Self.ones &* 0x5C))
    }

    /// Whether none of the 16 bytes at `base + index` needs a look (see ``escapeMask(_:)``);
    /// the caller makes sure 16 are there. Long plain runs (most payloads, ids, types) go
    /// 16 bytes a step in one vector register: the word masks' tests lane by lane, where no
    /// borrow crosses a byte (compiles to a dozen SSE2 instructions; the vector compare
    /// operators compiled to a loop over the lanes, five times slower than the word masks).
    @inlinable @inline(__always)
    package static func isPlain16(_ base: UnsafeRawPointer, at index: Int) -> Bool {
        typealias Bytes = SIMD16<UInt8>
        let bytes = base.loadUnaligned(fromByteOffset: index, as: Bytes.self)
        let quote: Bytes = bytes ^ Bytes(repeating: 0x22)
        let backslash: Bytes = bytes ^ Bytes(repeating: 0x5C)
        let outside: Bytes = (bytes &- Bytes(repeating: 0x20)) | bytes  // below 0x20 (wraps) or from 0x80 on
        let quotes: Bytes = (quote &- Bytes(repeating: 1)) & ~quote  // high bit where the byte is 0x22
        let backslashes: Bytes = (backslash &- Bytes(repeating: 1)) & ~backslash
        let flagged: Bytes = (outside | quotes | backslashes) & Bytes(repeating: 0x80)
        let words = unsafeBitCast(flagged, to: SIMD2<UInt64>.self)
        return words[0] | words[1] == 0
    }

    /// Whether some byte needs a look (see ``escapeMask(_:)``).
    @inlinable @inline(__always)
    package static func mayNeedEscape(_ word: UInt64) -> Bool { Self.escapeMask(word) != 0 }

    /// How many bytes come before the first one a mask flags: 8 when it flags none.
    @inlinable @inline(__always)
    package static func plainPrefix(_ mask: UInt64) -> Int { mask.trailingZeroBitCount >> 3 }

    /// Whether some byte is outside ASCII.
    @inlinable @inline(__always)
    package static func hasHigh(_ word: UInt64) -> Bool { word & Self.highs != 0 }

    /// Eight bytes of text from `index` as a word whose lowest byte is the first, whatever the
    /// machine's byte order. Fewer than eight left are padded with `A`, which no test flags;
    /// they are put together in a register (the last eight bytes of the text, shifted, when
    /// there are eight): copying them into a padded word in memory and loading that stalled
    /// on the store (the short tail of every stream id, type and metadata value went that way).
    @inlinable @inline(__always)
    package static func word(_ base: UnsafeRawPointer, at index: Int, count: Int) -> UInt64 {
        let left = count - index
        if left >= 8 {
            return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
        }
        let padding: UInt64 = 0x4141_4141_4141_4141
        if count >= 8 {
            // The word ending at the text's end, moved down past the bytes already done.
            let last = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
            let shift = UInt64(8 * (8 - left))
            return (last >> shift) | (padding << (64 - shift))
        }
        var word = padding
        for offset in 0..<left {
            let shift = UInt64(8 * offset)
            word = (word & ~(0xFF << shift)) | (UInt64(base.load(fromByteOffset: index + offset, as: UInt8.self)) << shift)
        }
        return word
    }

    @inlinable @inline(__always)
    static func zeroMask(_ word: UInt64) -> UInt64 { (word &- Self.ones) & ~word & Self.highs }
}
