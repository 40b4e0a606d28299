import Foundation
import Logging
import NIOConcurrencyHelpers
import TallyChecksum
import TallyLMDB

/// The single writer: gathers concurrent appends into one write transaction and one fsync.
///
/// Each request in a batch is decided on its own against the committed state plus what
/// earlier requests of the same batch wrote; only accepted requests are written, so a
/// rejected request never fails its neighbours. Callers are resumed only after the batch
/// is durable. A failed commit acknowledges nothing, is never retried, and turns the log
/// read-only (``LogError/Code/unhealthy``) until it is reopened.
final class Committer: Sendable {
    private struct Queue {
        var pending: [PendingRequest] = []
        var head = 0
        var scheduled = false
        var closed = false
    }

    let environment: Environment
    let databases: LogDatabases
    let writer: WriterThread
    let state: WriterState
    let tail: NIOLockedValueBox<TailIndex>
    let notifier: CommitNotifier
    let tailEventsMax: Int
    let logger: Logger
    let metrics: CommitMetrics
    let listener: (any CommitListener)?
    private let queue = NIOLockedValueBox(Queue())
    /// When the writer last cleared stale reader slots (writer thread only).
    private let lastReaderCheck = NIOLockedValueBox(ContinuousClock.now)
    private let failure = NIOLockedValueBox<LogError?>(nil)

    init(
        environment: Environment,
        databases: LogDatabases,
        writer: WriterThread,
        state: WriterState,
        tail: NIOLockedValueBox<TailIndex>,
        notifier: CommitNotifier,
        tailEventsMax: Int,
        listener: (any CommitListener)?,
        logger: Logger
    ) {
        self.listener = listener
        self.environment = environment
        self.databases = databases
        self.writer = writer
        self.state = state
        self.tail = tail
        self.notifier = notifier
        self.tailEventsMax = tailEventsMax
        self.logger = logger
        self.metrics = CommitMetrics()
    }

    /// The error that stopped writes, if any.
    var failureReason: LogError? { self.failure.withLockedValue { $0 } }

    /// Queues an append and waits until it is durable or rejected.
    func submit(_ streams: [PreparedStream], events: Int, bytes: Int) async throws -> AppendResult {
        if let failure = self.failureReason { throw Self.unhealthy(failure) }
        return try await withCheckedThrowingContinuation { continuation in
            self.enqueue(
                .append(PendingAppend(streams: streams, eventCount: events, recordBytes: bytes, continuation: continuation)))
        }
    }

    /// Queues a command and waits until its batch is durable.
    func submit<T: Sendable>(command body: @escaping @Sendable (CommitAppend) -> T) async throws -> T {
        if let failure = self.failureReason { throw Self.unhealthy(failure) }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let command = PendingCommand(
                run: { append in
                    let value = body(append)
                    return { error in
                        if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: value) }
                    }
                },
                fail: { error in continuation.resume(throwing: error) })
            self.enqueue(.command(command))
        }
    }

    private func enqueue(_ request: PendingRequest) {
        let action = self.queue.withLockedValue { queue -> Int in
            if queue.closed { return 0 }
            queue.pending.append(request)
            if queue.scheduled { return 1 }
            queue.scheduled = true
            return 2
        }
        switch action {
        case 0: request.fail(LogError(.closed, "the ledger is closed"))
        case 2: self.writer.submit { self.drain() }
        default: break
        }
    }

    /// Refuses new appends; queued ones still commit.
    func close() {
        self.queue.withLockedValue { $0.closed = true }
    }

    /// Runs on the writer thread: commits batches until the queue is empty.
    private func drain() {
        self.writer.preconditionCurrent()
        while let batch = self.takeBatch() {
            self.process(batch)
            self.clearStaleReadersPeriodically()
            if self.tail.withLockedValue({ $0.count }) >= self.tailEventsMax {
                self.flushIndex(limit: min(Limits.indexFlushEventsMax, max(1, self.tailEventsMax / 2)))
            }
        }
    }

    /// Frees reader slots of processes that died holding a read transaction (LMDB's
    /// `mdb_reader_check`), at most every 10 s; a stale slot would pin old pages forever.
    private func clearStaleReadersPeriodically() {
        let due = self.lastReaderCheck.withLockedValue { last in
            guard ContinuousClock.now - last >= .seconds(10) else { return false }
            last = ContinuousClock.now
            return true
        }
        guard due else { return }
        do {
            let cleared = try self.environment.clearStaleReaders()
            if cleared > 0 { self.logger.notice("cleared stale reader slots", metadata: ["tally.readers": "\(cleared)"]) }
        } catch {
            self.logger.warning("could not check reader slots", metadata: ["tally.error": "\(error)"])
        }
    }

    private func takeBatch() -> [PendingRequest]? {
        self.queue.withLockedValue { queue in
            guard queue.head < queue.pending.count else {
                queue.pending.removeAll(keepingCapacity: true)
                queue.head = 0
                queue.scheduled = false
                return nil
            }
            var events = 0
            var bytes = 0
            var end = queue.head
            while end < queue.pending.count {
                let next = queue.pending[end]
                let fits = events + next.eventCount <= Limits.batchEventsMax && bytes + next.recordBytes <= Limits.batchBytesMax
                if end > queue.head && !fits { break }
                events += next.eventCount
                bytes += next.recordBytes
                end += 1
            }
            let batch = Array(queue.pending[queue.head..<end])
            queue.head = end
            if queue.head > 1_024 && queue.head * 2 > queue.pending.count {
                queue.pending.removeFirst(queue.head)
                queue.head = 0
            }
            return batch
        }
    }

    static func unhealthy(_ cause: LogError) -> LogError {
        LogError(
            .unhealthy,
            "the ledger stopped accepting writes after a failed commit (\(cause.message)); "
                + "nothing of that batch was acknowledged; reopen the ledger and run `tally verify`",
            cause: cause)
    }

    /// The error for a failed `mdb_txn_commit` of `what`, saying so when the disk is full.
    /// LMDB reports a page write cut short by a full disk as `EIO`, not `ENOSPC`, so the
    /// filesystem's free space is asked too.
    func commitFailure(_ what: String, _ error: LMDBError) -> LogError {
        let full = error.code == .noSpace || Self.diskIsFull(at: self.environment.path)
        let advice = full ? " (the disk is full: free space on it, then reopen the ledger)" : ""
        return LogError(.storage, "\(what) failed\(advice): \(error)", cause: error)
    }

    /// Whether the filesystem holding `path` has less than 1 MiB left for unprivileged writers.
    static func diskIsFull(at path: String) -> Bool {
        var stats = statvfs()
        guard statvfs(path, &stats) == 0 else { return false }
        return UInt64(stats.f_bavail) * UInt64(stats.f_frsize) < 1 << 20
    }

    /// Marks the log failed: every later append is refused until reopen.
    func poison(_ error: LogError) {
        self.failure.withLockedValue { if $0 == nil { $0 = error } }
        self.logger.critical(
            "commit failed; the ledger is now read-only", metadata: ["tally.error": "\(error)"])
    }
}
