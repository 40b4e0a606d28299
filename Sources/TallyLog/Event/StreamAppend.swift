/// Events for one stream within an append call, with the version they expect.
public struct StreamAppend: Sendable, Hashable {
    /// The stream id (UTF-8, 1 to ``Limits/streamIDBytesMax`` bytes, no control characters).
    public var streamID: String
    /// The version the stream must be at.
    public var expectedVersion: ExpectedVersion
    /// The events, in order.
    public var events: [ProposedEvent]

    /// Creates a stream append.
    public init(streamID: String, expectedVersion: ExpectedVersion = .any, events: [ProposedEvent]) {
        self.streamID = streamID
        self.expectedVersion = expectedVersion
        self.events = events
    }
}

/// The outcome of a successful append.
public struct AppendResult: Sendable, Hashable {
    /// The position of each event, in the order given (streams in order, then events).
    public var positions: [UInt64]
    /// Each stream's version after the append, in the order given.
    public var streamVersions: [UInt64]
    /// `true` when every event already existed with the same content: nothing was written
    /// and ``positions`` are the original ones.
    public var wasDuplicate: Bool

    /// The result of a written append whose caller asked not to have it
    /// (``CommitAppend/write(_:)``): no positions or versions.
    static let unreported = AppendResult(positions: [], streamVersions: [], wasDuplicate: false)

    /// The position of the first event.
    public var firstPosition: UInt64 { self.positions.first ?? 0 }
    /// The position of the last event.
    public var lastPosition: UInt64 { self.positions.last ?? 0 }
}
