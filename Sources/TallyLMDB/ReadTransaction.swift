internal import CLMDB

/// A read-only LMDB transaction: a consistent snapshot of every database.
///
/// Obtained only through ``Environment/read(_:)`` and aborted when the closure returns.
/// Buffers returned by its methods point into the memory map and are valid only until the
/// transaction ends: copy or decode inside the closure.
public struct ReadTransaction: ~Copyable {
    let handle: OpaquePointer
    let environment: Environment

    init(environment: Environment) throws(LMDBError) {
        try environment.checkOpen("mdb_txn_begin")
        var txn: OpaquePointer?
        try check(mdb_txn_begin(environment.handle, nil, UInt32(MDB_RDONLY), &txn), "mdb_txn_begin", path: environment.path)
        guard let txn else { throw LMDBError(code: .init(rawValue: 22), function: "mdb_txn_begin") }
        self.handle = txn
        self.environment = environment
    }

    deinit {
        mdb_txn_abort(self.handle)
    }

    /// The value stored under `key`, or `nil`; valid until the transaction ends.
    public func get(_ database: Database, key: UnsafeRawBufferPointer) throws(LMDBError) -> UnsafeRawBufferPointer? {
        try transactionGet(self.handle, database, key: key, path: self.environment.path)
    }

    /// Runs `body` with a cursor over `database`; the cursor closes when `body` returns.
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

func transactionGet(
    _ txn: OpaquePointer,
    _ database: Database,
    key: UnsafeRawBufferPointer,
    path: String
) throws(LMDBError) -> UnsafeRawBufferPointer? {
    var k = MDB_val(mv_size: key.count, mv_data: UnsafeMutableRawPointer(mutating: key.baseAddress))
    var v = MDB_val()
    let code = mdb_get(txn, database.dbi, &k, &v)
    if code == MDB_NOTFOUND { return nil }
    try check(code, "mdb_get", path: path)
    return UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size)
}

func transactionCount(_ txn: OpaquePointer, _ database: Database, path: String) throws(LMDBError) -> Int {
    var stat = MDB_stat()
    try check(mdb_stat(txn, database.dbi, &stat), "mdb_stat", path: path)
    return stat.ms_entries
}
