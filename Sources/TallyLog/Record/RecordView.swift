public import Foundation
internal import TallyChecksum

/// A checked, non-allocating view of one encoded record.
///
/// ``init(_:)`` validates lengths and the format version only; ``computeChecksum()``
/// recomputes the XXH3 so callers decide when to pay for it (every read on open and in
/// verify; the hot read path trusts the replayed chain).
public struct RecordView {
    /// The record's bytes.
    public let bytes: UnsafeRawBufferPointer

    /// Why a record could not be parsed.
    public struct Malformed: Error, Sendable, CustomStringConvertible {
        /// What is wrong.
        public let reason: String
        /// The byte offset inside the record where the problem was found.
        public let offset: Int
        /// A sentence naming the reason and offset.
        public var description: String { "\(self.reason) (record byte \(self.offset))" }
    }

    /// Parses the header and checks that the lengths add up to the record's size.
    public init(_ bytes: UnsafeRawBufferPointer) throws(Malformed) {
        guard bytes.count >= RecordLayout.headerBytes + RecordLayout.trailerBytes else {
            throw Malformed(reason: "record of \(bytes.count) bytes is shorter than header and trailer", offset: 0)
        }
        self.bytes = bytes
        let length = Int(bytes.loadLE(UInt32.self, at: RecordLayout.lengthOffset))
        guard length == bytes.count else {
            throw Malformed(reason: "length field says \(length) bytes but the record has \(bytes.count)", offset: 0)
        }
        let version = bytes.loadLE(UInt16.self, at: RecordLayout.versionOffset)
        guard version == RecordLayout.formatVersion else {
            throw Malformed(reason: "unknown format version \(version)", offset: RecordLayout.versionOffset)
        }
        let parts = self.streamIDLength + self.typeLength + self.metadataLength + self.payloadLength
        guard RecordLayout.headerBytes + parts + RecordLayout.trailerBytes == length else {
            throw Malformed(
                reason: "part lengths (\(parts) bytes) do not add up to the record length \(length)",
                offset: RecordLayout.streamIDLengthOffset)
        }
    }

    /// The flags field (``RecordLayout/payloadIsJSONFlag``; the other bits are zero).
    public var flags: UInt16 { self.bytes.loadLE(UInt16.self, at: RecordLayout.flagsOffset) }

    /// Whether the payload was checked to be one JSON value in UTF-8 when it was appended
    /// (the record's checksum covers the flag), so a reader can use it as JSON unchecked.
    public var payloadIsCheckedJSON: Bool { self.flags & RecordLayout.payloadIsJSONFlag != 0 }

    /// The position field.
    public var position: UInt64 { self.bytes.loadLE(UInt64.self, at: RecordLayout.positionOffset) }
    /// The stream version field.
    public var streamVersion: UInt64 { self.bytes.loadLE(UInt64.self, at: RecordLayout.streamVersionOffset) }
    /// The recorded-at field, nanoseconds since the epoch.
    public var recordedAtNanoseconds: UInt64 { self.bytes.loadLE(UInt64.self, at: RecordLayout.recordedAtOffset) }
    var streamIDLength: Int { Int(self.bytes.loadLE(UInt16.self, at: RecordLayout.streamIDLengthOffset)) }
    var typeLength: Int { Int(self.bytes.loadLE(UInt16.self, at: RecordLayout.typeLengthOffset)) }
    var metadataLength: Int { Int(self.bytes.loadLE(UInt32.self, at: RecordLayout.metadataLengthOffset)) }
    var payloadLength: Int { Int(self.bytes.loadLE(UInt32.self, at: RecordLayout.payloadLengthOffset)) }

    /// The event id.
    public var eventID: UUID {
        var uuid: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &uuid) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(rebasing: self.bytes[RecordLayout.eventIDOffset..<RecordLayout.eventIDOffset + 16]))
        }
        return UUID(uuid: uuid)
    }

    /// The event id's 16 bytes, as stored (the same bytes as the `ids` index key).
    public var eventIDBytes: UnsafeRawBufferPointer { self.slice(RecordLayout.eventIDOffset, 16) }

    /// The stream id's UTF-8 bytes.
    public var streamIDBytes: UnsafeRawBufferPointer {
        self.slice(RecordLayout.headerBytes, self.streamIDLength)
    }
    /// The type's bytes (ASCII).
    public var typeBytes: UnsafeRawBufferPointer {
        self.slice(RecordLayout.headerBytes + self.streamIDLength, self.typeLength)
    }
    /// The encoded metadata (docs/format.md); ``forEachMetadataEntry(_:)`` reads it.
    public var metadataBytes: UnsafeRawBufferPointer {
        self.slice(RecordLayout.headerBytes + self.streamIDLength + self.typeLength, self.metadataLength)
    }
    /// The payload's bytes.
    public var payloadBytes: UnsafeRawBufferPointer {
        self.slice(
            RecordLayout.headerBytes + self.streamIDLength + self.typeLength + self.metadataLength,
            self.payloadLength)
    }

    /// Calls `body` with each metadata entry's key and value bytes, in stored order (sorted
    /// by key bytes), without copying them; `false` when the metadata is malformed (then
    /// `body` may have seen some entries).
    public func forEachMetadataEntry(_ body: (_ key: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) throws -> Void) rethrows -> Bool {
        try MetadataCoding.forEach(self.metadataBytes, body)
    }

    /// The stored previous-record checksum.
    public var previousChecksum: UInt64 { self.bytes.loadLE(UInt64.self, at: self.bytes.count - 16) }
    /// The stored checksum.
    public var storedChecksum: UInt64 { self.bytes.loadLE(UInt64.self, at: self.bytes.count - 8) }

    /// XXH3-64 over every byte before the stored checksum.
    public func computeChecksum() -> UInt64 {
        XXH3.hash(UnsafeRawBufferPointer(rebasing: self.bytes[0..<(self.bytes.count - 8)]))
    }

    /// Decodes the whole event, copying its parts.
    ///
    /// - Throws: ``Malformed`` when a text part is not UTF-8 or the metadata is malformed.
    public func decode() throws(Malformed) -> RecordedEvent {
        guard let streamID = String(validating: self.streamIDBytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw Malformed(reason: "stream id is not UTF-8", offset: RecordLayout.headerBytes)
        }
        guard let type = String(validating: self.typeBytes.bindMemory(to: UInt8.self), as: UTF8.self) else {
            throw Malformed(reason: "type is not UTF-8", offset: RecordLayout.headerBytes + self.streamIDLength)
        }
        guard let metadata = MetadataCoding.decode(self.metadataBytes) else {
            throw Malformed(
                reason: "metadata is malformed",
                offset: RecordLayout.headerBytes + self.streamIDLength + self.typeLength)
        }
        return RecordedEvent(
            position: self.position,
            streamID: streamID,
            streamVersion: self.streamVersion,
            id: self.eventID,
            type: type,
            recordedAtNanoseconds: self.recordedAtNanoseconds,
            metadata: metadata,
            payload: Array(self.payloadBytes),
            checksum: self.storedChecksum,
            previousChecksum: self.previousChecksum,
            payloadIsCheckedJSON: self.payloadIsCheckedJSON)
    }

    private func slice(_ start: Int, _ count: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: self.bytes[start..<(start + count)])
    }
}
