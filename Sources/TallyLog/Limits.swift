/// Every bound of the log, in one place. `LimitsTests` checks how they relate.
public enum Limits {
    /// The largest event payload, in bytes.
    public static let payloadBytesMax = 1 << 20
    /// The longest stream id, in UTF-8 bytes.
    public static let streamIDBytesMax = 200
    /// The longest event type, in bytes.
    public static let typeBytesMax = 128
    /// The largest encoded metadata of one event, in bytes.
    public static let metadataBytesMax = 16 << 10
    /// The most metadata entries of one event.
    public static let metadataEntriesMax = 256
    /// The most events in one append call (over all its streams).
    public static let appendEventsMax = 10_000
    /// The most streams in one atomic append call.
    public static let appendStreamsMax = 10_000
    /// The largest encoded record, in bytes.
    public static let recordBytesMax =
        RecordLayout.headerBytes + streamIDBytesMax + typeBytesMax + metadataBytesMax + payloadBytesMax
        + RecordLayout.trailerBytes
    /// The most events the committer gathers into one write transaction (one fsync).
    public static let batchEventsMax = 20_000
    /// The most record bytes the committer gathers into one write transaction.
    public static let batchBytesMax = 64 << 20
    /// How many events past the index checkpoint are kept in memory before the indexer
    /// persists them (bounds memory and the replay on open).
    public static let tailEventsMax = 200_000
    /// The most index entries the indexer writes in one transaction (bounds the pause it
    /// adds to the commit path). It writes at most half the tail, so the newest events'
    /// entries stay in memory.
    public static let indexFlushEventsMax = 100_000
    /// The largest run the indexer builds by merging two `ids` runs (bounds the pause a
    /// merge adds to the commit path: about a second per million entries).
    public static let idRunMergeEntriesMax = 1_000_000
    /// How many `ids` runs of similar size one merge combines.
    public static let idRunMergeFanIn = 8
    /// Closing a writable log persists its index tail when it holds at least this many
    /// events, so the next open does not replay them.
    public static let closeCheckpointEventsMin = 10_000
    /// The most events one read returns.
    public static let readEventsMax = 10_000
    /// The most events a subscription reads ahead of its consumer.
    public static let subscriptionBufferEventsMax = 512
    /// The share of the map appends may fill before they are refused with `ledger_full`;
    /// the rest is headroom for the indexer and LMDB's copy-on-write pages.
    public static let mapSoftLimitPercent = 85
}

extension Limits {
    /// The most record bytes in one append call.
    public static let appendBytesMax = 32 << 20
    /// How many stream heads the committer caches before it starts over (bounds memory).
    public static let headCacheStreamsMax = 1_000_000
}
