/// How to open an LMDB ``Environment``. Every durability-relevant option is explicit.
public struct EnvironmentConfiguration: Sendable, Equatable {
    /// The size of the memory map in bytes: the most the environment can ever hold.
    ///
    /// LMDB reserves address space, not disk: a large map costs nothing until used. Tally
    /// never grows a map under live transactions; reopen with a larger size instead.
    public var mapSizeBytes: Int
    /// How many named databases the environment may hold.
    public var databasesMax: Int
    /// How many concurrent read transactions (across all processes) it allows.
    public var readersMax: Int
    /// Open read-only: no write transactions, and no data-directory lock is needed.
    public var readOnly: Bool
    /// Skip fsync on commit. Never for real data: only benchmarks that say so use it.
    public var unsafeNoSync: Bool
    /// Flush once per commit instead of twice (`MDB_NOMETASYNC`): the meta page is written but
    /// not flushed, so a system crash may undo the last commit, never tear it. For derived
    /// state that can be rebuilt from the log (the views), never for the log itself.
    public var derivedNoMetaSync: Bool
    /// Open without LMDB's lock file (`MDB_NOLOCK`): only for read-only opens of a copy that
    /// no process writes (a backup being verified), so checking it leaves no `lock.mdb` behind.
    public var noLock: Bool

    /// Creates a configuration.
    ///
    /// - Parameters:
    ///   - mapSizeBytes: the map size; see ``mapSizeBytes``.
    ///   - databasesMax: the number of named databases.
    ///   - readersMax: the number of reader slots.
    ///   - readOnly: whether to open read-only.
    ///   - unsafeNoSync: whether to skip fsync on commit (benchmarks only).
    ///   - derivedNoMetaSync: whether to flush once a commit (rebuildable views only).
    ///   - noLock: whether to open without a lock file (read-only copies only).
    public init(
        mapSizeBytes: Int,
        databasesMax: Int,
        readersMax: Int = 512,
        readOnly: Bool,
        unsafeNoSync: Bool = false,
        derivedNoMetaSync: Bool = false,
        noLock: Bool = false
    ) {
        precondition(!noLock || readOnly, "only a read-only environment may be opened without a lock file")
        precondition(mapSizeBytes > 0, "map size must be positive")
        precondition(databasesMax > 0 && databasesMax < 1_000, "databasesMax out of range")
        self.mapSizeBytes = mapSizeBytes
        self.databasesMax = databasesMax
        self.readersMax = readersMax
        self.readOnly = readOnly
        self.unsafeNoSync = unsafeNoSync
        self.derivedNoMetaSync = derivedNoMetaSync
        self.noLock = noLock
    }
}
