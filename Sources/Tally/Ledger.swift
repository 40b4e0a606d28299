@_exported public import TallyLog
public import Logging

/// The Tally ledger: the public entry point of the Swift API.
///
/// Today it owns the event log; payments, projections and recovery attach here as they
/// arrive (see docs/architecture.md).
///
/// ```swift
/// let ledger = try await Ledger.open(at: "data", configuration: .init(createIfMissing: true))
/// let result = try await ledger.log.append(to: "health-api", events: [
///     ProposedEvent(type: "health.checked", payload: Array(#"{"status":"healthy"}"#.utf8))
/// ])
/// for try await event in ledger.log.subscribe(fromPosition: 1) { print(event.position) }
/// ```
public final class Ledger: Sendable {
    /// The append-only event log: the source of truth.
    public let log: EventLog

    private init(log: EventLog) {
        self.log = log
    }

    /// Opens the ledger in `directory`.
    ///
    /// - Parameters:
    ///   - directory: the data directory.
    ///   - configuration: how to open the log.
    ///   - logger: where the ledger reports what it does.
    /// - Throws: ``LogError`` (`not_initialized`, `locked`, `corruption`, `storage_error`).
    public static func open(
        at directory: String,
        configuration: LogConfiguration = LogConfiguration(),
        logger: Logger = Logger(label: "tally")
    ) async throws -> Ledger {
        Ledger(log: try await EventLog.open(at: directory, configuration: configuration, logger: logger))
    }

    /// Closes the ledger: queued appends commit, then the files close.
    public func close() async {
        await self.log.close()
    }
}
