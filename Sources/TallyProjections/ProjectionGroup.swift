public import ServiceLifecycle
import TallyLMDB
import TallyLog

/// Runs several projection workers on one subscription to the log: each batch is read and
/// decoded once, prepared for every worker, and applied for all of them, each with its own
/// checkpoint, in one `<data>/views` transaction (one commit and one flush a batch, not one
/// per projection).
///
/// Each worker still fails alone. A batch a worker cannot prepare or apply stops that
/// worker at the batch (its ``ProjectionStatus/failure`` names the positions and the error);
/// the transaction is then written again without it, so the others apply the batch and go
/// on. Only a failure of the views environment itself (a commit that fails) stops all of
/// them, and ``run()`` throws it.
public final class ProjectionGroup: Service, Sendable {
    /// The workers, in the order they apply within a transaction.
    public let workers: [ProjectionWorker]
    /// A worker more events than this behind the head when the group starts (a projection
    /// rebuilt after a version change) catches up and follows on its own, so the others keep
    /// following the head meanwhile.
    public let aloneBehindEvents: UInt64

    /// Groups `workers`, which must follow the same log into the same views.
    public init(_ workers: [ProjectionWorker], aloneBehindEvents: UInt64 = 100_000) {
        self.workers = workers
        self.aloneBehindEvents = aloneBehindEvents
    }

    /// Follows the log until a graceful shutdown (ServiceLifecycle), cancellation or the log
    /// closes; a batch being applied finishes first. When every worker has stopped on a
    /// failing batch the group waits for shutdown (their statuses say why), so a server
    /// keeps answering.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.followAll()
                try await gracefulShutdown()
            }
        } catch is CancellationError {
            // Shutdown: the last batch committed with its checkpoints; nothing to undo.
        }
    }

    /// The workers near the head follow together; each far behind catches up (reading the
    /// log in large batches) and follows alone. A worker that stops is in its status.
    private func followAll() async throws {
        guard let log = self.workers.first?.log else { return }
        for worker in self.workers { try await worker.prepare() }
        let head = log.headPosition
        let alone = self.workers.filter { head - min(head, $0.checkpoint) > self.aloneBehindEvents }
        let together = self.workers.filter { worker in !alone.contains { $0 === worker } }
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for worker in alone {
                tasks.addTask {
                    // Its failure is in its status, as for a worker of the group.
                    try? await worker.catchUp()
                    if !worker.stopped { try? await worker.follow() }
                }
            }
            tasks.addTask { try await self.follow(together) }
            try await tasks.waitForAll()
        }
    }

    private func follow(_ workers: [ProjectionWorker]) async throws {
        guard let log = workers.first?.log, let views = workers.first?.views else { return }
        let lowest = workers.map(\.checkpoint).min() ?? 0
        var iterator = log.subscribe(fromPosition: lowest + 1).makeAsyncIterator()
        while !Task.isCancelled {
            let running = workers.filter { !$0.stopped }
            if running.isEmpty { return }
            guard let batch = try await iterator.nextBatch(max: ProjectionWorker.batchEventsMax) else { return }
            try await Self.apply(batch, to: running, views: views, head: log.headPosition)
        }
    }

    /// One worker's part of a batch: the positions it has not applied yet, prepared.
    private struct Part: Sendable {
        let worker: ProjectionWorker
        let first: UInt64
        let last: UInt64
        let ready: StagedBatch
    }

    /// Which part threw inside the shared transaction (the transaction is aborted).
    private struct PartFailure: Error {
        let index: Int
        let error: any Error
    }

    /// Prepares `batch` for each of `workers` and applies every part in one transaction,
    /// leaving out (and stopping) a worker whose part throws.
    static func apply(_ batch: [RecordedEvent], to workers: [ProjectionWorker], views: ViewStore, head: UInt64) async throws {
        var parts: [Part] = []
        for worker in workers {
            let checkpoint = worker.checkpoint
            let start = batch.firstIndex { $0.position > checkpoint } ?? batch.count
            guard start < batch.count, let last = batch.last?.position else { continue }
            let events = start == 0 ? batch : Array(batch[start...])
            let first = events[0].position
            do {
                parts.append(Part(worker: worker, first: first, last: last, ready: try worker.projection.staged(events)))
            } catch {
                worker.stop(first: first, last: last, error)
            }
        }
        while !parts.isEmpty {
            do {
                try await views.write { [parts] txn in
                    for (index, part) in parts.enumerated() {
                        do {
                            try part.worker.write(&txn, last: part.last, head: head, part.ready)
                        } catch {
                            throw PartFailure(index: index, error: error)
                        }
                    }
                }
                for part in parts { part.worker.applied(part.last) }
                return
            } catch let failure as PartFailure {
                let part = parts.remove(at: failure.index)
                part.worker.stop(first: part.first, last: part.last, failure.error)
            } catch {
                for part in parts { part.worker.stop(first: part.first, last: part.last, error) }
                throw error
            }
        }
    }
}
