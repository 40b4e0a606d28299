/// How to open an ``EventLog``.
public struct LogConfiguration: Sendable {
    /// Whether an acknowledged append is on disk.
    public enum Durability: Sendable, Equatable {
        /// fsync before acknowledging (the default; the only mode for real data).
        case durable
        /// Skip fsync: a crash may lose acknowledged appends. Benchmarks and tests only.
        case unsafeNoSync
    }

    /// The LMDB map size in bytes: the most the log can hold. Appends stop at
    /// ``Limits/mapSoftLimitPercent`` of it with `ledger_full`.
    public var mapSizeBytes: Int
    /// Open without writing: no lock taken, appends refused with `read_only`.
    public var readOnly: Bool
    /// See ``Durability``.
    public var durability: Durability
    /// Events kept in memory past the index checkpoint before the indexer persists them.
    public var tailEventsMax: Int
    /// Create the data directory when it does not exist.
    public var createIfMissing: Bool
    /// Stream-id prefixes that ``EventLog/append(_:)`` refuses (`reserved_stream`); only
    /// ``EventLog/withinCommit(_:)`` writes there. The ledger reserves its domain's streams.
    public var reservedStreamPrefixes: [String] = []
    /// Open a read-only copy without LMDB's lock file (a backup that no process writes), so
    /// that checking it adds no file to it. Requires ``readOnly``.
    public var noLock = false

    /// The default map size: 64 GiB of address space (disk is used only as the log grows).
    public static let defaultMapSizeBytes = 64 << 30

    /// Creates a configuration.
    public init(
        mapSizeBytes: Int = LogConfiguration.defaultMapSizeBytes,
        readOnly: Bool = false,
        durability: Durability = .durable,
        tailEventsMax: Int = Limits.tailEventsMax,
        createIfMissing: Bool = false,
        noLock: Bool = false
    ) {
        precondition(tailEventsMax > 0, "tailEventsMax must be positive")
        self.mapSizeBytes = mapSizeBytes
        self.readOnly = readOnly
        self.durability = durability
        self.tailEventsMax = tailEventsMax
        self.createIfMissing = createIfMissing
        self.noLock = noLock
    }
}
