import Foundation
import NIOConcurrencyHelpers
import TallyChecksum
import TallyLMDB

/// Lays down a new log from existing record bytes (a restore): every record is checked
/// (length, format, position, checksum, chain, recorded-at never decreasing) and written
/// with `MDB_APPEND` exactly as it was; each commit's seal is recomputed from its records
/// and, when the source carried one, must equal it.
///
/// The data directory must be new (no `log/data.mdb`); the importer holds its writer lock
/// until ``finish()``. The indexes are built by the first ``EventLog/open(at:configuration:listener:logger:)``
/// after it, from the log (they are derived data).
///
/// ```swift
/// let importer = try LogImporter.create(at: "restored")
/// try await importer.add([.record(bytes), .endCommit(expectedSeal: seal)])
/// let head = try await importer.finish()
/// ```
public final class LogImporter: Sendable {
    /// One step of an import.
    public enum Item: Sendable {
        /// The stored bytes of the next record.
        case record([UInt8])
        /// The commit of the records added since the last one ends here; its seal, if the
        /// source stored one, must equal the seal recomputed from them.
        case endCommit(expectedSeal: [UInt8]?)
    }

    private struct State: Sendable {
        var head = LogHead.empty
        var open: SealChain?
        var openFirst: UInt64 = 0
    }

    /// The data directory being written.
    public let directory: String
    private let environment: Environment
    private let databases: LogDatabases
    private let writer: WriterThread
    private let lock: DataDirectoryLock
    private let state = NIOLockedValueBox(State())

    private init(directory: String, environment: Environment, writer: WriterThread, lock: DataDirectoryLock) {
        self.directory = directory
        self.environment = environment
        self.databases = LogDatabases(environment)
        self.writer = writer
        self.lock = lock
    }

    /// Creates `directory/log` and opens it for the import; with `base`, the new log starts
    /// as a copy of the log in the data directory `base` (a verified full backup), indexes
    /// included, and the import continues after its head.
    ///
    /// - Throws: ``LogError`` `invalid_argument` when `directory` already holds a log,
    ///   `locked` or `storage_error`.
    public static func create(at directory: String, base: String? = nil, mapSizeBytes: Int = LogConfiguration.defaultMapSizeBytes) throws -> LogImporter {
        let logPath = EventLog.logPath(in: directory)
        guard !FileManager.default.fileExists(atPath: logPath + "/data.mdb") else {
            throw LogError(.invalidArgument, "\(directory) already holds a log; import only into a new data directory")
        }
        do {
            try FileManager.default.createDirectory(atPath: logPath, withIntermediateDirectories: true)
        } catch {
            throw LogError(.storage, "cannot create \(logPath): \(error.localizedDescription)")
        }
        let lock = try DataDirectoryLock.acquire(directory: directory)
        var head = LogHead.empty
        if let base {
            do {
                head = try EventLog.readHead(directory: base)
                try FileManager.default.copyItem(atPath: EventLog.logPath(in: base) + "/data.mdb", toPath: logPath + "/data.mdb")
            } catch {
                lock.release()
                if let error = error as? LogError { throw error }
                throw LogError(.storage, "cannot copy the log of \(base) into \(logPath): \(error.localizedDescription)")
            }
        }
        let writer = WriterThread(name: "tally-import")
        do {
            let environment = try Environment.open(
                at: logPath, databases: LogDatabases.names,
                configuration: EnvironmentConfiguration(mapSizeBytes: mapSizeBytes, databasesMax: 8, readOnly: false), writer: writer)
            let importer = LogImporter(directory: directory, environment: environment, writer: writer, lock: lock)
            importer.state.withLockedValue { $0.head = head }
            return importer
        } catch {
            writer.stop()
            lock.release()
            throw LogError(.storage, "cannot open \(logPath): \(error)", cause: error)
        }
    }

    /// The head of what has been added so far.
    public var head: LogHead { self.state.withLockedValue { $0.head } }

    /// Checks and writes `items` in one transaction.
    ///
    /// - Throws: ``LogError`` `corruption` naming the first position that does not check
    ///   (nothing of `items` is written then), or `storage_error`.
    public func add(_ items: [Item]) async throws {
        try await self.writer.run {
            var state = self.state.withLockedValue { $0 }
            try self.environment.write { txn in
                for item in items {
                    switch item {
                    case .record(let bytes): try self.write(bytes, state: &state, txn: &txn)
                    case .endCommit(let expected): try self.endCommit(expected: expected, state: &state, txn: &txn)
                    }
                }
            }
            self.state.withLockedValue { $0 = state }
        }
    }

    /// Seals an unfinished last commit (a restore that stops inside one gets a seal over the
    /// records it kept), makes everything durable and closes the files.
    ///
    /// - Returns: the head of the new log.
    public func finish() async throws -> LogHead {
        defer {
            self.environment.close()
            self.writer.stop()
            self.lock.release()
        }
        try await self.writer.run {
            var state = self.state.withLockedValue { $0 }
            if state.open != nil {
                try self.environment.write { txn in try self.endCommit(expected: nil, state: &state, txn: &txn) }
            }
            self.state.withLockedValue { $0 = state }
            try self.environment.sync()
        }
        return self.head
    }

    private func write(_ bytes: [UInt8], state: inout State, txn: inout WriteTransaction) throws {
        let expected = state.head.position + 1
        let (checksum, recordedAt) = try bytes.withUnsafeBytes { raw throws -> (UInt64, UInt64) in
            let view = try EventLog.checkedView(raw, position: expected)
            guard view.previousChecksum == state.head.checksum else {
                throw LogError(.corruption, "record \(expected) does not chain onto record \(expected - 1)", position: expected)
            }
            guard view.recordedAtNanoseconds >= state.head.recordedAtNanoseconds else {
                throw LogError(.corruption, "record \(expected) was recorded before record \(expected - 1)", position: expected)
            }
            if state.open == nil {
                state.open = SealChain(previous: state.head.seal, first: expected)
                state.openFirst = expected
            }
            state.open?.add(raw)
            try Keys.withPosition(expected) { key in try txn.put(self.databases.log, key: key, value: raw, flags: .append) }
            return (view.storedChecksum, view.recordedAtNanoseconds)
        }
        state.head.position = expected
        state.head.checksum = checksum
        state.head.recordedAtNanoseconds = recordedAt
    }

    private func endCommit(expected: [UInt8]?, state: inout State, txn: inout WriteTransaction) throws {
        guard let chain = state.open.take() else {
            throw LogError(.corruption, "a seal after position \(state.head.position) closes no records", position: state.head.position)
        }
        let digest = chain.finish()
        if let expected, expected != digest {
            throw LogError(
                .corruption, "the seal of positions \(state.openFirst)...\(state.head.position) does not match its records",
                position: state.openFirst)
        }
        var value = Keys.littleEndian(state.openFirst)
        value.append(contentsOf: digest)
        try Keys.withPosition(state.head.position) { key in
            try value.withUnsafeBytes { try txn.put(self.databases.seals, key: key, value: $0, flags: .append) }
        }
        state.head.seal = digest
    }
}
