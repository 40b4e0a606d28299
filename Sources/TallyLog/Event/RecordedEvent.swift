public import Foundation

/// An event as stored in the log, with everything the ledger added.
public struct RecordedEvent: Sendable, Hashable {
    /// The global position, from 1, gap-free.
    public var position: UInt64
    /// The stream the event belongs to.
    public var streamID: String
    /// The event's version within its stream, from 0.
    public var streamVersion: UInt64
    /// The event id.
    public var id: UUID
    /// The dotted lowercase type.
    public var type: String
    /// When the ledger recorded the event, in nanoseconds since 1970-01-01 UTC.
    public var recordedAtNanoseconds: UInt64
    /// Who and why.
    public var metadata: EventMetadata
    /// The payload bytes.
    public var payload: [UInt8]
    /// The record's XXH3-64 checksum (covers the previous record's checksum).
    public var checksum: UInt64
    /// The previous record's checksum (0 for position 1).
    public var previousChecksum: UInt64
    /// Whether the payload was checked to be one JSON value when it was appended (flag bit 0
    /// of the record; clear for records written before the flag and for payloads that are
    /// not JSON).
    public var payloadIsCheckedJSON = false

    /// The category: the stream id up to its first `-` (the whole id when it has none).
    public var category: String { categoryOf(self.streamID) }

    /// The recorded-at time as a `Date` (microsecond precision).
    public var recordedAt: Date {
        Date(timeIntervalSince1970: Double(self.recordedAtNanoseconds) / 1e9)
    }

    /// Whether `proposed` has the same content (type, payload, metadata) and id.
    public func hasSameContent(as proposed: ProposedEvent) -> Bool {
        self.id == proposed.id && self.type == proposed.type && self.payload == proposed.payload
            && self.metadata == proposed.metadata
    }
}

/// The category of a stream id: its prefix before the first `-`.
public func categoryOf(_ streamID: String) -> String {
    guard let dash = streamID.utf8.firstIndex(of: UInt8(ascii: "-")) else { return streamID }
    return String(streamID[..<dash])
}
