import TallyChecksum

/// A stream id with its hash, computed once where an append is prepared (in the caller's
/// task), so that the writer thread's tables (the batch's heads, the tail index, the head
/// cache) place a stream without hashing its bytes again, several times an event.
///
/// The hash is XXH3 keyed per process: stream ids come from clients, and an unkeyed hash
/// would let one choose ids that all land in one bucket. It is never stored.
struct StreamKey: Hashable, Sendable, CustomStringConvertible {
    /// The stream id.
    let id: String
    private let keyedHash: UInt64

    private static let seed = UInt64.random(in: .min ... .max)

    init(_ id: String) {
        var id = id
        self.keyedHash = id.withUTF8 { XXH3.hash(UnsafeRawBufferPointer($0), seed: Self.seed) }
        self.id = id
    }

    var description: String { self.id }

    static func == (lhs: StreamKey, rhs: StreamKey) -> Bool { lhs.keyedHash == rhs.keyedHash && lhs.id == rhs.id }

    func hash(into hasher: inout Hasher) { hasher.combine(self.keyedHash) }

    /// What Swift's tables call to place a key: the hash made once, mixed with the table's
    /// seed, without a `Hasher` (whose setup and finish cost more than the rest of a lookup).
    func _rawHashValue(seed: Int) -> Int {
        let product = (self.keyedHash ^ UInt64(truncatingIfNeeded: seed)).multipliedFullWidth(by: 0x9E37_79B9_7F4A_7C15)
        return Int(truncatingIfNeeded: product.high ^ product.low)
    }
}
