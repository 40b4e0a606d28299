internal import CLMDB

/// A position in a database, for ordered scans. Closed when its closure returns.
///
/// Key and value buffers point into the memory map and are valid until the transaction
/// ends.
public struct Cursor: ~Copyable {
    /// One key/value pair under the cursor.
    public struct Entry {
        /// The key bytes.
        public let key: UnsafeRawBufferPointer
        /// The value bytes.
        public let value: UnsafeRawBufferPointer
    }

    let handle: OpaquePointer
    let path: String

    init(transaction: OpaquePointer, database: Database, path: String) throws(LMDBError) {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(transaction, database.dbi, &cursor), "mdb_cursor_open", path: path)
        guard let cursor else { throw LMDBError(code: .init(rawValue: 22), function: "mdb_cursor_open") }
        self.handle = cursor
        self.path = path
    }

    deinit {
        mdb_cursor_close(self.handle)
    }

    /// The first entry, or `nil` for an empty database.
    public mutating func first() throws(LMDBError) -> Entry? { try self.move(MDB_FIRST, nil) }
    /// The last entry, or `nil` for an empty database.
    public mutating func last() throws(LMDBError) -> Entry? { try self.move(MDB_LAST, nil) }
    /// The next entry, or `nil` at the end.
    public mutating func next() throws(LMDBError) -> Entry? { try self.move(MDB_NEXT, nil) }
    /// The previous entry, or `nil` at the start.
    public mutating func previous() throws(LMDBError) -> Entry? { try self.move(MDB_PREV, nil) }
    /// The first entry whose key is greater than or equal to `key`, or `nil`.
    public mutating func seek(atLeast key: UnsafeRawBufferPointer) throws(LMDBError) -> Entry? {
        try self.move(MDB_SET_RANGE, key)
    }

    /// Deletes the entry under the cursor (write transactions only); ``next()`` then
    /// returns the entry that followed it.
    public mutating func deleteCurrent() throws(LMDBError) {
        try check(mdb_cursor_del(self.handle, 0), "mdb_cursor_del", path: self.path)
    }

    private mutating func move(_ op: MDB_cursor_op, _ key: UnsafeRawBufferPointer?) throws(LMDBError) -> Entry? {
        var k = MDB_val(mv_size: key?.count ?? 0, mv_data: UnsafeMutableRawPointer(mutating: key?.baseAddress))
        var v = MDB_val()
        let code = mdb_cursor_get(self.handle, &k, &v, op)
        if code == MDB_NOTFOUND { return nil }
        try check(code, "mdb_cursor_get", path: self.path)
        return Entry(
            key: UnsafeRawBufferPointer(start: k.mv_data, count: k.mv_size),
            value: UnsafeRawBufferPointer(start: v.mv_data, count: v.mv_size))
    }
}
