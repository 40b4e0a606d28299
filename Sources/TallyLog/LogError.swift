/// An error from the event log: a rejected append, a bad argument, corruption, or a
/// storage failure.
///
/// `code` is stable and machine-readable (its ``Code/rawValue`` is the snake_case code the
/// CLI prints and the HTTP API returns); `message` says what happened and what to do.
public struct LogError: Error, Sendable, CustomStringConvertible {
    /// A stable, snake_case error code.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        /// The code as written in the CLI, HTTP problem details and docs.
        public let rawValue: String
        init(_ rawValue: String) { self.rawValue = rawValue }

        /// The stream is not at the version the append expected.
        public static let wrongExpectedVersion = Code("wrong_expected_version")
        /// An event id is already used by an event with other content, or repeated in one call.
        public static let eventIDConflict = Code("event_id_conflict")
        /// A stream id is empty, too long, not UTF-8 or contains control characters.
        public static let invalidStreamID = Code("invalid_stream_id")
        /// An event type is empty, too long, or not dotted lowercase.
        public static let invalidEventType = Code("invalid_event_type")
        /// Metadata is too large, or uses a reserved key wrongly.
        public static let invalidMetadata = Code("invalid_metadata")
        /// A payload is larger than ``Limits/payloadBytesMax``.
        public static let payloadTooLarge = Code("payload_too_large")
        /// An append carries no events, or more than ``Limits/appendEventsMax``.
        public static let invalidBatch = Code("invalid_batch")
        /// The map's soft limit is reached: appends are refused, reads still work.
        public static let ledgerFull = Code("ledger_full")
        /// The ledger was opened read-only.
        public static let readOnly = Code("read_only")
        /// A commit or fsync failed earlier; the ledger refuses writes until reopened.
        public static let unhealthy = Code("unhealthy")
        /// Another process holds the data directory for writing.
        public static let locked = Code("locked")
        /// Stored bytes do not verify.
        public static let corruption = Code("corruption")
        /// The storage engine or the operating system reported an error.
        public static let storage = Code("storage_error")
        /// The data directory does not exist or is not a Tally data directory.
        public static let notInitialized = Code("not_initialized")
        /// The ledger has been closed.
        public static let closed = Code("closed")
        /// The stream belongs to the ledger's domain; only its commands append there.
        public static let reservedStream = Code("reserved_stream")
        /// An argument is out of range (e.g. position 0).
        public static let invalidArgument = Code("invalid_argument")

        /// The raw code.
        public var description: String { self.rawValue }

        /// Lets `catch` and `switch` match an error by code: `case LogError.Code.ledgerFull`.
        public static func ~= (lhs: Code, rhs: any Error) -> Bool {
            (rhs as? LogError)?.code == lhs
        }
    }

    /// What went wrong.
    public var code: Code
    /// A message a person can act on.
    public var message: String
    /// For `wrong_expected_version`: the stream's actual version (`nil`: no stream).
    public var actualVersion: UInt64?
    /// For corruption: the first bad position.
    public var position: UInt64?
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?
    /// Where the error was thrown.
    public var location: String

    /// Creates an error.
    public init(
        _ code: Code,
        _ message: String,
        actualVersion: UInt64? = nil,
        position: UInt64? = nil,
        cause: (any Error & Sendable)? = nil,
        file: String = #fileID,
        line: Int = #line
    ) {
        self.code = code
        self.message = message
        self.actualVersion = actualVersion
        self.position = position
        self.cause = cause
        self.location = "\(file):\(line)"
    }

    /// `code: message`, plus the cause when there is one.
    public var description: String {
        var text = "\(self.code.rawValue): \(self.message)"
        if let cause = self.cause { text += " (cause: \(cause))" }
        return text
    }
}
