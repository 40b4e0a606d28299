public import Foundation

extension UUID {
    /// A new version 7 UUID (RFC 9562 §5.7): 48 bits of Unix milliseconds, 12 bits of the
    /// sub-millisecond time, then 62 random bits.
    ///
    /// The default event id. Ids made later sort later, so the log's `ids` index grows at its
    /// right edge instead of touching a random page per event. The random bits come from the
    /// kernel's CSPRNG 4 KiB at a time (``RandomPool``): one `read` of `/dev/urandom` per 512 ids
    /// instead of a `getrandom` call per id (a `tally append --file` of 1 M lines spent ~2% in the call).
    public static func timeOrdered() -> UUID {
        var clock = timespec()
        clock_gettime(CLOCK_REALTIME, &clock)
        let milliseconds = UInt64(clock.tv_sec) &* 1_000 &+ UInt64(clock.tv_nsec / 1_000_000)
        // The fraction of the millisecond in 1/4096ths (RFC 9562 §6.2, method 3).
        let fraction = UInt64((clock.tv_nsec % 1_000_000) * 4_096 / 1_000_000)
        let high = (milliseconds << 16) | 0x7000 | (fraction & 0x0FFF)
        let low = (RandomPool.shared.next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
        return UUID(high: high, low: low)
    }

    private init(high: UInt64, low: UInt64) {
        func byte(_ word: UInt64, _ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: word >> (56 - 8 * index)) }
        self.init(
            uuid: (
                byte(high, 0), byte(high, 1), byte(high, 2), byte(high, 3), byte(high, 4), byte(high, 5), byte(high, 6), byte(high, 7),
                byte(low, 0), byte(low, 1), byte(low, 2), byte(low, 3), byte(low, 4), byte(low, 5), byte(low, 6), byte(low, 7)
            ))
    }
}
