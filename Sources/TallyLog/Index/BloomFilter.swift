/// A scalable Bloom filter over 64-bit hashes: "certainly absent" or "maybe present".
///
/// The committer asks it before looking up an event id or a stream in the persisted index:
/// new ids and new streams (the common case) then cost no B-tree descent. It grows by
/// adding stages of twice the capacity, so it never needs the keys again; about 10 bits and
/// 1% false positives per key. A false positive costs one lookup; there are no false
/// negatives, which is what idempotency needs: every persisted key is inserted before the
/// tail entry that covered it is dropped.
struct BloomFilter: Sendable {
    private struct Stage: Sendable {
        var words: [UInt64]
        let bitMask: UInt64
        let capacity: Int
        var count = 0

        init(capacity: Int) {
            var bits = 64
            while bits < capacity * 10 { bits <<= 1 }
            self.words = [UInt64](repeating: 0, count: bits / 64)
            self.bitMask = UInt64(bits - 1)
            self.capacity = capacity
        }
    }

    private static let probes = 7
    private var stages: [Stage]

    /// Keys inserted.
    private(set) var count = 0

    init(initialCapacity: Int = 1 << 16) {
        self.stages = [Stage(capacity: max(64, initialCapacity))]
    }

    /// Adds a key's hash.
    mutating func insert(_ hash: UInt64) {
        if let last = self.stages.last, last.count >= last.capacity {
            self.stages.append(Stage(capacity: last.capacity * 2))
        }
        let index = self.stages.count - 1
        let (h1, h2) = Self.split(hash)
        let mask = self.stages[index].bitMask
        self.stages[index].words.withUnsafeMutableBufferPointer { words in
            for probe in 0..<UInt64(Self.probes) {
                let bit = (h1 &+ probe &* h2) & mask
                words[Int(bit >> 6)] |= 1 << (bit & 63)
            }
        }
        self.stages[index].count += 1
        self.count += 1
    }

    /// `false`: the key was certainly never inserted.
    func mayContain(_ hash: UInt64) -> Bool {
        let (h1, h2) = Self.split(hash)
        for stage in self.stages where stage.count > 0 {
            let hit = stage.words.withUnsafeBufferPointer { words in
                for probe in 0..<UInt64(Self.probes) {
                    let bit = (h1 &+ probe &* h2) & stage.bitMask
                    if words[Int(bit >> 6)] & (1 << (bit & 63)) == 0 { return false }
                }
                return true
            }
            if hit { return true }
        }
        return false
    }

    /// Two hashes for double hashing (Kirsch–Mitzenmacher); the second is odd.
    private static func split(_ hash: UInt64) -> (UInt64, UInt64) {
        (hash, mix64(hash ^ 0x5851_F42D_4C95_7F2D) | 1)
    }
}

extension EventKey {
    /// The key's hash for ``BloomFilter``. Not seeded: a crafted collision costs one lookup, nothing more.
    var bloomHash: UInt64 { mix64(self.high ^ 0x2545_F491_4F6C_DD1D) &+ mix64(self.low ^ 0x9E37_79B9_7F4A_7C15) }
}
