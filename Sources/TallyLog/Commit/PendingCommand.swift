/// Appends from inside a group commit: decides and writes streams like ``EventLog/append(_:)``
/// (all or none, expected versions, idempotent ids), against the batch so far.
///
/// Call it with the streams, or with ``PreparedStreams`` checked and encoded earlier in the
/// caller's task (then the writer thread only decides and writes them).
public struct CommitAppend {
    let body: (PreparedAppend, _ report: Bool) -> Result<AppendResult, LogError>
    let warmBody: ([PreparedStreams]) -> Void

    init(
        prepared body: @escaping (PreparedAppend, _ report: Bool) -> Result<AppendResult, LogError>,
        warm: @escaping ([PreparedStreams]) -> Void = { _ in }
    ) {
        self.body = body
        self.warmBody = warm
    }

    /// Reads ahead what deciding `upcoming` (the next appends of this command, in order)
    /// will look up: the tail index and the persisted index's filters, for each one-event
    /// append. A hint for speed only: it changes nothing, and an append decides the same
    /// whether it was warmed or not.
    ///
    /// Deciding appends one at a time between other work waits for each table's cache miss
    /// in turn; this loop has nothing else to do, so the processor overlaps its misses.
    public func warm(_ upcoming: [PreparedStreams]) {
        self.warmBody(upcoming)
    }

    /// Checks `streams` (as ``EventLog/append(_:)`` does), then decides and writes them.
    public func callAsFunction(_ streams: [StreamAppend]) -> Result<AppendResult, LogError> {
        do throws(LogError) {
            return self.body(try PreparedStreams(streams).append, true)
        } catch {
            return .failure(error)
        }
    }

    /// Decides and writes streams checked and encoded beforehand.
    public func callAsFunction(_ prepared: PreparedStreams) -> Result<AppendResult, LogError> {
        self.body(prepared.append, true)
    }

    /// Decides and writes streams checked and encoded beforehand, for a caller that needs
    /// only whether they were written: a written one-stream append's result is then
    /// ``AppendResult/unreported`` (its arrays are not made); `nil` if it was written or was
    /// a duplicate, else the refusal.
    public func write(_ prepared: PreparedStreams) -> LogError? {
        switch self.body(prepared.append, false) {
        case .success: return nil
        case .failure(let error): return error
        }
    }
}

/// Streams checked and encoded for an append (ids, sizes, limits, the payload's JSON flag)
/// ahead of the commit, in the task that makes them, so that ``CommitAppend`` leaves the
/// writer thread only the deciding and the writing.
public struct PreparedStreams: Sendable {
    let append: PreparedAppend

    /// Checks `streams` as ``EventLog/append(_:)`` does.
    ///
    /// - Throws: ``LogError`` `invalid_batch`, `invalid_stream_id`, `invalid_event` and the
    ///   other append checks, with the same messages.
    public init(_ streams: [StreamAppend]) throws(LogError) {
        let prepared = try PendingAppend.prepare(streams)
        self.append = PreparedAppend(streams: prepared.streams, eventCount: prepared.events, recordBytes: prepared.bytes)
    }

    /// One event to one stream: ``init(_:)`` of one ``StreamAppend`` with `event`, the same
    /// checks and messages, without building the two arrays (a payment command's events are
    /// made by the thousand while the writer decides them).
    public init(streamID: String, expectedVersion: ExpectedVersion, event: ProposedEvent) throws(LogError) {
        let stream = try PendingAppend.prepareOne(streamID: streamID, expectedVersion: expectedVersion, event: event)
        let prepared = try PendingAppend.checkSize([stream])
        self.append = PreparedAppend(streams: prepared.streams, eventCount: prepared.events, recordBytes: prepared.bytes)
    }
}

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
    /// The batch's writes are durable: make what its commands staged visible to readers.
    ///
    /// `acknowledge` resumes the batch's callers (and fills the log's tail index); call it
    /// exactly once. A listener with much to apply calls it while holding the lock its
    /// readers take, then applies: callers send their next request meanwhile, and a read
    /// that follows an acknowledgement waits on the lock until the batch is in.
    func batchCommitted(acknowledge: () -> Void)
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
