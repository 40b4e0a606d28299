import Foundation
public import Logging
import TallyChecksum
import TallyLMDB

/// What opening a log rebuilds from its files: the head and the tail index.
struct RecoveredState: Sendable {
    let state: WriterState
    let tail: TailIndex
}

extension EventLog {
    /// Opens the log in `directory`: takes the writer lock (unless read-only), opens LMDB,
    /// and replays the records after the index checkpoint, verifying their checksums and
    /// chain.
    ///
    /// - Parameters:
    ///   - directory: the data directory (holds `log/` and `writer.lock`).
    ///   - configuration: map size, read-only, durability, tail size, create.
    ///   - logger: where the log reports what it does (info and below).
    /// - Throws: ``LogError`` with `not_initialized`, `locked`, `corruption` (naming the
    ///   first bad position) or `storage_error`.
    public static func open(
        at directory: String,
        configuration: LogConfiguration = LogConfiguration(),
        listener: (any CommitListener)? = nil,
        logger: Logger = Logger(label: "tally.log")
    ) async throws -> EventLog {
        let logPath = Self.logPath(in: directory)
        try Self.prepareDirectory(directory, logPath: logPath, configuration: configuration)
        let lock = configuration.readOnly ? nil : try DataDirectoryLock.acquire(directory: directory)
        let writer = configuration.readOnly ? nil : WriterThread(name: "tally-writer")
        do {
            let environment = try Environment.open(
                at: logPath, databases: LogDatabases.names,
                configuration: EnvironmentConfiguration(
                    mapSizeBytes: configuration.mapSizeBytes, databasesMax: 8, readOnly: configuration.readOnly,
                    unsafeNoSync: configuration.durability == .unsafeNoSync, noLock: configuration.readOnly && configuration.noLock),
                writer: writer)
            do {
                let databases = LogDatabases(environment)
                if let writer {
                    try await writer.run { try Self.writeFormatIfMissing(environment, databases) }
                }
                let recovered = try Self.recover(environment, databases, forWriting: !configuration.readOnly)
                logger.debug(
                    "opened log",
                    metadata: [
                        "tally.directory": "\(directory)", "tally.head": "\(recovered.state.nextPosition - 1)",
                        "tally.tail_events": "\(recovered.tail.count)",
                    ])
                return EventLog(
                    directory: directory, configuration: configuration, environment: environment, writer: writer,
                    lock: lock, recovered: recovered, listener: listener, logger: logger)
            } catch {
                environment.close()
                throw error
            }
        } catch {
            writer?.stop()
            lock?.release()
            if let error = error as? LMDBError {
                throw LogError(.storage, "cannot open the log at \(logPath): \(error)", cause: error)
            }
            throw error
        }
    }

    private static func prepareDirectory(_ directory: String, logPath: String, configuration: LogConfiguration) throws {
        let files = FileManager.default
        var isDirectory: ObjCBool = false
        if files.fileExists(atPath: logPath + "/data.mdb") { return }
        guard configuration.createIfMissing, !configuration.readOnly else {
            throw LogError(
                .notInitialized,
                "\(directory) is not a Tally data directory (no log/data.mdb); create one with `tally init --data \(directory)`")
        }
        if files.fileExists(atPath: directory, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw LogError(.notInitialized, "\(directory) exists and is not a directory")
        }
        do {
            try files.createDirectory(atPath: logPath, withIntermediateDirectories: true)
        } catch {
            throw LogError(.storage, "cannot create \(logPath): \(error.localizedDescription)")
        }
    }

    /// The layout of the persisted indexes; an older one is dropped and rebuilt from the
    /// log (indexes are derived data). 2: `ids` as sorted runs (``IDRun``).
    static let indexLayout: UInt16 = 2

    private static func writeFormatIfMissing(_ environment: Environment, _ databases: LogDatabases) throws {
        try environment.write { txn in
            let layout = try MetaKey.indexLayout.withUnsafeBytes { key in try txn.get(databases.meta, key: key) }
            if layout.map({ $0.count == 2 && $0.loadLE(UInt16.self, at: 0) == Self.indexLayout }) != true {
                // Rebuild: the next open replays the whole log into the tail and the indexer
                // writes the indexes anew.
                try txn.clear(databases.ids)
                try txn.clear(databases.streams)
                for key in [MetaKey.indexCheckpoint, MetaKey.indexStreams] {
                    _ = try key.withUnsafeBytes { key in try txn.delete(databases.meta, key: key) }
                }
                let value = withUnsafeBytes(of: Self.indexLayout.littleEndian) { Array($0) }
                try MetaKey.indexLayout.withUnsafeBytes { key in
                    try value.withUnsafeBytes { try txn.put(databases.meta, key: key, value: $0, flags: []) }
                }
            }
            let stored = try MetaKey.format.withUnsafeBytes { key in try txn.get(databases.meta, key: key) }
            if let stored {
                guard stored.count == 2, stored.loadLE(UInt16.self, at: 0) == RecordLayout.formatVersion else {
                    throw LogError(
                        .corruption,
                        "the log's format marker is \(Array(stored)); this build reads format \(RecordLayout.formatVersion)")
                }
                return
            }
            let value = withUnsafeBytes(of: RecordLayout.formatVersion.littleEndian) { Array($0) }
            try MetaKey.format.withUnsafeBytes { key in
                try value.withUnsafeBytes { try txn.put(databases.meta, key: key, value: $0, flags: []) }
            }
        }
    }

    /// Rebuilds the head and the tail index: checkpoint + replay of the records after it.
    static func recover(_ environment: Environment, _ databases: LogDatabases, forWriting: Bool = true) throws -> RecoveredState {
        try environment.read { txn in
            let checkpoint = try MetaKey.indexCheckpoint.withUnsafeBytes { key in
                try txn.get(databases.meta, key: key).flatMap(Keys.loadLE64)
            } ?? 0
            var tail = TailIndex(checkpoint: checkpoint)
            var previousChecksum: UInt64 = 0
            var lastRecordedAt: UInt64 = 0
            var expected = checkpoint + 1
            try txn.withCursor(databases.log) { cursor throws in
                var entry: Cursor.Entry?
                if checkpoint > 0 {
                    entry = try Keys.withPosition(checkpoint) { key throws(LMDBError) in try cursor.seek(atLeast: key) }
                    guard let anchor = entry, Keys.position(anchor.key) == checkpoint else {
                        throw LogError(
                            .corruption, "the index checkpoint names position \(checkpoint), which is missing from the log",
                            position: checkpoint)
                    }
                    let view = try Self.checkedView(anchor.value, position: checkpoint)
                    previousChecksum = view.storedChecksum
                    lastRecordedAt = view.recordedAtNanoseconds
                    entry = try cursor.next()
                } else {
                    entry = try cursor.first()
                }
                while let current = entry {
                    guard Keys.position(current.key) == expected else {
                        throw LogError(
                            .corruption, "the log skips from position \(expected - 1) to another key", position: expected)
                    }
                    let view = try Self.checkedView(current.value, position: expected)
                    guard view.previousChecksum == previousChecksum else {
                        throw LogError(
                            .corruption, "record \(expected) does not chain onto record \(expected - 1)", position: expected)
                    }
                    let event = try Self.decoded(view, position: expected)
                    tail.add(position: expected, streamID: event.streamID, version: event.streamVersion, id: event.id)
                    previousChecksum = view.storedChecksum
                    lastRecordedAt = view.recordedAtNanoseconds
                    expected += 1
                    entry = try cursor.next()
                }
            }
            let lastSeal = try Self.lastSeal(txn, databases, head: expected - 1)
            let state = WriterState(
                nextPosition: expected, lastChecksum: previousChecksum, lastSeal: lastSeal, lastRecordedAt: lastRecordedAt)
            // Only a writer checks ids and streams against the filters and adds id runs; a
            // read-only open (an export, a verify) skips the scan of the whole ids index.
            if forWriting { try Self.fillBloomFilters(state, txn, databases) }
            return RecoveredState(state: state, tail: tail)
        }
    }

    /// Puts every persisted event id and stream into the writer's Bloom filters.
    private static func fillBloomFilters(_ state: WriterState, _ txn: borrowing ReadTransaction, _ databases: LogDatabases)
        throws
    {
        let ids = try txn.count(databases.ids)
        var idFilter = BloomFilter(initialCapacity: max(BloomFilter.initialCapacityDefault, ids * 2))
        var streamFilter = BloomFilter()
        var runs: [IDRun] = []
        try txn.withCursor(databases.ids) { cursor throws in
            var entry = try cursor.first()
            while let current = entry {
                guard let split = IDRunKeys.split(current.key) else {
                    throw LogError(.corruption, "an ids index key is \(current.key.count) bytes, not \(IDRunKeys.bytes)")
                }
                idFilter.insert(split.id.bloomHash)
                if runs.last?.id == split.run {
                    runs[runs.count - 1].count += 1
                } else {
                    runs.append(IDRun(id: split.run, count: 1))
                }
                entry = try cursor.next()
            }
        }
        state.idRuns = runs
        try txn.withCursor(databases.streams) { cursor throws in
            var entry = try cursor.first()
            while let current = entry {
                if let split = Keys.splitStream(current.key), split.version == 0 {
                    streamFilter.insert(XXH3.hash(split.stream))
                }
                entry = try cursor.next()
            }
        }
        state.persistedIDs = idFilter
        state.persistedStreams = streamFilter
    }

    private static func lastSeal(_ txn: borrowing ReadTransaction, _ databases: LogDatabases, head: UInt64) throws
        -> SealChain.Seal
    {
        try txn.withCursor(databases.seals) { cursor throws in
            guard let last = try cursor.last() else {
                guard head == 0 else {
                    throw LogError(.corruption, "the log has records but no seals", position: 1)
                }
                return SealChain.genesis
            }
            guard Keys.position(last.key) == head, last.value.count == 40 else {
                throw LogError(
                    .corruption, "the last seal does not end at the log head \(head)", position: head)
            }
            return Array(last.value[8..<40])
        }
    }

    static func checkedView(_ bytes: UnsafeRawBufferPointer, position: UInt64) throws(LogError) -> RecordView {
        let view = try Self.uncheckedView(bytes, position: position)
        guard view.computeChecksum() == view.storedChecksum else { throw Self.checksumMismatch(at: position) }
        return view
    }

    /// A record's view with its length, format and position checked, not its checksum.
    static func uncheckedView(_ bytes: UnsafeRawBufferPointer, position: UInt64) throws(LogError) -> RecordView {
        let view: RecordView
        do {
            view = try RecordView(bytes)
        } catch {
            throw LogError(.corruption, "record \(position) is malformed: \(error)", position: position)
        }
        guard view.position == position else {
            throw LogError(
                .corruption, "record stored at position \(position) says it is position \(view.position)",
                position: position)
        }
        return view
    }

    static func checksumMismatch(at position: UInt64) -> LogError {
        LogError(.corruption, "record \(position) fails its XXH3-64 checksum", position: position)
    }

    static func decoded(_ view: RecordView, position: UInt64) throws(LogError) -> RecordedEvent {
        do {
            return try view.decode()
        } catch {
            throw LogError(.corruption, "record \(position) is malformed: \(error)", position: position)
        }
    }
}
