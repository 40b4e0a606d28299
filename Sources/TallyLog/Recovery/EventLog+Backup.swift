import Foundation
import TallyChecksum
import TallyLMDB

/// The end of the log as one read snapshot sees it: what a backup or a snapshot is
/// anchored to.
public struct LogHead: Sendable, Equatable, Codable {
    /// The last position (0 for an empty log).
    public var position: UInt64
    /// The XXH3-64 checksum stored in the record at `position` (0 for an empty log).
    public var checksum: UInt64
    /// The seal of the last commit (32 zero bytes for an empty log).
    public var seal: [UInt8]
    /// The recorded-at of the record at `position`, nanoseconds since 1970 (0 if empty).
    public var recordedAtNanoseconds: UInt64

    /// Creates a head.
    public init(position: UInt64, checksum: UInt64, seal: [UInt8], recordedAtNanoseconds: UInt64) {
        self.position = position
        self.checksum = checksum
        self.seal = seal
        self.recordedAtNanoseconds = recordedAtNanoseconds
    }

    /// The head of an empty log.
    public static let empty = LogHead(position: 0, checksum: 0, seal: SealChain.genesis, recordedAtNanoseconds: 0)
}

/// One item of the log in position order, as a segment carries it: a record's stored bytes,
/// or the seal that closes the commit whose last record came just before.
public enum LogItem {
    /// The stored bytes of one record.
    case record(UnsafeRawBufferPointer)
    /// The seal of the commit of positions `first...last`.
    case seal(first: UInt64, last: UInt64, digest: UnsafeRawBufferPointer)
}

extension EventLog {
    /// Writes a consistent, compacted copy of the log's LMDB environment (`data.mdb`) into
    /// the existing, empty directory `directory` (LMDB's `mdb_env_copy2` with
    /// `MDB_CP_COMPACT`). Runs in one read transaction: writers, in this process or another,
    /// keep going.
    ///
    /// - Throws: ``LogError`` `storage_error` naming the directory.
    public func copyEnvironment(to directory: String) throws {
        do {
            try self.environment.copy(to: directory, compact: true)
        } catch {
            throw LogError(.storage, "cannot copy the log into \(directory): \(error)", cause: error)
        }
    }

    /// Writes the same compacted copy as ``copyEnvironment(to:)`` to the open file
    /// descriptor `fd` (a file or a pipe), so a caller can checksum it while it is written.
    public func copyEnvironment(toFileDescriptor fd: Int32) throws {
        do {
            try self.environment.copy(toFileDescriptor: fd, compact: true)
        } catch {
            throw LogError(.storage, "cannot copy the log: \(error)", cause: error)
        }
    }

    /// The head of the log in `directory` read straight from its file (read-only, no lock
    /// file, no replay of the tail): for copies such as a backup's `log/data.mdb`.
    ///
    /// - Throws: ``LogError`` `not_initialized`, `corruption` or `storage_error`.
    public static func readHead(directory: String) throws -> LogHead {
        let path = Self.logPath(in: directory)
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else {
            throw LogError(.notInitialized, "\(directory) holds no log (no log/data.mdb)")
        }
        let environment: Environment
        do {
            environment = try Environment.open(
                at: path, databases: LogDatabases.names,
                configuration: EnvironmentConfiguration(mapSizeBytes: LogConfiguration.defaultMapSizeBytes, databasesMax: 8, readOnly: true, noLock: true),
                writer: nil)
        } catch {
            throw LogError(.storage, "cannot open the log at \(path): \(error)", cause: error)
        }
        defer { environment.close() }
        let databases = LogDatabases(environment)
        return try environment.read { txn in try Self.head(txn, databases) }
    }

    /// The head as of one read snapshot.
    public func head() throws -> LogHead {
        try self.environment.read { txn in try self.head(txn) }
    }

    func head(_ txn: borrowing ReadTransaction) throws -> LogHead {
        try Self.head(txn, self.databases)
    }

    static func head(_ txn: borrowing ReadTransaction, _ databases: LogDatabases) throws -> LogHead {
        let last = try txn.withCursor(databases.log) { cursor throws -> (UInt64, UInt64, UInt64)? in
            guard let entry = try cursor.last(), let position = Keys.position(entry.key) else { return nil }
            let view = try Self.checkedView(entry.value, position: position)
            return (position, view.storedChecksum, view.recordedAtNanoseconds)
        }
        guard let last else { return .empty }
        let seal = try txn.withCursor(databases.seals) { cursor throws -> [UInt8] in
            guard let entry = try cursor.last(), Keys.position(entry.key) == last.0, entry.value.count == 40 else {
                throw LogError(.corruption, "the last seal does not end at the log head \(last.0)", position: last.0)
            }
            return Array(entry.value[8..<40])
        }
        return LogHead(position: last.0, checksum: last.1, seal: seal, recordedAtNanoseconds: last.2)
    }

    /// The checksum stored in the record at `position`, `0` for position 0, `nil` when the
    /// log has no such position.
    public func checksum(at position: UInt64) throws -> UInt64? {
        guard position > 0 else { return 0 }
        return try self.environment.read { txn in
            try Keys.withPosition(position) { key in try txn.get(self.databases.log, key: key) }
                .map { try Self.checkedView($0, position: position).storedChecksum }
        }
    }

    /// Hands `body` every record after `position` and the seal of every commit among them,
    /// in position order, from one read snapshot; returns that snapshot's head.
    ///
    /// `position` must end a commit (a backup's head always does).
    ///
    /// - Throws: ``LogError`` `invalid_argument` when `position` is past the head or inside a
    ///   commit, `corruption` when a record or seal does not check, or what `body` throws.
    public func forEachItem(after position: UInt64, _ body: (LogItem) throws -> Void) throws -> LogHead {
        try self.environment.read { txn in
            let head = try self.head(txn)
            guard position <= head.position else {
                throw LogError(.invalidArgument, "position \(position) is past the log head \(head.position)")
            }
            try txn.withCursor(self.databases.seals) { seals throws in
                var seal = try Keys.withPosition(position + 1) { key throws(LMDBError) in try seals.seek(atLeast: key) }
                if let first = seal.flatMap({ Keys.loadLE64($0.value) }), first != position + 1 {
                    throw LogError(
                        .invalidArgument,
                        "position \(position) is inside the commit of positions \(first)...; a segment starts after a commit")
                }
                try txn.withCursor(self.databases.log) { records throws in
                    var entry = try Keys.withPosition(position + 1) { key throws(LMDBError) in try records.seek(atLeast: key) }
                    var expected = position + 1
                    while let current = entry, expected <= head.position {
                        guard Keys.position(current.key) == expected else {
                            throw LogError(.corruption, "the log skips position \(expected)", position: expected)
                        }
                        _ = try Self.checkedView(current.value, position: expected)
                        try body(.record(current.value))
                        if let closing = seal, Keys.position(closing.key) == expected {
                            guard closing.value.count == 40, let first = Keys.loadLE64(closing.value) else {
                                throw LogError(.corruption, "the seal ending at \(expected) is malformed", position: expected)
                            }
                            try body(.seal(first: first, last: expected, digest: UnsafeRawBufferPointer(rebasing: closing.value[8..<40])))
                            seal = try seals.next()
                        }
                        expected += 1
                        entry = try records.next()
                    }
                }
            }
            return head
        }
    }

    /// Up to `limit` stored records from `position` on, each followed by the seal of its
    /// commit when it is the commit's last record: one page of a restore.
    public func items(fromPosition position: UInt64, limit: Int) throws -> [(record: [UInt8], seal: [UInt8]?)] {
        guard position > 0 else { throw LogError(.invalidArgument, "positions start at 1") }
        return try self.environment.read { txn in
            try txn.withCursor(self.databases.seals) { seals throws in
                var seal = try Keys.withPosition(position) { key throws(LMDBError) in try seals.seek(atLeast: key) }
                return try txn.withCursor(self.databases.log) { records throws in
                    var result: [([UInt8], [UInt8]?)] = []
                    result.reserveCapacity(min(limit, 10_000))
                    var entry = try Keys.withPosition(position) { key throws(LMDBError) in try records.seek(atLeast: key) }
                    var expected = position
                    while let current = entry, result.count < limit {
                        guard Keys.position(current.key) == expected else {
                            throw LogError(.corruption, "the log skips position \(expected)", position: expected)
                        }
                        var closing: [UInt8]?
                        if let candidate = seal, Keys.position(candidate.key) == expected, candidate.value.count == 40 {
                            closing = Array(candidate.value[8..<40])
                            seal = try seals.next()
                        }
                        result.append((Array(current.value), closing))
                        expected += 1
                        entry = try records.next()
                    }
                    return result
                }
            }
        }
    }
}
