import Foundation

/// An event id as two 64-bit words: cheap to compare, hash and sort.
struct EventKey: Hashable, Sendable, Comparable {
    /// The first eight bytes of the UUID, big-endian (so `<` is byte order).
    let high: UInt64
    /// The last eight bytes, big-endian.
    let low: UInt64

    init(_ id: UUID) {
        let words = withUnsafeBytes(of: id.uuid) { bytes in
            (bytes.loadUnaligned(as: UInt64.self), bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        }
        self.high = UInt64(bigEndian: words.0)
        self.low = UInt64(bigEndian: words.1)
    }

    var uuid: UUID {
        let words = (self.high.bigEndian, self.low.bigEndian)
        return UUID(uuid: withUnsafeBytes(of: words) { $0.loadUnaligned(as: uuid_t.self) })
    }

    static func < (lhs: EventKey, rhs: EventKey) -> Bool {
        lhs.high != rhs.high ? lhs.high < rhs.high : lhs.low < rhs.low
    }
}

/// Event id → log position, open addressing with linear probing.
///
/// The commit path looks up and inserts every event id several times (the request, the
/// batch, the tail); a general `Dictionary<UUID, _>` spent a quarter of the commit time in
/// SipHash. Ids are chosen by clients, so the hash mixes both words with a per-process
/// random seed: colliding ids cannot be crafted without it. Positions are never 0, which
/// marks an empty slot.
struct EventIDTable: Sendable {
    private static let seed = (UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max))

    /// One slot per cache-line third: a probe touches one line, not three arrays.
    private struct Slot {
        var high: UInt64 = 0
        var low: UInt64 = 0
        /// 0: empty.
        var position: UInt64 = 0
    }

    private var slots: [Slot]
    private var mask: Int
    private(set) var count = 0

    init(minimumCapacity: Int = 16) {
        var size = 16
        while size < minimumCapacity * 2 { size <<= 1 }
        self.slots = [Slot](repeating: Slot(), count: size)
        self.mask = size - 1
    }

    var isEmpty: Bool { self.count == 0 }

    /// The position stored for `key`, or `nil`.
    subscript(key: EventKey) -> UInt64? {
        self.slots.withUnsafeBufferPointer { slots in
            var index = self.home(key)
            while true {
                let slot = slots[index]
                if slot.position == 0 { return nil }
                if slot.high == key.high && slot.low == key.low { return slot.position }
                index = (index + 1) & self.mask
            }
        }
    }

    /// Reads the home slot of `key` (one cache line) and returns what it holds there, to read
    /// ahead of a lookup.
    func warm(_ key: EventKey) -> UInt64 {
        self.slots.withUnsafeBufferPointer { $0[self.home(key)].position }
    }

    /// Stores `position` for `key`; returns `false` (and changes nothing) if `key` is present.
    @discardableResult
    mutating func insert(_ key: EventKey, position: UInt64) -> Bool {
        precondition(position != 0, "position 0 marks an empty slot")
        if (self.count + 1) * 4 > (self.mask + 1) * 3 { self.grow() }
        let mask = self.mask
        var index = self.home(key)
        let inserted = self.slots.withUnsafeMutableBufferPointer { slots in
            while slots[index].position != 0 {
                if slots[index].high == key.high && slots[index].low == key.low { return false }
                index = (index + 1) & mask
            }
            slots[index] = Slot(high: key.high, low: key.low, position: position)
            return true
        }
        if inserted { self.count += 1 }
        return inserted
    }

    /// Inserts every key (position 1); `false` as soon as one is already present.
    mutating func insertAll(_ keys: [EventKey]) -> Bool {
        for key in keys where !self.insert(key, position: 1) { return false }
        return true
    }

    /// Removes `key` if present (backward-shift deletion: no tombstones).
    mutating func remove(_ key: EventKey) {
        let mask = self.mask
        var hole = self.home(key)
        let removed = self.slots.withUnsafeMutableBufferPointer { slots in
            while true {
                if slots[hole].position == 0 { return false }
                if slots[hole].high == key.high && slots[hole].low == key.low { break }
                hole = (hole + 1) & mask
            }
            var next = (hole + 1) & mask
            while slots[next].position != 0 {
                let home = Self.home(EventKey(high: slots[next].high, low: slots[next].low), mask: mask)
                // Move the entry back into the hole unless its home lies cyclically in (hole, next].
                if (next - home) & mask >= (next - hole) & mask {
                    slots[hole] = slots[next]
                    hole = next
                }
                next = (next + 1) & mask
            }
            slots[hole].position = 0
            return true
        }
        if removed { self.count -= 1 }
    }

    /// Empties the table, keeping its storage.
    mutating func removeAll() {
        guard self.count > 0 else { return }
        self.slots.withUnsafeMutableBufferPointer { slots in
            for index in slots.indices { slots[index].position = 0 }
        }
        self.count = 0
    }

    private func home(_ key: EventKey) -> Int { Self.home(key, mask: self.mask) }

    private static func home(_ key: EventKey, mask: Int) -> Int {
        let mixed = mix64(key.high ^ Self.seed.0) &+ mix64(key.low ^ Self.seed.1)
        return Int(truncatingIfNeeded: mixed) & mask
    }

    private mutating func grow() {
        var bigger = EventIDTable(minimumCapacity: self.mask + 1)
        for slot in self.slots where slot.position != 0 {
            bigger.insert(EventKey(high: slot.high, low: slot.low), position: slot.position)
        }
        self = bigger
    }
}

extension EventKey {
    init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }
}

/// SplitMix64's finalizer: a bijection on 64 bits with full avalanche.
@inline(__always)
func mix64(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
