/// An open-addressing table from a ``DomainID``'s hash to a slot number, eight bytes a
/// bucket, for ``TransferTable`` and ``AccountTable``: the ids themselves stay in the table's items, where a
/// candidate slot is checked.
///
/// Each bucket packs the upper 32 bits of the id's keyed hash (``DomainID/hashWord``) with
/// the slot plus one (zero: empty). The hash bits both place the bucket and tell most
/// candidates apart without reading an item; growth re-places buckets from those bits alone,
/// so it never reads an id. At most half the buckets are used (linear probing, a miss probes
/// about two or three buckets, all in one cache line most of the time).
///
/// As `[DomainID: Int]` the same index took 32 bytes a bucket at three quarters full: at a
/// million transfers each growth wrote 64 MB of new memory, and the write model's growth was
/// a tenth of a commit's time (mostly the kernel clearing fresh pages).
struct SlotIndex: Sendable {
    private var buckets: [UInt64] = []
    /// Used buckets.
    private(set) var count = 0

    /// The most slots it can number (a bucket keeps 32 bits of slot).
    static let slotsMax = Int(UInt32.max) - 1

    init() {}

    /// The slot whose id is `id`, asking `matches` about each candidate slot.
    @inline(__always)
    func slot(for id: DomainID, matches: (Int) -> Bool) -> Int? {
        guard !self.buckets.isEmpty else { return nil }
        let tag = Self.tag(id)
        let mask = self.buckets.count - 1
        var position = Int(tag) & mask
        while true {
            let bucket = self.buckets[position]
            if bucket == 0 { return nil }
            if UInt32(truncatingIfNeeded: bucket >> 32) == tag {
                let slot = Int(UInt32(truncatingIfNeeded: bucket)) - 1
                if matches(slot) { return slot }
            }
            position = (position + 1) & mask
        }
    }

    /// The slot its home bucket names if that bucket's tag is the one of `hashWord` (a
    /// ``DomainID/hashWord``), else `nil`: one read, to read ahead (a later lookup checks).
    @inline(__always)
    func candidate(_ hashWord: UInt64) -> Int? {
        guard !self.buckets.isEmpty else { return nil }
        let tag = UInt32(truncatingIfNeeded: hashWord >> 32)
        let bucket = self.buckets[Int(tag) & (self.buckets.count - 1)]
        guard bucket != 0, UInt32(truncatingIfNeeded: bucket >> 32) == tag else { return nil }
        return Int(UInt32(truncatingIfNeeded: bucket)) - 1
    }

    /// Numbers `id` with `slot`, unless `matches` says a candidate slot already holds `id`
    /// (then returns `false`: ids are unique).
    @inline(__always)
    mutating func insert(_ id: DomainID, slot: Int, matches: (Int) -> Bool) -> Bool {
        precondition(slot >= 0 && slot < Self.slotsMax, "a table holds at most \(Self.slotsMax) ids")
        if (self.count + 1) * 2 > self.buckets.count { self.grow(to: Swift.max(16, self.buckets.count * 2)) }
        let tag = Self.tag(id)
        let mask = self.buckets.count - 1
        var position = Int(tag) & mask
        while self.buckets[position] != 0 {
            let bucket = self.buckets[position]
            if UInt32(truncatingIfNeeded: bucket >> 32) == tag && matches(Int(UInt32(truncatingIfNeeded: bucket)) - 1) { return false }
            position = (position + 1) & mask
        }
        self.buckets[position] = UInt64(tag) << 32 | UInt64(slot + 1)
        self.count += 1
        return true
    }

    /// Renumbers `id` (found at `old`) to `new`.
    mutating func renumber(_ id: DomainID, from old: Int, to new: Int) {
        guard let position = self.position(of: id, slot: old) else { preconditionFailure("slot \(old) is not indexed") }
        self.buckets[position] = UInt64(Self.tag(id)) << 32 | UInt64(new + 1)
    }

    /// Forgets `id`, found at `slot`.
    mutating func remove(_ id: DomainID, slot: Int) {
        guard var hole = self.position(of: id, slot: slot) else { preconditionFailure("slot \(slot) is not indexed") }
        // Backward-shift deletion: later buckets of the probe run move into the hole when
        // their home position does not lie after it, so no probe ever stops early.
        let mask = self.buckets.count - 1
        var next = (hole + 1) & mask
        while self.buckets[next] != 0 {
            let home = Int(UInt32(truncatingIfNeeded: self.buckets[next] >> 32)) & mask
            if (next - home) & mask >= (next - hole) & mask {
                self.buckets[hole] = self.buckets[next]
                hole = next
            }
            next = (next + 1) & mask
        }
        self.buckets[hole] = 0
        self.count -= 1
    }

    /// Makes room for `capacity` ids without growing.
    mutating func reserveCapacity(_ capacity: Int) {
        var size = Swift.max(16, self.buckets.count)
        while size < capacity * 2 { size *= 2 }
        if size > self.buckets.count { self.grow(to: size) }
    }

    /// Forgets every id; keeps the buckets if `keepingCapacity`.
    mutating func removeAll(keepingCapacity: Bool) {
        if keepingCapacity {
            for position in self.buckets.indices { self.buckets[position] = 0 }
        } else {
            self.buckets = []
        }
        self.count = 0
    }

    private func position(of id: DomainID, slot: Int) -> Int? {
        guard !self.buckets.isEmpty else { return nil }
        let wanted = UInt64(Self.tag(id)) << 32 | UInt64(slot + 1)
        let mask = self.buckets.count - 1
        var position = Int(Self.tag(id)) & mask
        while self.buckets[position] != 0 {
            if self.buckets[position] == wanted { return position }
            position = (position + 1) & mask
        }
        return nil
    }

    private mutating func grow(to size: Int) {
        var grown = [UInt64](repeating: 0, count: size)
        for bucket in self.buckets where bucket != 0 { Self.place(bucket, in: &grown) }
        self.buckets = grown
    }

    private static func place(_ bucket: UInt64, in buckets: inout [UInt64]) {
        let mask = buckets.count - 1
        var position = Int(UInt32(truncatingIfNeeded: bucket >> 32)) & mask
        while buckets[position] != 0 { position = (position + 1) & mask }
        buckets[position] = bucket
    }

    @inline(__always)
    private static func tag(_ id: DomainID) -> UInt32 { UInt32(truncatingIfNeeded: id.hashWord >> 32) }
}
