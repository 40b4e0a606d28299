import Foundation
import TallyChecksum
import TallyDomain
import TallyLog

/// The deployments, services and health write model beside the log, decided inside the
/// group commit like payments. The state is small (one entry per deployment, service and
/// component), so a batch works on a copy-on-write copy of the committed state.
///
/// `pending` is touched only on the writer thread; `committed` under its lock.
final class OperationsModel: CommitListener, @unchecked Sendable {
    private let lock = NSLock()
    private var committed = OperationsState()
    /// The batch's state: `nil` until the batch's first command changes something.
    private var pending: OperationsState?
    private var eventsSinceCheckpoint = 0
    /// Index checkpoints since the last snapshot (each covers tens of thousands of log events).
    private var checkpointsSkipped = 0
    private var batchEvents = 0
    let checkpointEventsMin: Int

    static let checkpointName = "operations"

    init(checkpointEventsMin: Int) {
        self.checkpointEventsMin = checkpointEventsMin
    }

    func read<T>(_ body: (borrowing OperationsState) -> T) -> T {
        self.lock.lock()
        defer { self.lock.unlock() }
        return body(self.committed)
    }

    func batchCommitted(acknowledge: () -> Void) {
        self.eventsSinceCheckpoint += self.batchEvents
        self.batchEvents = 0
        if let pending = self.pending {
            self.pending = nil
            self.lock.lock()
            self.committed = pending
            self.lock.unlock()
        }
        acknowledge()
    }

    func batchFailed() {
        self.pending = nil
        self.batchEvents = 0
    }

    func checkpointSnapshots() -> [StateSnapshot] {
        // Also when the log moved on far without operations events (see PaymentsModel).
        guard self.eventsSinceCheckpoint >= self.checkpointEventsMin || self.checkpointsSkipped >= 8 else {
            self.checkpointsSkipped += 1
            return []
        }
        guard let bytes = try? JSONEncoder().encode(OperationsSnapshot(self.read { $0 })) else { return [] }
        self.eventsSinceCheckpoint = 0
        self.checkpointsSkipped = 0
        return [StateSnapshot(name: Self.checkpointName, bytes: Array(bytes))]
    }

    /// Decides each command against the batch's state, appends its events and folds them.
    func execute(_ commands: [OperationsCommand], now: UInt64, metadata: EventMetadata = .empty, append: CommitAppend) -> [OperationsOutcome] {
        commands.map { command in
            // Taken out and put back so the batch's state stays uniquely referenced: a copy
            // per command would copy every dictionary of the model.
            var state = self.pending.take() ?? self.read { $0 }
            defer { self.pending = state }
            let outcome = Operations.decide(command, state: state, now: now)
            guard case .applied(let events) = outcome, !events.isEmpty else { return outcome }
            switch append(Self.streams(for: events, metadata: metadata)) {
            case .success:
                for event in events {
                    do { try Operations.evolve(event, state: &state) } catch {
                        preconditionFailure("a decided event does not evolve: \(error)")
                    }
                }
                self.batchEvents += events.count
                return outcome
            case .failure(let error):
                return .rejected(Rejection(RejectionCode(error.code.rawValue), error.message))
            }
        }
    }

    /// One append per event (each event is its own stream's next version; health checks
    /// and service events use `any`, deployments expect their exact version).
    static func streams(for events: [OperationsEvent], metadata: EventMetadata = .empty) -> [StreamAppend] {
        events.map { event in
            let expected: ExpectedVersion
            switch event {
            case .deploymentStarted: expected = .noStream
            default: expected = .any
            }
            // The caller's actor wins; otherwise the deployer is the actor of record.
            var metadata = metadata
            if metadata.actor == nil, case .deploymentStarted(let deployment) = event { metadata.actor = deployment.actor.rawValue }
            return StreamAppend(
                streamID: event.streamID, expectedVersion: expected,
                events: [ProposedEvent(id: .timeOrdered(), type: event.type, payload: event.payload, metadata: metadata)])
        }
    }

    // MARK: Replay (at open, before any command)

    /// Restores the newest checkpoint that verifies, then folds every operations event of
    /// `log` after it into the committed state. (``Ledger`` replays all its write models in
    /// one pass; this is one model alone.)
    func replay(_ log: EventLog) throws {
        let start = try self.restoreCheckpoint(log)
        try log.forEachEvent(fromPosition: start, inStreamsPrefixed: OperationsEvent.streamPrefixes) { try self.replay($0) }
        self.finishReplay(from: start, head: log.headPosition)
    }

    /// Restores the newest checkpoint that verifies; returns the first position to replay.
    func restoreCheckpoint(_ log: EventLog) throws -> UInt64 {
        guard let snapshot = try log.stateCheckpoint(named: Self.checkpointName), snapshot.position <= log.headPosition,
            let decoded = try? JSONDecoder().decode(OperationsSnapshot.self, from: Data(snapshot.bytes)),
            let state = try? decoded.state()
        else { return 1 }
        self.lock.lock()
        self.committed = state
        self.lock.unlock()
        return snapshot.position + 1
    }

    /// Folds one operations event of the log into the committed state (at open, nobody reads yet).
    ///
    /// - Throws: ``LogError`` `corruption` when it does not decode or does not apply.
    func replay(_ event: RecordedEvent) throws {
        self.lock.lock()
        defer { self.lock.unlock() }
        do {
            try Operations.evolve(try OperationsEvent(type: event.type, payload: event.payload), state: &self.committed)
        } catch {
            throw LogError(.corruption, "operations event at position \(event.position) does not replay: \(error)", position: event.position)
        }
    }

    /// A long replay asks for a checkpoint at the next chance.
    func finishReplay(from start: UInt64, head: UInt64) {
        if head + 1 > start + 50_000 { self.checkpointsSkipped = 8 }
    }
}

/// The operations state as JSON: the events that rebuild it (deployments and their
/// outcomes, replica counts, migrations, last health per component).
struct OperationsSnapshot: Codable {
    var events: [[String]]

    init(_ state: OperationsState) {
        var events: [OperationsEvent] = []
        for deployment in state.deployments.values {
            events.append(.deploymentStarted(deployment))
            switch deployment.state {
            case .started: break
            case .succeeded: events.append(.deploymentSucceeded(deployment.id, durationMilliseconds: deployment.durationMilliseconds ?? 0))
            case .failed: events.append(.deploymentFailed(deployment.id, reason: deployment.failureReason ?? ""))
            case .rolledBack:
                if let duration = deployment.durationMilliseconds {
                    events.append(.deploymentSucceeded(deployment.id, durationMilliseconds: duration))
                } else {
                    events.append(.deploymentFailed(deployment.id, reason: deployment.failureReason ?? ""))
                }
                events.append(.deploymentRolledBack(deployment.id, toVersion: deployment.rolledBackTo ?? "", reason: ""))
            }
        }
        for (key, replicas) in state.replicas {
            let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
            if parts.count == 2, let service = try? DomainID(parts[0], field: "service"),
                let environment = try? DomainID(parts[1], field: "environment")
            {
                events.append(.serviceScaled(service: service, environment: environment, from: 0, to: replicas))
            }
        }
        for (service, migrations) in state.migrations {
            for migration in migrations { events.append(.migrationApplied(service: service, migration: migration)) }
        }
        for check in state.health.values { events.append(.healthChecked(check)) }
        self.events = events.map { [$0.type, String(decoding: $0.payload, as: UTF8.self)] }
    }

    func state() throws -> OperationsState {
        var state = OperationsState()
        for pair in self.events where pair.count == 2 {
            try Operations.evolve(try OperationsEvent(type: pair[0], payload: Array(pair[1].utf8)), state: &state)
        }
        return state
    }
}
