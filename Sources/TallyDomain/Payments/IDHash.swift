/// The hash a ``DomainID`` computes once, when it is made, so that the write model's tables
/// hash an id in a few instructions instead of running `Hasher` over its bytes every time.
///
/// Keyed per process (ids are chosen by clients, so an unkeyed hash would let one pick ids
/// that all land in one bucket): each 8-byte word is mixed with a 64×64→128-bit multiply,
/// as wyhash does. Not a checksum and never stored: it differs between runs.
enum IDHash {
    /// The process's keys.
    private static let keys = (UInt64.random(in: .min ... .max) | 1, UInt64.random(in: .min ... .max) | 1)

    /// The keyed hash of `bytes` (at most ``DomainID/bytesMax`` bytes, not checked).
    static func hash(_ bytes: String.UTF8View) -> UInt64 {
        let (first, second) = Self.keys
        var state = first ^ UInt64(truncatingIfNeeded: bytes.count)
        var word: UInt64 = 0
        var filled = 0
        for byte in bytes {
            word |= UInt64(byte) << (8 * UInt64(filled))
            filled += 1
            if filled == 8 {
                state = Self.mix(state ^ word, second)
                word = 0
                filled = 0
            }
        }
        return Self.mix(state ^ word ^ UInt64(filled), second)
    }

    /// A seed of a Swift table mixed into a hash (each table instance has its own seed).
    static func seeded(_ hash: UInt64, _ seed: Int) -> Int {
        Int(truncatingIfNeeded: Self.mix(hash ^ UInt64(truncatingIfNeeded: seed), Self.keys.1))
    }

    /// The two halves of `a × b` folded together.
    @inline(__always)
    private static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }
}
