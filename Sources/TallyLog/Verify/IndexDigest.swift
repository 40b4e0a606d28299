/// Order-independent digests of index entries: the wrapping sum of a 64-bit hash per entry,
/// and the count. Two multisets of entries with equal digests are equal but for a 2^-64
/// chance; the index is derived data, so accidents are what it guards against.
struct IndexDigest: Sendable {
    struct Part: Equatable, Sendable {
        var sum: UInt64 = 0
        var count: UInt64 = 0
    }

    var streams = Part()
    var ids = Part()

    mutating func addStream(_ streamHash: UInt64, version: UInt64, position: UInt64) {
        self.streams.sum &+= mix64(streamHash ^ mix64(version &+ 0x632B_E59B_D9B4_E019) ^ mix64(position))
        self.streams.count += 1
    }

    /// Adds the entries of another digest (the digests are sums, so parts combine).
    mutating func add(_ other: IndexDigest) {
        self.streams.sum &+= other.streams.sum
        self.streams.count += other.streams.count
        self.ids.sum &+= other.ids.sum
        self.ids.count += other.ids.count
    }

    mutating func addID(_ id: UnsafeRawBufferPointer, position: UInt64) {
        let high = id.loadUnaligned(as: UInt64.self)
        let low = id.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        self.ids.sum &+= mix64(mix64(high ^ 0x8CB9_2BA7_2F3D_8DD7) &+ low ^ mix64(position ^ 0x1B87_3593))
        self.ids.count += 1
    }
}
