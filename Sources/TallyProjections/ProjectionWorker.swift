import Foundation
public import Logging
public import ServiceLifecycle
import NIOConcurrencyHelpers
import TallyLMDB
public import TallyLog

/// Where a projection stands.
public struct ProjectionStatus: Sendable, Equatable {
    public var name: String
    public var version: UInt32
    /// The last position applied.
    public var checkpoint: UInt64
    /// The log head when the status was taken.
    public var head: UInt64
    /// Events behind the head.
    public var lagEvents: UInt64 { self.head > self.checkpoint ? self.head - self.checkpoint : 0 }
    /// Why it stopped, if `apply` threw (the position is named in the message).
    public var failure: String?
    /// How long ago the oldest event not yet applied was recorded (0 when caught up).
    public var lagSeconds: Double = 0
}

/// Runs one projection: reads batches after its checkpoint from the log's subscription and
/// applies each batch together with the new checkpoint in one `<data>/views` transaction.
///
/// A version different from the stored one clears the projection's databases and rebuilds
/// it from position 1 (in place: queries see the rebuild's progress; a shadow rebuild is
/// not built yet). An `apply` that throws stops the worker with the position in
/// ``ProjectionStatus/failure``; the event is never skipped.
public final class ProjectionWorker: Service, Sendable {
    public let projection: any Projection
    let log: EventLog
    let views: ViewStore
    let logger: Logger
    private let state = NIOLockedValueBox<(checkpoint: UInt64, failure: String?)>((0, nil))

    /// The most events applied in one transaction.
    public static let batchEventsMax = 10_000

    public init(projection: any Projection, log: EventLog, views: ViewStore, logger: Logger = Logger(label: "tally.projections")) throws {
        self.projection = projection
        self.log = log
        self.views = views
        self.logger = logger
        let meta = try views.meta(of: projection.name)
        // Views never lead the log; one that does means the log lost acknowledged commits.
        let applied = max(meta.position, meta.shadowVersion == nil ? 0 : meta.shadowPosition)
        if applied > log.headPosition {
            throw ViewStore.aheadError(projection: projection.name, applied: applied, head: log.headPosition)
        }
        self.state.withLockedValue {
            if meta.version == projection.version {
                $0.checkpoint = meta.position
            } else if meta.shadowVersion == projection.version {
                $0.checkpoint = meta.shadowPosition
            } else {
                $0.checkpoint = 0
            }
        }
    }

    /// Where it stands now.
    public var status: ProjectionStatus {
        let (checkpoint, failure) = self.state.withLockedValue { ($0.checkpoint, $0.failure) }
        var status = ProjectionStatus(
            name: self.projection.name, version: self.projection.version, checkpoint: checkpoint, head: self.log.headPosition,
            failure: failure)
        if status.lagEvents > 0, let oldest = try? self.log.read(fromPosition: checkpoint + 1, limit: 1).first {
            let now = UInt64(Date().timeIntervalSince1970 * 1e9)
            status.lagSeconds = now > oldest.recordedAtNanoseconds ? Double(now - oldest.recordedAtNanoseconds) / 1e9 : 0
        }
        return status
    }

    /// Forgets everything the projection built: the next run rebuilds it from position 1.
    public func reset() async throws {
        let projection = self.projection
        let views = self.views
        try await views.write { txn in
            let meta = try Self.meta(&txn, views: views, name: projection.name)
            for generation: UInt8 in [0, 1] {
                for name in projection.databases {
                    try txn.clear(views.environment.database(ProjectionMeta.physical(name, generation: generation)))
                }
            }
            try Self.putMeta(&txn, views: views, name: projection.name, ProjectionMeta(position: 0, version: projection.version, generation: meta.generation))
        }
        self.state.withLockedValue { $0 = (0, nil) }
    }

    /// Follows the log until a graceful shutdown (ServiceLifecycle), cancellation or the log
    /// closes; a batch being applied finishes first. Throws what `apply` threw.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.follow() }
        } catch is CancellationError {
            // Shutdown: the last batch committed with its checkpoint; nothing to undo.
        }
    }

    /// Follows the log from the checkpoint on, a batch a transaction.
    func follow() async throws {
        try await self.prepare()
        var checkpoint = self.state.withLockedValue { $0.checkpoint }
        var iterator = self.log.subscribe(fromPosition: checkpoint + 1).makeAsyncIterator()
        while !Task.isCancelled {
            guard let batch = try await iterator.nextBatch(max: Self.batchEventsMax) else { return }
            try await self.apply(batch)
            checkpoint = batch.last?.position ?? checkpoint
        }
    }

    /// The most events one catch-up transaction applies. A rebuild touches pages all over
    /// the trees it writes (statement lines land under every account), so it pays per page
    /// per transaction: 10,000-event transactions rebuilt 1 M transfers in 41 s, 250,000-event
    /// ones in 13 s (docs/benchmarks.md).
    public static let catchUpEventsMax = 250_000
    /// The most payload bytes one catch-up transaction holds in memory.
    public static let catchUpBytesMax = 64 << 20

    /// Applies everything up to the current head, then returns (for one-shot CLI queries and
    /// rebuilds); `applied` hears each new checkpoint. The next batch is read from the log
    /// while the current one is applied.
    public func catchUp(batchEventsMax: Int = ProjectionWorker.catchUpEventsMax, applied: (UInt64) -> Void = { _ in }) async throws {
        try await self.prepare()
        let readAhead = Self.reader(self.projection, log: self.log, batchEventsMax: batchEventsMax)
        var batch = try readAhead(self.state.withLockedValue { $0.checkpoint } + 1)
        while let current = batch {
            let next = Task { try readAhead(current.last + 1) }
            do {
                try await self.apply(first: current.first, last: current.last, staged: current.staged)
            } catch {
                next.cancel()
                throw error
            }
            applied(current.last)
            batch = try await next.value
        }
    }

    /// A batch read from the log and prepared for one projection: its positions, and the
    /// prepared batch or what `prepare` threw (thrown when it is applied, stopping the
    /// projection there, as an `apply` that throws does).
    typealias ReadBatch = (first: UInt64, last: UInt64, staged: Result<StagedBatch, any Error>)

    /// Reads and prepares the batch from a position on (`nil` past the head): straight from
    /// the records for a ``RecordProjection``, else through ``RecordedEvent``s.
    private static func reader(_ projection: any Projection, log: EventLog, batchEventsMax: Int) -> @Sendable (UInt64) throws -> ReadBatch? {
        if let records = projection as? any RecordProjection { return Self.recordReader(records, log: log, batchEventsMax: batchEventsMax) }
        let bytesMax = Self.catchUpBytesMax
        return { from in
            let events = try Self.readBatch(log, from: from, eventsMax: batchEventsMax, bytesMax: bytesMax)
            guard let first = events.first, let last = events.last else { return nil }
            return (first.position, last.position, Result { try projection.staged(events) })
        }
    }

    private static func recordReader<P: RecordProjection>(_ projection: P, log: EventLog, batchEventsMax: Int) -> @Sendable (UInt64) throws -> ReadBatch? {
        { from in
            let head = log.headPosition
            guard from <= head else { return nil }
            let last = min(head, from + UInt64(max(batchEventsMax, 1)) - 1)
            var batch = projection.emptyBatch(capacity: Int(last - from + 1))
            var failure: (any Error)?
            // Pages of 8,192 records, each in its own short read transaction.
            try log.forEachRecord(fromPosition: from, through: last, pageSize: 8_192) { record in
                guard failure == nil else { return }
                do { try projection.prepare(record, into: &batch) } catch { failure = error }
            }
            if let failure { return (from, last, .failure(failure)) }
            let prepared = batch
            return (from, last, .success(StagedBatch { store in try projection.apply(prepared, in: store) }))
        }
    }

    /// Brings several workers up to the current head reading the log once: each batch is
    /// read one time (the next one meanwhile) and applied by every worker that has not
    /// applied it yet, each in its own transaction. `applied` hears the position every
    /// worker has reached.
    public static func catchUp(
        _ workers: [ProjectionWorker], batchEventsMax: Int = ProjectionWorker.catchUpEventsMax, applied: (UInt64) -> Void = { _ in }
    ) async throws {
        guard let log = workers.first?.log else { return }
        for worker in workers { try await worker.prepare() }
        let bytesMax = Self.catchUpBytesMax
        let read = { @Sendable (from: UInt64) throws -> [RecordedEvent] in
            try Self.readBatch(log, from: from, eventsMax: batchEventsMax, bytesMax: bytesMax)
        }
        /// Reads a batch and prepares, for each worker, the part it has not applied. While
        /// the previous batch is being applied a worker's checkpoint is at most that batch's
        /// last position, so each gets all of the next one; only a worker that was ahead
        /// from the start gets a part or nothing.
        let readAhead = { @Sendable (from: UInt64) throws -> (last: UInt64?, parts: [([RecordedEvent], Result<StagedBatch, any Error>)?]) in
            let events = try read(from)
            let parts = workers.map { worker -> ([RecordedEvent], Result<StagedBatch, any Error>)? in
                let checkpoint = worker.state.withLockedValue { $0.checkpoint }
                let first = events.firstIndex { $0.position > checkpoint } ?? events.count
                guard first < events.count else { return nil }
                let part = first == 0 ? events : Array(events[first...])
                return (part, Result { try worker.projection.staged(part) })
            }
            return (events.last?.position, parts)
        }
        let lowest = workers.map { $0.state.withLockedValue { $0.checkpoint } }.min() ?? 0
        var batch = try readAhead(lowest + 1)
        while let last = batch.last {
            let next = Task { try readAhead(last + 1) }
            do {
                for (worker, part) in zip(workers, batch.parts) {
                    guard let (events, staged) = part else { continue }
                    try await worker.apply(events, staged: staged)
                }
            } catch {
                next.cancel()
                throw error
            }
            applied(last)
            batch = try await next.value
        }
    }

    /// Up to `eventsMax` events from `from` on, fewer if their payloads pass `bytesMax`.
    static func readBatch(_ log: EventLog, from: UInt64, eventsMax: Int, bytesMax: Int) throws -> [RecordedEvent] {
        var batch: [RecordedEvent] = []
        var bytes = 0
        var next = from
        while batch.count < eventsMax, bytes < bytesMax {
            let chunk = try log.read(fromPosition: next, limit: eventsMax - batch.count)
            guard let last = chunk.last else { break }
            bytes += chunk.reduce(0) { $0 + $1.payload.count }
            batch += chunk
            next = last.position + 1
        }
        return batch
    }

    /// Waits until the projection has applied `position` (read your own writes); `false`
    /// on timeout or when the projection stopped. Checks every 2 ms.
    public func wait(until position: UInt64, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while true {
            let (checkpoint, failure) = self.state.withLockedValue { ($0.checkpoint, $0.failure) }
            if checkpoint >= position { return true }
            if failure != nil || ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(2))
        }
    }

    /// A never-built projection starts in generation 0. A changed version starts (or, after
    /// a crash, resumes) a shadow rebuild in the other generation: queries keep reading the
    /// old one until the rebuild has caught up and ``apply(_:)`` swaps them.
    func prepare() async throws {
        let meta = try self.views.meta(of: self.projection.name)
        let projection = self.projection
        let views = self.views
        if meta.version == projection.version || meta.shadowVersion == projection.version { return }
        var next = meta
        if meta.version == nil {
            next.version = projection.version
            next.position = 0
        } else {
            next.shadowVersion = projection.version
            next.shadowPosition = 0
            self.logger.notice(
                "projection version changed; rebuilding in the shadow generation, queries answer from the old one",
                metadata: ["tally.projection": "\(projection.name)", "tally.version": "\(projection.version)"])
        }
        let generation = meta.version == nil ? meta.generation : 1 - meta.generation
        try await views.write { [next] txn in
            for name in projection.databases {
                try txn.clear(views.environment.database(ProjectionMeta.physical(name, generation: generation)))
            }
            try Self.putMeta(&txn, views: views, name: projection.name, next)
        }
        self.state.withLockedValue { $0.checkpoint = 0 }
    }

    /// Applies a batch, in the generation being built, with its checkpoint in the same
    /// transaction; a shadow rebuild that reaches the log head becomes the active one in
    /// that same transaction.
    ///
    /// `staged` is the batch already prepared (by a read-ahead); without it the batch is
    /// prepared here, on the caller's task, not on the views writer thread.
    private func apply(_ batch: [RecordedEvent], staged: Result<StagedBatch, any Error>? = nil) async throws {
        guard let first = batch.first?.position, let last = batch.last?.position else { return }
        try await self.apply(first: first, last: last, staged: staged ?? Result { try self.projection.staged(batch) })
    }

    /// Applies the prepared batch of positions `first...last`.
    private func apply(first: UInt64, last: UInt64, staged: Result<StagedBatch, any Error>) async throws {
        let head = self.log.headPosition
        do {
            let ready = try staged.get()
            try await self.views.write { txn in try self.write(&txn, last: last, head: head, ready) }
        } catch {
            self.stop(first: first, last: last, error)
            throw error
        }
        self.applied(last)
    }

    /// Writes a prepared batch ending at `last` and its checkpoint into `txn`, in the
    /// generation being built; a shadow rebuild that reaches `head` becomes the active one
    /// in the same write.
    func write(_ txn: inout WriteTransaction, last: UInt64, head: UInt64, _ ready: StagedBatch) throws {
        let projection = self.projection
        let views = self.views
        var meta = try Self.meta(&txn, views: views, name: projection.name)
        let rebuilding = meta.shadowVersion == projection.version && meta.version != projection.version
        let generation = rebuilding ? 1 - meta.generation : meta.generation
        try withUnsafeMutablePointer(to: &txn) { pointer in
            try ready.apply(ProjectionStore(transaction: pointer, views: views, generation: generation))
        }
        if rebuilding {
            meta.shadowPosition = last
            if last >= head {
                // Caught up: the swap is this one write.
                meta = ProjectionMeta(position: last, version: projection.version, generation: generation)
            }
        } else {
            meta.position = last
            meta.version = projection.version
        }
        try Self.putMeta(&txn, views: views, name: projection.name, meta)
        CrashPoint.midProjectionBatch.hit()
    }

    /// Records that the batch `first...last` committed.
    func applied(_ last: UInt64) {
        self.state.withLockedValue { $0.checkpoint = last }
    }

    /// The last position applied.
    var checkpoint: UInt64 { self.state.withLockedValue { $0.checkpoint } }

    /// Whether the projection stopped on a batch that threw.
    var stopped: Bool { self.state.withLockedValue { $0.failure != nil } }

    /// Stops the projection at the batch `first...last`, which threw `error`: the status
    /// names the positions and the error, and the log says it once.
    func stop(first: UInt64, last: UInt64, _ error: any Error) {
        let message = "projection \(self.projection.name) stopped at positions \(first)...\(last): \(error)"
        self.state.withLockedValue { $0.failure = message }
        self.logger.error("projection stopped", metadata: ["tally.projection": "\(self.projection.name)", "tally.error": "\(message)"])
    }

    private static func meta(_ txn: inout WriteTransaction, views: ViewStore, name: String) throws -> ProjectionMeta {
        try Array(name.utf8).withUnsafeBytes { key in try txn.get(views.meta, key: key) }.flatMap(ProjectionMeta.init) ?? ProjectionMeta()
    }

    private static func putMeta(_ txn: inout WriteTransaction, views: ViewStore, name: String, _ meta: ProjectionMeta) throws {
        let value = meta.encoded
        try Array(name.utf8).withUnsafeBytes { key in
            try value.withUnsafeBytes { value in try txn.put(views.meta, key: key, value: value, flags: []) }
        }
    }
}
