/// Sizes of an open environment, from `mdb_env_info` and `mdb_env_stat`.
public struct EnvironmentInfo: Sendable, Equatable {
    /// The size of the map in bytes.
    public var mapSizeBytes: Int
    /// The page size in bytes.
    public var pageSizeBytes: Int
    /// The highest page number in use (pages are numbered from 0).
    public var lastPageNumber: Int
    /// The last committed transaction id.
    public var lastTransactionID: Int
    /// Reader slots in use.
    public var readersUsed: Int

    /// Bytes of the map in use: pages up to and including the last one.
    public var usedBytes: Int { (self.lastPageNumber + 1) * self.pageSizeBytes }
}
