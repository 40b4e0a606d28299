@_exported public import TallyLog
@_exported public import TallyDomain
public import Logging
import Foundation

/// The Tally ledger: the public entry point of the Swift API.
///
/// It owns the event log and the payments write model beside it; projections and
/// recovery attach here as they arrive (see docs/architecture.md).
///
/// ```swift
/// let ledger = try await Ledger.open(at: "data", configuration: .init(createIfMissing: true))
/// _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
/// let result = try await ledger.log.append(to: "health-api", events: [
///     ProposedEvent(type: "health.checked", payload: Array(#"{"status":"healthy"}"#.utf8))
/// ])
/// for try await event in ledger.log.subscribe(fromPosition: 1) { print(event.position) }
/// ```
public final class Ledger: Sendable {
    /// The append-only event log: the source of truth.
    public let log: EventLog
    let payments: PaymentsModel
    let operations: OperationsModel
    /// Whether the write models were rebuilt at open (see `replayingWriteModels`).
    private let hasWriteModels: Bool
    private let expiry: Task<Void, Never>?

    private init(log: EventLog, payments: PaymentsModel, operations: OperationsModel, hasWriteModels: Bool, expiryInterval: Duration?) {
        self.log = log
        self.payments = payments
        self.operations = operations
        self.hasWriteModels = hasWriteModels
        if let expiryInterval, log.isWritable {
            self.expiry = Task { [log, payments] in
                await Self.expireLoop(log: log, payments: payments, interval: expiryInterval)
            }
        } else {
            self.expiry = nil
        }
    }

    /// Streams of the ledger's own records (API keys, admin actions): `tally-…`, reserved.
    public static let systemStreamPrefix = "tally-"

    /// Opens the ledger in `directory` and rebuilds the payments write model from the log.
    ///
    /// Streams `account-…`, `transfer-…`, `deployment-…`, `service-…`, `health-…` and
    /// `tally-…` are reserved for the domain's commands; a plain ``EventLog/append(_:)`` there is refused
    /// with `reserved_stream`.
    ///
    /// - Parameters:
    ///   - directory: the data directory.
    ///   - configuration: how to open the log.
    ///   - expiryInterval: how often a writable ledger looks for pending transfers whose
    ///     timeout passed and expires them (`nil`: never; tests call ``expireDuePending()``).
    ///   - paymentsCheckpointEvents: the fewest payment events between two checkpoints of the
    ///     payments write model (written with the index checkpoints; open restores the newest
    ///     and replays only the log after it).
    ///   - replayingWriteModels: `false` skips rebuilding the payments and operations write
    ///     models, for a read-only open that only reads the log (an export, a stats or
    ///     verify run): on a ledger of many transfers they are most of the open's time and
    ///     memory (the payments state holds every transfer for idempotency). The account,
    ///     transfer, deployment and health queries are then unavailable (calling one is a
    ///     programming error). Ignored unless `configuration.readOnly`: a writer needs them.
    ///   - logger: where the ledger reports what it does.
    /// - Throws: ``LogError`` (`not_initialized`, `locked`, `corruption`, `storage_error`).
    public static func open(
        at directory: String,
        configuration: LogConfiguration = LogConfiguration(),
        expiryInterval: Duration? = .milliseconds(250),
        paymentsCheckpointEvents: Int = 10_000,
        replayingWriteModels: Bool = true,
        logger: Logger = Logger(label: "tally")
    ) async throws -> Ledger {
        var configuration = configuration
        for prefix in ["account-", "transfer-", Ledger.systemStreamPrefix] + OperationsEvent.streamPrefixes
        where !configuration.reservedStreamPrefixes.contains(prefix) {
            configuration.reservedStreamPrefixes.append(prefix)
        }
        let payments = PaymentsModel(checkpointEventsMin: paymentsCheckpointEvents)
        let operations = OperationsModel(checkpointEventsMin: paymentsCheckpointEvents)
        let listener = DomainListener(payments: payments, operations: operations)
        let log = try await EventLog.open(at: directory, configuration: configuration, listener: listener, logger: logger)
        let replaying = replayingWriteModels || !configuration.readOnly
        do {
            if replaying { try Self.replay(log, payments: payments, operations: operations) }
        } catch {
            await log.close()
            throw error
        }
        return Ledger(log: log, payments: payments, operations: operations, hasWriteModels: replaying, expiryInterval: expiryInterval)
    }

    /// Stops a query of the write models on a ledger opened without them.
    func requireWriteModels(_ query: StaticString = #function) {
        precondition(self.hasWriteModels, "Ledger.\(query): this ledger was opened with replayingWriteModels: false")
    }

    /// Rebuilds the write models from their checkpoints and the log after them, in one pass
    /// that decodes only their streams' events.
    private static func replay(_ log: EventLog, payments: PaymentsModel, operations: OperationsModel) throws {
        let paymentsStart = try payments.restoreCheckpoint(log)
        let operationsStart = try operations.restoreCheckpoint(log)
        try log.forEachEvent(
            fromPosition: min(paymentsStart, operationsStart), inStreamsPrefixed: PaymentEvent.streamPrefixes + OperationsEvent.streamPrefixes
        ) { event in
            if PaymentEvent.isPaymentStream(event.streamID) {
                if event.position >= paymentsStart { try payments.replay(event) }
            } else if event.position >= operationsStart {
                try operations.replay(event)
            }
        }
        payments.finishReplay(from: paymentsStart, head: log.headPosition)
        operations.finishReplay(from: operationsStart, head: log.headPosition)
    }

    /// Closes the ledger: queued appends commit, then the files close.
    public func close() async {
        self.expiry?.cancel()
        await self.expiry?.value
        await self.log.close()
    }

    private static func expireLoop(log: EventLog, payments: PaymentsModel, interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
            guard !Task.isCancelled, log.isWritable else { return }
            let now = wallClockNow()
            let due = payments.read { state in state.openPending.values.contains { $0 <= now } }
            guard due else { continue }
            _ = try? await log.withinCommit { append in
                payments.execute([.expireDue], linked: false, now: wallClockNow(), append: append)
            }
        }
    }
}

/// Nanoseconds since 1970-01-01 UTC.
func wallClockNow() -> UInt64 {
    var spec = timespec()
    clock_gettime(CLOCK_REALTIME, &spec)
    return UInt64(spec.tv_sec) * 1_000_000_000 + UInt64(spec.tv_nsec)
}
