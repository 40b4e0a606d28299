/// A scalable Bloom filter over 64-bit hashes: "certainly absent" or "maybe present".
///
/// The committer asks it before looking up an event id or a stream in the persisted index:
/// new ids and new streams (the common case) then cost no B-tree descent. It grows by
/// adding stages of four times the capacity, so it never needs the keys again; about 10 bits and
/// 1% false positives per key. Blocked: a key's seven bits lie in one 64-byte block, so a
/// stage costs one cache miss where seven scattered bits cost about two (a new key is
/// usually refused by its second bit), and a new key asks every stage. A false positive costs one lookup; there are no false
/// negatives, which is what idempotency needs: every persisted key is inserted before the
/// tail entry that covered it is dropped.
struct BloomFilter: Sendable {
    /// One stage: blocks of 512 bits (a cache line each), a key's bits all in one block.
    private struct Stage: Sendable {
        /// The blocks, plus one block of room so that they can start on a 64-byte boundary.
        var words: [UInt64]
        let blockMask: UInt64
        let capacity: Int
        var count = 0

        init(capacity: Int) {
            var blocks = 1
            while blocks * 512 < capacity * 10 { blocks <<= 1 }
            self.words = [UInt64](repeating: 0, count: (blocks + 1) * 8)
            self.blockMask = UInt64(blocks - 1)
            self.capacity = capacity
        }

        /// Calls `body` with the words of the block `hash` falls in.
        @inline(__always)
        func withBlock<T>(_ hash: UInt64, _ body: (UnsafePointer<UInt64>) -> T) -> T {
            self.words.withUnsafeBufferPointer { words in
                guard let base = words.baseAddress else { preconditionFailure("a stage has words") }
                let skew = (8 - (Int(bitPattern: base) >> 3) & 7) & 7
                return body(base + skew + Int(hash & self.blockMask) * 8)
            }
        }

        @inline(__always)
        mutating func withMutableBlock(_ hash: UInt64, _ body: (UnsafeMutablePointer<UInt64>) -> Void) {
            let blockMask = self.blockMask
            self.words.withUnsafeMutableBufferPointer { words in
                guard let base = words.baseAddress else { preconditionFailure("a stage has words") }
                let skew = (8 - (Int(bitPattern: base) >> 3) & 7) & 7
                body(base + skew + Int(hash & blockMask) * 8)
            }
        }
    }

    private static let probes = 7
    /// Keys the first stage holds: a new key asks every stage (a cache miss each), so the
    /// first holds half a million and each next one four times the last (three stages for
    /// 10 M keys, where doubling from 65,536 took eight).
    static let initialCapacityDefault = 1 << 19
    private var stages: [Stage]

    /// Keys inserted.
    private(set) var count = 0

    /// A filter whose first stage holds `initialCapacity` keys (640 KB at the default).
    init(initialCapacity: Int = Self.initialCapacityDefault) {
        self.stages = [Stage(capacity: max(64, initialCapacity))]
    }

    /// Adds a key's hash.
    mutating func insert(_ hash: UInt64) {
        if let last = self.stages.last, last.count >= last.capacity {
            self.stages.append(Stage(capacity: last.capacity * 4))
        }
        let index = self.stages.count - 1
        let bits = Self.bits(hash)
        self.stages[index].withMutableBlock(hash) { block in
            for probe in 0..<Self.probes {
                let bit = (bits >> (9 * UInt64(probe))) & 511
                block[Int(bit >> 6)] |= 1 << (bit & 63)
            }
        }
        self.stages[index].count += 1
        self.count += 1
    }

    /// Reads the block `hash` falls in, in every stage, and returns a word of each summed:
    /// to read ahead of ``mayContain(_:)``.
    func warm(_ hash: UInt64) -> UInt64 {
        var read: UInt64 = 0
        for stage in self.stages where stage.count > 0 { read &+= stage.withBlock(hash) { $0[0] } }
        return read
    }

    /// `false`: the key was certainly never inserted.
    func mayContain(_ hash: UInt64) -> Bool {
        let bits = Self.bits(hash)
        for stage in self.stages where stage.count > 0 {
            let hit = stage.withBlock(hash) { block in
                for probe in 0..<Self.probes {
                    let bit = (bits >> (9 * UInt64(probe))) & 511
                    if block[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
                }
                return true
            }
            if hit { return true }
        }
        return false
    }

    /// The bits a key sets in its block: seven 9-bit fields of a second hash (the block is
    /// chosen by the low bits of the first).
    @inline(__always)
    private static func bits(_ hash: UInt64) -> UInt64 {
        mix64(hash ^ 0x5851_F42D_4C95_7F2D)
    }
}

extension EventKey {
    /// The key's hash for ``BloomFilter``. Not seeded: a crafted collision costs one lookup, nothing more.
    var bloomHash: UInt64 { mix64(self.high ^ 0x2545_F491_4F6C_DD1D) &+ mix64(self.low ^ 0x9E37_79B9_7F4A_7C15) }
}
