public import Foundation

/// An event to append: the caller's part of a record.
public struct ProposedEvent: Sendable, Hashable {
    /// The event id: an idempotency key, forever. Retrying an append with the same ids and
    /// the same content returns the original positions.
    public var id: UUID
    /// The dotted lowercase type, e.g. `transfer.posted`.
    public var type: String
    /// The payload bytes (JSON by convention).
    public var payload: [UInt8]
    /// Who and why.
    public var metadata: EventMetadata

    /// Creates an event.
    ///
    /// - Parameters:
    ///   - id: the event id; a new time-ordered one (``Foundation/UUID/timeOrdered()``) when omitted.
    ///   - type: the dotted lowercase event type.
    ///   - payload: the payload bytes.
    ///   - metadata: actor, correlation and causation ids, extra pairs.
    public init(id: UUID = .timeOrdered(), type: String, payload: [UInt8], metadata: EventMetadata = .empty) {
        self.id = id
        self.type = type
        self.payload = payload
        self.metadata = metadata
    }
}
