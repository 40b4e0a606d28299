import NIOConcurrencyHelpers
internal import CLMDB
#if canImport(Glibc)
internal import Glibc
#endif
import Synchronization

/// An open LMDB environment: one memory-mapped file with named databases.
///
/// Open each environment once per process (LMDB's rule, enforced here: a second open of
/// the same path throws ``LMDBError/Code/alreadyOpen``) and share the instance. Read
/// transactions may run on any thread; write transactions only on the ``WriterThread``
/// given at open, inside a synchronous closure.
///
/// ```swift
/// let env = try Environment.open(
///     at: "data/log", databases: ["log"],
///     configuration: .init(mapSizeBytes: 1 << 30, databasesMax: 4, readOnly: false),
///     writer: writer)
/// try env.read { txn in try txn.get(env.database("log"), key: key) { $0.count } }
/// ```
public final class Environment: Sendable {
    // @unchecked-free: `handle` is an immutable pointer; LMDB's MDB_env is safe to share
    // across threads for transaction creation (lmdb.h: "an environment may be used
    // concurrently from multiple threads"), and writes are confined to `writer`.
    nonisolated(unsafe) let handle: OpaquePointer
    /// The directory that holds `data.mdb` and `lock.mdb`.
    public let path: String
    /// The configuration the environment was opened with.
    public let configuration: EnvironmentConfiguration
    /// The thread on which every write transaction runs; `nil` for read-only environments.
    public let writer: WriterThread?
    private let databases: [String: Database]
    private let closed = Atomic<Bool>(false)
    /// Read transactions running now (see ``read(_:)``).
    private let readsInFlight = Atomic<Int>(0)

    /// Refuses a transaction on a closed environment: LMDB would lock a mutex in the
    /// unmapped lock file (a segfault) where this throws `EINVAL` naming the path.
    func checkOpen(_ function: String) throws(LMDBError) {
        if self.closed.load(ordering: .sequentiallyConsistent) {
            throw LMDBError(code: .init(rawValue: 22), function: function, message: "the environment is closed", path: self.path)
        }
    }

    private static let openPaths = NIOLockedValueBox<Set<String>>([])

    private init(
        handle: OpaquePointer,
        path: String,
        configuration: EnvironmentConfiguration,
        writer: WriterThread?,
        databases: [String: Database]
    ) {
        self.handle = handle
        self.path = path
        self.configuration = configuration
        self.writer = writer
        self.databases = databases
    }

    /// Opens (and, when writable, creates) the environment at `path` with the named databases.
    ///
    /// Clears stale reader slots left by dead processes and marks LMDB's file descriptors
    /// close-on-exec.
    ///
    /// - Parameters:
    ///   - path: an existing directory.
    ///   - databases: the named databases to open; created when the environment is writable.
    ///   - configuration: map size, limits and flags.
    ///   - writer: the thread for write transactions; required unless read-only.
    /// - Returns: the open environment.
    /// - Throws: ``LMDBError`` when LMDB refuses, or `alreadyOpen` for a second open.
    public static func open(
        at path: String,
        databases names: [String],
        configuration: EnvironmentConfiguration,
        writer: WriterThread?
    ) throws(LMDBError) -> Environment {
        precondition(configuration.readOnly || writer != nil, "a writable environment needs a writer thread")
        precondition(names.count <= configuration.databasesMax, "more databases than databasesMax")
        let key = canonicalPath(path)
        let inserted = Self.openPaths.withLockedValue { $0.insert(key).inserted }
        guard inserted else {
            throw LMDBError(code: .alreadyOpen, function: "mdb_env_open", path: path)
        }
        do throws(LMDBError) {
            let handle = try createHandle(path: path, configuration: configuration)
            let dbs: [String: Database]
            do throws(LMDBError) {
                dbs = try openDatabases(handle: handle, names: names, create: !configuration.readOnly, path: path)
            } catch {
                mdb_env_close(handle)
                throw error
            }
            let env = Environment(
                handle: handle, path: path, configuration: configuration,
                writer: writer, databases: dbs)
            _ = try env.clearStaleReaders()
            return env
        } catch {
            _ = Self.openPaths.withLockedValue { $0.remove(key) }
            throw error
        }
    }

    private static func createHandle(
        path: String,
        configuration: EnvironmentConfiguration
    ) throws(LMDBError) -> OpaquePointer {
        var raw: OpaquePointer?
        try check(mdb_env_create(&raw), "mdb_env_create", path: path)
        guard let handle = raw else {
            throw LMDBError(code: .init(rawValue: 22), function: "mdb_env_create", message: "returned no handle")
        }
        do throws(LMDBError) {
            try check(mdb_env_set_mapsize(handle, configuration.mapSizeBytes), "mdb_env_set_mapsize", path: path)
            try check(mdb_env_set_maxdbs(handle, UInt32(configuration.databasesMax)), "mdb_env_set_maxdbs", path: path)
            try check(
                mdb_env_set_maxreaders(handle, UInt32(configuration.readersMax)), "mdb_env_set_maxreaders",
                path: path)
            var flags = UInt32(MDB_NOTLS)
            if configuration.readOnly { flags |= UInt32(MDB_RDONLY) }
            if configuration.unsafeNoSync { flags |= UInt32(MDB_NOSYNC) }
            if configuration.derivedNoMetaSync { flags |= UInt32(MDB_NOMETASYNC) }
            if configuration.noLock { flags |= UInt32(MDB_NOLOCK) }
            try check(mdb_env_open(handle, path, flags, 0o644), "mdb_env_open", path: path)
            var fd: Int32 = -1
            try check(mdb_env_get_fd(handle, &fd), "mdb_env_get_fd", path: path)
            // LMDB 0.9.24 already opens with O_CLOEXEC where available; setting it again is
            // cheap insurance that a spawned child (deep verify) never inherits the map.
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        } catch {
            // lmdb.h: "The environment handle ... must be closed by mdb_env_close() even
            // if mdb_env_open() fails."
            mdb_env_close(handle)
            throw error
        }
        return handle
    }

    private static func openDatabases(
        handle: OpaquePointer,
        names: [String],
        create: Bool,
        path: String
    ) throws(LMDBError) -> [String: Database] {
        var txn: OpaquePointer?
        try check(mdb_txn_begin(handle, nil, create ? 0 : UInt32(MDB_RDONLY), &txn), "mdb_txn_begin", path: path)
        guard let txn else { throw LMDBError(code: .init(rawValue: 22), function: "mdb_txn_begin") }
        var result: [String: Database] = [:]
        for name in names {
            var dbi: MDB_dbi = 0
            let code = mdb_dbi_open(txn, name, create ? UInt32(MDB_CREATE) : 0, &dbi)
            if code != MDB_SUCCESS {
                mdb_txn_abort(txn)
                throw LMDBError(
                    code: .init(rawValue: code), function: "mdb_dbi_open",
                    message: "database '\(name)': \(LMDBError.Code(rawValue: code))", path: path)
            }
            result[name] = Database(name: name, dbi: dbi)
        }
        // A committed txn keeps the dbi handles valid for the environment's lifetime.
        try check(mdb_txn_commit(txn), "mdb_txn_commit", path: path)
        return result
    }

    /// The handle of a database named at open.
    ///
    /// - Precondition: `name` was in the list given to ``open(at:databases:configuration:writer:)``.
    public func database(_ name: String) -> Database {
        guard let db = self.databases[name] else {
            preconditionFailure("database '\(name)' was not opened with the environment")
        }
        return db
    }

    /// Runs `body` in a short read-only transaction (MDB_NOTLS) and aborts it afterwards.
    ///
    /// Never `await` inside: the body is synchronous on purpose, so a reader slot is never
    /// held across a suspension.
    public func read<T, E: Error>(_ body: (borrowing ReadTransaction) throws(E) -> T) throws -> T {
        // Counted before the closed check (both sequentially consistent): ``close()`` marks
        // the environment closed, then waits for the count to drain, so a read either sees
        // it closed and throws or ends before `mdb_env_close` (a subscription that checked
        // the log was open just before another task closed it crashed the process).
        self.readsInFlight.add(1, ordering: .sequentiallyConsistent)
        defer { self.readsInFlight.subtract(1, ordering: .sequentiallyConsistent) }
        let txn = try ReadTransaction(environment: self)
        return try body(txn)
    }

    /// Runs `body` in a write transaction and commits it when `body` returns.
    ///
    /// Aborts when `body` throws and rethrows its error. After a failed commit LMDB has freed
    /// the transaction; nothing is retried.
    ///
    /// - Precondition: called on ``writer``.
    public func write<T>(_ body: (inout WriteTransaction) throws -> T) throws -> T {
        var txn = try self.beginWrite()
        let value = try body(&txn)
        try txn.commit()
        return value
    }

    /// Begins a write transaction; commit it with ``WriteTransaction/commit()``, or let it go
    /// out of scope to abort.
    ///
    /// - Precondition: called on ``writer``.
    public func beginWrite() throws(LMDBError) -> WriteTransaction {
        guard let writer = self.writer else {
            preconditionFailure("write transaction on a read-only environment at \(self.path)")
        }
        writer.preconditionCurrent()
        return try WriteTransaction(environment: self)
    }

    /// Sizes and counters of the environment.
    public func info() throws(LMDBError) -> EnvironmentInfo {
        var info = MDB_envinfo()
        try check(mdb_env_info(self.handle, &info), "mdb_env_info", path: self.path)
        var stat = MDB_stat()
        try check(mdb_env_stat(self.handle, &stat), "mdb_env_stat", path: self.path)
        return EnvironmentInfo(
            mapSizeBytes: info.me_mapsize,
            pageSizeBytes: Int(stat.ms_psize),
            lastPageNumber: info.me_last_pgno,
            lastTransactionID: info.me_last_txnid,
            readersUsed: Int(info.me_numreaders))
    }

    /// Frees reader slots held by dead processes (`mdb_reader_check`).
    ///
    /// - Returns: how many slots were cleared.
    @discardableResult
    public func clearStaleReaders() throws(LMDBError) -> Int {
        var dead: Int32 = 0
        try check(mdb_reader_check(self.handle, &dead), "mdb_reader_check", path: self.path)
        return Int(dead)
    }

    /// Flushes the data file to disk (`mdb_env_sync` with force).
    public func sync() throws(LMDBError) {
        try check(mdb_env_sync(self.handle, 1), "mdb_env_sync", path: self.path)
    }

    /// Writes a consistent copy of the environment to the directory `target`.
    ///
    /// - Parameter compact: omit free pages and renumber (LMDB's `MDB_CP_COMPACT`).
    public func copy(to target: String, compact: Bool) throws(LMDBError) {
        try check(
            mdb_env_copy2(self.handle, target, compact ? UInt32(MDB_CP_COMPACT) : 0), "mdb_env_copy2",
            path: self.path)
    }

    /// Writes a consistent copy of the environment's data file to the open file descriptor
    /// `fd` (a file or a pipe; LMDB's `mdb_env_copyfd2`). The caller closes `fd`.
    ///
    /// - Parameter compact: omit free pages and renumber (LMDB's `MDB_CP_COMPACT`).
    public func copy(toFileDescriptor fd: Int32, compact: Bool) throws(LMDBError) {
        try check(mdb_env_copyfd2(self.handle, fd, compact ? UInt32(MDB_CP_COMPACT) : 0), "mdb_env_copyfd2", path: self.path)
    }

    /// Closes the environment. Every transaction must have ended; calling twice is harmless.
    public func close() {
        guard !self.closed.exchange(true, ordering: .sequentiallyConsistent) else { return }
        // Reads already past their check finish first (they are short; never across `await`).
        while self.readsInFlight.load(ordering: .sequentiallyConsistent) > 0 { sched_yield() }
        mdb_env_close(self.handle)
        let key = canonicalPath(self.path)
        _ = Self.openPaths.withLockedValue { $0.remove(key) }
    }

    deinit {
        self.close()
    }
}

private func canonicalPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}
