import NIOConcurrencyHelpers
import Foundation
import Logging
import Synchronization
import TallyChecksum
import TallyLMDB

/// The append-only, checksummed event log of one data directory.
///
/// One process writes (it holds `<data>/writer.lock`); any number may open it read-only.
/// Appends from many tasks are group-committed by one writer thread; reads run on the
/// caller's thread in short read transactions.
///
/// ```swift
/// let log = try await EventLog.open(at: "data", configuration: .init(createIfMissing: true))
/// let result = try await log.append(to: "account-42", expectedVersion: .noStream, events: [
///     ProposedEvent(type: "account.opened", payload: Array(#"{"currency":"APX"}"#.utf8))
/// ])
/// let events = try log.read(stream: "account-42")
/// await log.close()
/// ```
public final class EventLog: Sendable {
    /// The data directory.
    public let directory: String
    /// The configuration it was opened with.
    public let configuration: LogConfiguration
    let environment: Environment
    let databases: LogDatabases
    let writer: WriterThread?
    let lock: DataDirectoryLock?
    let tail: NIOLockedValueBox<TailIndex>
    let notifier: CommitNotifier
    let committer: Committer?
    let logger: Logger
    private let closed = Atomic<Bool>(false)

    init(
        directory: String,
        configuration: LogConfiguration,
        environment: Environment,
        writer: WriterThread?,
        lock: DataDirectoryLock?,
        recovered: RecoveredState,
        listener: (any CommitListener)?,
        logger: Logger
    ) {
        self.directory = directory
        self.configuration = configuration
        self.environment = environment
        self.databases = LogDatabases(environment)
        self.writer = writer
        self.lock = lock
        self.tail = NIOLockedValueBox(recovered.tail)
        self.notifier = CommitNotifier(head: recovered.state.nextPosition - 1)
        self.logger = logger
        if let writer {
            self.committer = Committer(
                environment: environment, databases: self.databases, writer: writer, state: recovered.state,
                tail: self.tail, notifier: self.notifier, tailEventsMax: configuration.tailEventsMax,
                listener: listener, logger: logger)
        } else {
            self.committer = nil
        }
    }

    /// The path of the LMDB environment that holds the log.
    public static func logPath(in directory: String) -> String { directory + "/log" }

    /// Appends events to one or more streams, all or none, and returns once durable.
    ///
    /// Each stream's expected version is checked inside the commit. A retry with the same
    /// event ids and content returns the original positions and writes nothing.
    ///
    /// - Parameter streams: the streams and their events; each stream at most once.
    /// - Returns: the positions and new stream versions.
    /// - Throws: ``LogError`` with `wrong_expected_version`, `event_id_conflict`, a limit's
    ///   code (`invalid_stream_id`, `payload_too_large`, …), `ledger_full`, `read_only`,
    ///   `unhealthy` or `closed`.
    public func append(_ streams: [StreamAppend]) async throws -> AppendResult {
        guard let committer = self.committer else {
            throw LogError(.readOnly, "the ledger at \(self.directory) was opened read-only; open it for writing to append")
        }
        for stream in streams {
            if let prefix = self.configuration.reservedStreamPrefixes.first(where: { stream.streamID.hasPrefix($0) }) {
                throw LogError(
                    .reservedStream,
                    "streams starting with \"\(prefix)\" belong to the ledger's domain (\(stream.streamID)); "
                        + "use the domain's commands (accounts, transfers) instead of appending there")
            }
        }
        let prepared = try await PendingAppend.prepare(streams)
        return try await committer.submit(prepared.streams, events: prepared.events, bytes: prepared.bytes)
    }

    /// Runs `body` on the writer thread inside the next group commit and returns its value
    /// once that commit is durable.
    ///
    /// `body` sees the committed log plus the earlier requests of its batch; each call of its
    /// `append` argument decides and writes one append (all or none) right away, so a later
    /// call sees the earlier ones. Reserved streams are allowed here: this is how a domain
    /// (payments) writes its events. `body` must be short and must not block or await.
    ///
    /// - Throws: `read_only`, `unhealthy`, `closed`, or a storage error of the batch; in
    ///   every case nothing `body` appended was committed.
    public func withinCommit<T: Sendable>(_ body: @escaping @Sendable (CommitAppend) -> T) async throws -> T {
        guard let committer = self.committer else {
            throw LogError(.readOnly, "the ledger at \(self.directory) was opened read-only; open it for writing to append")
        }
        return try await committer.submit(command: body)
    }

    /// Appends events to one stream; see ``append(_:)``.
    public func append(
        to streamID: String,
        expectedVersion: ExpectedVersion = .any,
        events: [ProposedEvent]
    ) async throws -> AppendResult {
        try await self.append([StreamAppend(streamID: streamID, expectedVersion: expectedVersion, events: events)])
    }

    /// The last committed position (0 for an empty log).
    public var headPosition: UInt64 {
        if self.committer != nil { return self.notifier.head }
        return (try? self.lastPosition()) ?? self.notifier.head
    }

    /// Whether the log accepts appends; `false` after a failed commit or when read-only.
    public var isWritable: Bool { self.committer != nil && self.committer?.failureReason == nil }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { self.closed.load(ordering: .acquiring) }

    /// Why the log stopped accepting appends, if a commit failed.
    public var failure: LogError? { self.committer?.failureReason }

    /// CPU seconds the writer thread has used since the log opened (`nil` when read-only).
    /// Every commit runs there, so its time per event is what a workload costs the one
    /// thread that cannot be scaled; `tally bench` reports it beside the wall clock.
    public var writerCPUSeconds: Double? { self.writer?.cpuSeconds }

    /// Stops accepting appends, lets queued ones commit, and closes the files.
    ///
    /// Subscriptions end. Calling it twice is harmless.
    public func close() async {
        guard !self.closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        self.committer?.close()
        if let committer = self.committer, let writer = self.writer, committer.failureReason == nil,
            committer.tail.withLockedValue({ $0.count }) >= Limits.closeCheckpointEventsMin
        {
            // A long tail would be replayed by every later open (short CLI runs never reach
            // tailEventsMax): persist it now, after the queued appends (the writer is FIFO).
            _ = try? await writer.run {
                while committer.tail.withLockedValue({ $0.count }) > 0 && committer.failureReason == nil {
                    let before = committer.tail.withLockedValue { $0.count }
                    committer.flushIndex(limit: Limits.indexFlushEventsMax)
                    if committer.tail.withLockedValue({ $0.count }) == before { break }
                }
            }
        }
        if let committer = self.committer, let writer = self.writer, committer.failureReason == nil {
            // A state checkpoint that is due (the listener decides) is written now rather
            // than left for a later index checkpoint that a quiet ledger may never reach.
            _ = try? await writer.run { committer.writeStateCheckpoint() }
        }
        if let writer = self.writer {
            // Joining the writer thread blocks; do it off the cooperative pool.
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread {
                    writer.stop()
                    continuation.resume()
                }
            }
        }
        self.notifier.close()
        self.environment.close()
        self.lock?.release()
    }

    /// Flushes every tail entry into the persisted index now (normally the committer does
    /// it when the tail reaches ``LogConfiguration/tailEventsMax``).
    public func checkpointIndex() async throws {
        guard let committer = self.committer, let writer = self.writer else {
            throw LogError(.readOnly, "the ledger was opened read-only")
        }
        try await writer.run {
            while committer.tail.withLockedValue({ $0.count }) > 0 {
                let before = committer.tail.withLockedValue { $0.count }
                committer.flushIndex(limit: Limits.indexFlushEventsMax)
                if committer.tail.withLockedValue({ $0.count }) == before { break }
            }
        }
    }

    func lastPosition() throws -> UInt64 {
        try self.environment.read { txn in
            try txn.withCursor(self.databases.log) { cursor throws(LMDBError) in
                try cursor.last().flatMap { Keys.position($0.key) } ?? 0
            }
        }
    }

    /// Waits until the writer thread finished everything queued before this call (commits
    /// and the index checkpoints that follow them). For tests that inspect the index.
    package func waitForWriterIdle() async throws {
        guard let writer = self.writer else { return }
        try await writer.run {}
    }
}
