/// The readers of backup files, callable by the fuzz targets (`Sources/TallyFuzz`). Not
/// API: the `Fuzzing` SPI may change with any release.
@_spi(Fuzzing) public enum RecoveryFuzzing {
    /// Reads the log segment at `path` to its end the way `tally restore` does, checking
    /// its header, every frame and its trailer. Returns the number of items (records and
    /// seals) read; throws the ``RecoveryError`` naming the damage.
    public static func readSegment(atPath path: String) throws -> Int {
        let reader = try SegmentReader(path: path)
        var count = 0
        while true {
            let items = try reader.next(limit: 1_000)
            if items.isEmpty { break }
            count += items.count
        }
        precondition(reader.finished, "the segment reader stopped before the trailer without an error")
        return count
    }
}
