import Foundation
import NIOConcurrencyHelpers
import TallyDomain
import TallyLog

/// The payments write model kept beside the log (design §2): decided inside the group
/// commit, published to readers only once the batch is durable.
///
/// `committed` is what readers see. `batch` holds what the commands of the batch being
/// committed changed; it is touched only on the log's writer thread (in commands run by
/// ``EventLog/withinCommit(_:)`` and in the ``CommitListener`` callbacks), which is what
/// makes the `@unchecked Sendable` sound.
final class PaymentsModel: CommitListener, @unchecked Sendable {
    // CommitListener so tests can run it alone; the ledger calls it through DomainListener.
    private let committed = CommittedState()
    private var batch = PaymentChanges()
    /// Payment events committed since the last checkpoint (writer thread only).
    private var eventsSinceCheckpoint = 0
    /// Index checkpoints since the last snapshot (each covers tens of thousands of log events).
    private var checkpointsSkipped = 0
    private var batchEvents = 0
    /// What ``warm(from:of:append:)`` read, summed (kept so that the reads are not optimised away).
    private var warmed: UInt64 = 0
    /// Whether the batch wrote into the committed state's tables (as uncommitted): posted
    /// transfers, balance changes, opened accounts.
    private var folded = false
    /// What replay at open folded in and has not yet published, and how many events.
    private var replayChanges = PaymentChanges()
    private var replayPending = 0
    /// The fewest payment events between two checkpoints; at least half the state's size,
    /// so that writing snapshots costs O(1) per event and replay at open stays bounded.
    let checkpointEventsMin: Int

    /// The checkpoint's name in the log.
    static let checkpointName = "payments"

    /// Feeds of large batches already committed, freed by the next large batch's producer.
    private let retired = NIOLockedValueBox<[SpeculationFeed]>([])

    init(checkpointEventsMin: Int) {
        self.checkpointEventsMin = checkpointEventsMin
    }

    /// Reads the committed state.
    func read<T>(_ body: (borrowing PaymentsState) -> T) -> T {
        self.committed.withLock { body($0) }
    }

    // MARK: CommitListener (writer thread)

    func batchCommitted(acknowledge: () -> Void) {
        self.eventsSinceCheckpoint += self.batchEvents
        self.batchEvents = 0
        guard !self.batch.isEmpty || self.folded else { return acknowledge() }
        self.folded = false
        // Callers resume first and send their next commands while the batch is merged; a
        // read that follows an acknowledgement waits on the lock until it is in.
        self.committed.withLock { state in
            acknowledge()
            state.apply(self.batch)
        }
        self.batch.removeAll()
    }

    func batchFailed() {
        self.batch = PaymentChanges()
        self.batchEvents = 0
        if self.folded { self.committed.withLock { $0.discardUncommitted() } }
        self.folded = false
    }

    func checkpointSnapshots() -> [StateSnapshot] {
        let size = self.committed.withLock { $0.accounts.count + $0.transfers.count }
        // Also when the log moved on far without payments: otherwise a ledger of other events
        // never gets a checkpoint and every open replays it from position 1.
        let farBehind = self.checkpointsSkipped >= 8 && self.checkpointsSkipped * 10_000 >= size / 2
        guard self.eventsSinceCheckpoint >= max(self.checkpointEventsMin, size / 2) || farBehind else {
            self.checkpointsSkipped += 1
            return []
        }
        self.eventsSinceCheckpoint = 0
        self.checkpointsSkipped = 0
        return [StateSnapshot(name: Self.checkpointName, bytes: self.committed.withLock { $0.snapshot() })]
    }

    // MARK: Made events (callers' tasks)

    /// Keeps `feed` (its batch decided, its producer done) for the next large batch's producer
    /// to free.
    ///
    /// Freeing a batch's thousands of made events costs about a microsecond each (their
    /// memory was last touched on the other core), about an eighth of a one-client run when
    /// the caller did it between two batches, while the writer waited. The next producer
    /// frees them once it has made its own batch's events, on the core the writer does not
    /// use. At most the last large batch's events are kept this way.
    func retire(_ feed: SpeculationFeed) {
        self.retired.withLockedValue { $0.append(feed) }
    }

    /// Frees the retired feeds (their last references).
    func freeRetired() {
        let feeds = self.retired.withLockedValue { feeds in
            defer { feeds = [] }
            return feeds
        }
        withExtendedLifetime(feeds) {}
    }

    // MARK: Commands (writer thread)

    /// Decides `commands` against the committed state plus the batch, appends the events of
    /// each accepted one (all of them at once if `linked`), and folds them into the batch.
    ///
    /// `speculations` (see ``SpeculationFeed``) are events made ahead of the commit; one is
    /// appended as made when deciding its command yields it.
    func execute(
        _ commands: [PaymentCommand], linked: Bool, now: UInt64, metadata: EventMetadata = .empty,
        speculations: SpeculationFeed? = nil, append: CommitAppend
    ) -> [PaymentOutcome] {
        if linked {
            let decided = self.committed.withLock { state in
                Payments.decideLinked(commands, state: state, changes: self.batch, now: now)
            }
            guard let trial = decided.changes else { return decided.outcomes }
            let events = decided.outcomes.flatMap { outcome -> [PaymentEvent] in
                if case .applied(let events) = outcome { return events }
                return []
            }
            if events.isEmpty { return decided.outcomes }
            switch append(Self.streams(for: events, metadata: metadata)) {
            case .success:
                self.batch = trial
                self.committed.withLock { $0.writeThrough(&self.batch) }
                self.folded = true
                self.batchEvents += events.count
                return decided.outcomes
            case .failure(let error):
                return commands.map { _ in .rejected(Self.rejection(error)) }
            }
        }
        // The batch's changes are worked on in a local while the commands run: a class
        // property's every access is checked for exclusivity at run time (a thread-local
        // lookup each), a local's at compile time.
        var batch = PaymentChanges()
        swap(&batch, &self.batch)
        defer { swap(&batch, &self.batch) }
        var outcomes: [PaymentOutcome] = []
        outcomes.reserveCapacity(commands.count)
        var events = 0
        var folded = false
        var warmedEnd = 0
        for index in commands.indices {
            if index >= warmedEnd, let speculations {
                warmedEnd = self.warm(from: index, of: speculations, append: append)
            }
            // A made event exists only for a posted transfer, and carries all of its request.
            if let speculation = speculations?.take(index) {
                outcomes.append(self.executeMade(speculation, batch: &batch, events: &events, folded: &folded, append: append))
            } else {
                outcomes.append(
                    self.executeOne(commands[index], now: now, metadata: metadata, batch: &batch, events: &events, folded: &folded, append: append))
            }
        }
        self.batchEvents += events
        if folded { self.folded = true }
        return outcomes
    }

    /// Reads ahead what deciding the next ``warmAhead`` made transfers from `start` will read,
    /// in the write model and in the log (``PaymentsState/warm(_:_:)``, ``CommitAppend/warm(_:)``);
    /// returns where the next read-ahead starts (the command after the last one read, or the
    /// next one if none is made yet).
    private func warm(from start: Int, of speculations: SpeculationFeed, append: CommitAppend) -> Int {
        // Nothing made here (another kind of command, or the producer is behind): try again
        // at the next command, without allocating.
        guard speculations.peek(start) != nil else { return start + 1 }
        var upcoming: [PreparedStreams] = []
        upcoming.reserveCapacity(Self.warmAhead)
        var end = start
        while end < min(speculations.count, start + Self.warmAhead), let speculation = speculations.peek(end) {
            upcoming.append(speculation.streams)
            end += 1
        }
        let read = self.committed.withLock { state in
            state.warm(end - start) { speculations.peek(start + $0)?.transfer }
        }
        self.warmed &+= read
        append.warm(upcoming)
        return end
    }

    /// How many made transfers ``warm(from:of:append:)`` reads ahead at a time: enough for the
    /// processor to overlap their misses, few enough that what they read stays in cache
    /// until they are decided.
    static let warmAhead = 32

    /// Decides one command, appends its events if it is accepted and folds them into `batch`.
    private func executeOne(
        _ command: PaymentCommand, now: UInt64, metadata: EventMetadata, batch: inout PaymentChanges, events eventCount: inout Int,
        folded: inout Bool, append: CommitAppend
    ) -> PaymentOutcome {
        let (outcome, fold) = self.committed.withLock { state in
            Payments.decideForFold(command, state: state, changes: batch, now: now)
        }
        guard case .applied(let events) = outcome, !events.isEmpty else { return outcome }
        switch append(Self.streams(for: events, metadata: metadata)) {
        case .success:
            eventCount += events.count
            if let fold {
                self.committed.withLock { state in Payments.fold(fold, into: &batch, state: &state) }
                folded = true
                return outcome
            }
            self.committed.withLock { state in
                for event in events {
                    do { try Payments.evolve(event, state: state, changes: &batch) } catch {
                        preconditionFailure("a decided event does not evolve: \(error)")
                    }
                }
                state.writeThrough(&batch)
            }
            folded = true
            return outcome
        case .failure(let error):
            return .rejected(Self.rejection(error))
        }
    }

    /// Decides a posted transfer whose event was made ahead and, if it is accepted, appends
    /// that event as made and folds it into `batch`.
    private func executeMade(
        _ speculation: Speculation, batch: inout PaymentChanges, events: inout Int, folded: inout Bool, append: CommitAppend
    ) -> PaymentOutcome {
        let decision = self.committed.withLock { state in
            Payments.decideMade(speculation.transfer, state: state, changes: batch)
        }
        let fold: PreparedFold
        switch consume decision {
        case .decided(let outcome): return outcome
        case .accepted(let prepared): fold = prepared
        }
        if let error = append.write(speculation.streams) { return .rejected(Self.rejection(error)) }
        events += 1
        self.committed.withLock { state in Payments.fold(fold, into: &batch, state: &state) }
        folded = true
        return speculation.outcome
    }

    /// A log-level refusal (ledger full, a limit) as a rejection with the log's code.
    static func rejection(_ error: LogError) -> Rejection {
        Rejection(RejectionCode(error.code.rawValue), error.message)
    }

    // MARK: Replay (at open, before any command)

    /// Restores the newest checkpoint that verifies, then folds every payment event of
    /// `log` after it into the committed state. Returns the position replay started from.
    /// (``Ledger`` replays all its write models in one pass; this is one model alone.)
    @discardableResult
    func replay(_ log: EventLog) throws -> UInt64 {
        let start = try self.restoreCheckpoint(log)
        try log.forEachEvent(fromPosition: start, inStreamsPrefixed: PaymentEvent.streamPrefixes) { try self.replay($0) }
        self.finishReplay(from: start, head: log.headPosition)
        return start
    }

    /// Restores the newest checkpoint that verifies; returns the first position to replay.
    func restoreCheckpoint(_ log: EventLog) throws -> UInt64 {
        guard let snapshot = try log.stateCheckpoint(named: Self.checkpointName), snapshot.position <= log.headPosition,
            let state = try? PaymentsState(snapshot: snapshot.bytes)
        else { return 1 }
        self.committed.withLock { $0 = state }
        return snapshot.position + 1
    }

    /// Folds one payment event of the log into the state being replayed.
    ///
    /// - Throws: ``LogError`` `corruption` when it does not decode or does not apply.
    func replay(_ event: RecordedEvent) throws {
        do {
            let decoded = try PaymentEvent(type: event.type, payload: event.payload)
            try self.committed.withLock { state in try Payments.evolve(decoded, state: state, changes: &self.replayChanges) }
        } catch {
            throw LogError(.corruption, "payment event at position \(event.position) does not replay: \(error)", position: event.position)
        }
        self.replayPending += 1
        if self.replayPending >= 50_000 {
            self.committed.withLock { $0.apply(self.replayChanges) }
            self.replayChanges = PaymentChanges()
            self.replayPending = 0
        }
    }

    /// Publishes what replay folded in; a long replay asks for a checkpoint at the next chance.
    func finishReplay(from start: UInt64, head: UInt64) {
        if head + 1 > start + 50_000 { self.checkpointsSkipped = max(self.checkpointsSkipped, 8) }
        self.committed.withLock { $0.apply(self.replayChanges) }
        self.replayChanges = PaymentChanges()
        self.replayPending = 0
    }
}

/// The committed payments state behind a lock.
///
/// Not `Mutex<PaymentsState>`: measured, applying a batch through `Mutex.withLock` copied
/// the whole transfer dictionary every time (its storage was not seen as uniquely
/// referenced), which cost more than the rest of the commit. A class property mutated in
/// place under a lock keeps the storage unique.
final class CommittedState: @unchecked Sendable {
    // @unchecked: `state` is only touched inside `withLock`, under `lock`.
    private let lock = NSLock()
    private var state = PaymentsState()

    func withLock<T, E: Error>(_ body: (inout PaymentsState) throws(E) -> T) throws(E) -> T {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body(&self.state)
    }
}
