/// Appends from inside a group commit: decides and writes `streams` like ``EventLog/append(_:)``
/// (all or none, expected versions, idempotent ids), against the batch so far.
public typealias CommitAppend = ([StreamAppend]) -> Result<AppendResult, LogError>

/// A command decided on the writer thread inside the next group commit.
struct PendingCommand: Sendable {
    /// Runs the command with the batch's append function; returns what to call once the
    /// batch is durable (`nil`) or failed (the error).
    let run: @Sendable (CommitAppend) -> @Sendable (LogError?) -> Void
    /// Fails the command without running it (the ledger is closed or unhealthy).
    let fail: @Sendable (LogError) -> Void
}

/// What the committer's queue holds.
enum PendingRequest: Sendable {
    case append(PendingAppend)
    case command(PendingCommand)

    var eventCount: Int {
        switch self {
        case .append(let append): append.eventCount
        case .command: 1
        }
    }

    var recordBytes: Int {
        switch self {
        case .append(let append): append.recordBytes
        case .command: 0
        }
    }

    func fail(_ error: LogError) {
        switch self {
        case .append(let append): append.continuation.resume(throwing: error)
        case .command(let command): command.fail(error)
        }
    }
}

/// Told on the writer thread whether each batch became durable, so state kept beside the
/// log (the payments write model) publishes only what was committed.
public protocol CommitListener: AnyObject, Sendable {
    /// The batch's writes are durable.
    func batchCommitted()
    /// The batch was not committed: forget what its commands staged.
    func batchFailed()
    /// Snapshots of the state as of the last committed batch, to keep behind the log (none
    /// to skip this time). Asked on the writer thread after each index checkpoint.
    func checkpointSnapshots() -> [StateSnapshot]
}

extension CommitListener {
    /// Never checkpoints.
    public func checkpointSnapshots() -> [StateSnapshot] { [] }
}

/// State kept beside the log, as of a position: restored at open, then the log after it is replayed.
public struct StateSnapshot: Sendable {
    /// Which state (one checkpoint per name).
    public var name: String
    /// The state's bytes, in the listener's own format.
    public var bytes: [UInt8]
    /// The last position the state reflects (filled in by the log when it writes it).
    public var position: UInt64

    public init(name: String, bytes: [UInt8], position: UInt64 = 0) {
        self.name = name
        self.bytes = bytes
        self.position = position
    }
}
