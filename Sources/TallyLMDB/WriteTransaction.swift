internal import CLMDB

/// A read-write LMDB transaction. Commit it with ``commit()``; dropping it aborts.
///
/// `~Copyable` because LMDB frees the handle on commit and on abort: using it after
/// either is a compile-time error, not a double free. Begins and commits on the
/// environment's ``WriterThread`` only.
public struct WriteTransaction: ~Copyable {
    let handle: OpaquePointer
    // Unmanaged keeps the stored properties trivial so `discard self` works; the caller's
    // `Environment` outlives every transaction it begins (close() requires it).
    private let unmanagedEnvironment: Unmanaged<Environment>
    var environment: Environment { self.unmanagedEnvironment.takeUnretainedValue() }

    init(environment: Environment) throws(LMDBError) {
        try environment.checkOpen("mdb_txn_begin")
        var txn: OpaquePointer?
        try check(mdb_txn_begin(environment.handle, nil, 0, &txn), "mdb_txn_begin", path: environment.path)
        guard let txn else { throw LMDBError(code: .init(rawValue: 22), function: "mdb_txn_begin") }
        self.handle = txn
        self.unmanagedEnvironment = Unmanaged.passUnretained(environment)
    }

    /// Commits the transaction: makes it durable (fsync unless the environment is `unsafeNoSync`).
    ///
    /// - Throws: ``LMDBError`` when the commit or its fsync fails. LMDB has then freed the
    ///   handle; nothing of the transaction is visible, and the caller must not retry the
    ///   sync (a failed fsync may have dropped dirty pages).
    public consuming func commit() throws(LMDBError) {
        let handle = self.handle
        let path = self.environment.path
        discard self
        try check(mdb_txn_commit(handle), "mdb_txn_commit", path: path)
    }

    /// Aborts the transaction explicitly (dropping it does the same).
    public consuming func abort() {
        let handle = self.handle
        discard self
        mdb_txn_abort(handle)
    }

    deinit {
        mdb_txn_abort(self.handle)
    }

    /// Flags for ``put(_:key:value:flags:)``.
    public struct PutFlags: OptionSet, Sendable {
        /// The raw LMDB flags.
        public let rawValue: UInt32
        /// Creates flags from raw LMDB flags.
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// `MDB_APPEND`: the key sorts after every existing key (fast sequential load).
        public static var append: PutFlags { PutFlags(rawValue: UInt32(MDB_APPEND)) }
        /// `MDB_NOOVERWRITE`: fail with `keyExists` when the key is present.
        public static var noOverwrite: PutFlags { PutFlags(rawValue: UInt32(MDB_NOOVERWRITE)) }
    }

    /// Stores `value` under `key`.
    public func put(
        _ database: Database,
        key: UnsafeRawBufferPointer,
        value: UnsafeRawBufferPointer,
        flags: PutFlags
    ) throws(LMDBError) {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: value.count, mv_data: UnsafeMutableRawPointer(mutating: value.baseAddress))
        try check(mdb_put(self.handle, database.dbi, &k, &v, flags.rawValue), "mdb_put", path: self.environment.path)
    }

    /// Reserves `size` bytes under `key` and lets `fill` write them in place (`MDB_RESERVE`),
    /// saving a copy on the hot path.
    public func putReserving<E: Error>(
        _ database: Database,
        key: UnsafeRawBufferPointer,
        size: Int,
        flags: PutFlags,
        fill: (UnsafeMutableRawBufferPointer) throws(E) -> Void
    ) throws {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        var v = MDB_val(mv_size: size, mv_data: nil)
        try check(
            mdb_put(self.handle, database.dbi, &k, &v, flags.rawValue | UInt32(MDB_RESERVE)), "mdb_put",
            path: self.environment.path)
        try fill(UnsafeMutableRawBufferPointer(start: v.mv_data, count: size))
    }

    /// Deletes every entry of `database` (the database itself stays).
    public func clear(_ database: Database) throws(LMDBError) {
        try check(mdb_drop(self.handle, database.dbi, 0), "mdb_drop", path: self.environment.path)
    }

    /// Deletes `key`; returns whether it was present.
    @discardableResult
    public func delete(_ database: Database, key: UnsafeRawBufferPointer) throws(LMDBError) -> Bool {
        var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
        let code = mdb_del(self.handle, database.dbi, &k, nil)
        if code == MDB_NOTFOUND { return false }
        try check(code, "mdb_del", path: self.environment.path)
        return true
    }

    /// The value stored under `key`, or `nil`; valid until the transaction ends or the next write.
    public func get(_ database: Database, key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        try transactionGet(self.handle, database, key: key, path: self.environment.path)
    }

    /// Runs `body` with a cursor over `database`.
    public func withCursor<T, E: Error>(
        _ database: Database,
        _ body: (inout Cursor) throws(E) -> T
    ) throws -> T {
        var cursor = try Cursor(transaction: self.handle, database: database, path: self.environment.path)
        return try body(&cursor)
    }

    /// The number of entries in `database`.
    public func count(_ database: Database) throws(LMDBError) -> Int {
        try transactionCount(self.handle, database, path: self.environment.path)
    }
}
