import Foundation
internal import TallyChecksum

/// An event validated and pre-encoded in the caller's task, so the writer thread only copies.
struct PreparedEvent: Sendable {
    let id: UUID
    let key: EventKey
    let type: [UInt8]
    let metadata: [UInt8]
    let payload: [UInt8]
    /// The record's flags (``RecordLayout/payloadIsJSONFlag`` when the payload is JSON).
    let flags: UInt16
    let source: ProposedEvent

    /// The record size for this event in `streamIDBytes`-long stream.
    func recordBytes(streamIDBytes: Int) -> Int {
        RecordLayout.recordBytes(
            streamID: streamIDBytes, type: self.type.count, metadata: self.metadata.count,
            payload: self.payload.count)
    }
}

/// Writes records of format v1.
enum RecordEncoder {
    /// Encodes one record into `target` (exactly its size) and returns its checksum.
    static func encode(
        into target: UnsafeMutableRawBufferPointer,
        position: UInt64,
        streamVersion: UInt64,
        recordedAt: UInt64,
        streamID: [UInt8],
        event: PreparedEvent,
        previousChecksum: UInt64
    ) -> UInt64 {
        let size = event.recordBytes(streamIDBytes: streamID.count)
        precondition(target.count == size, "record buffer of \(target.count) bytes for a \(size)-byte record")
        precondition(position > 0, "positions start at 1")
        target.storeLE(UInt32(size), at: RecordLayout.lengthOffset)
        target.storeLE(RecordLayout.formatVersion, at: RecordLayout.versionOffset)
        target.storeLE(event.flags, at: RecordLayout.flagsOffset)
        target.storeLE(position, at: RecordLayout.positionOffset)
        target.storeLE(streamVersion, at: RecordLayout.streamVersionOffset)
        target.storeLE(recordedAt, at: RecordLayout.recordedAtOffset)
        withUnsafeBytes(of: event.id.uuid) { id in
            UnsafeMutableRawBufferPointer(rebasing: target[RecordLayout.eventIDOffset..<RecordLayout.eventIDOffset + 16])
                .copyMemory(from: id)
        }
        target.storeLE(UInt16(streamID.count), at: RecordLayout.streamIDLengthOffset)
        target.storeLE(UInt16(event.type.count), at: RecordLayout.typeLengthOffset)
        target.storeLE(UInt32(event.metadata.count), at: RecordLayout.metadataLengthOffset)
        target.storeLE(UInt32(event.payload.count), at: RecordLayout.payloadLengthOffset)
        target.storeLE(UInt32(0), at: RecordLayout.reservedOffset)
        // Four copies without building an array of parts (this runs once per event).
        var offset = RecordLayout.headerBytes
        offset = copy(streamID, into: target, at: offset)
        offset = copy(event.type, into: target, at: offset)
        offset = copy(event.metadata, into: target, at: offset)
        offset = copy(event.payload, into: target, at: offset)
        target.storeLE(previousChecksum, at: offset)
        let checksum = XXH3.hash(UnsafeRawBufferPointer(rebasing: target[0..<(offset + 8)]))
        target.storeLE(checksum, at: offset + 8)
        return checksum
    }

    /// Encodes one record into a new array (tests, fixtures, tools).
    static func encode(
        position: UInt64,
        streamVersion: UInt64,
        recordedAt: UInt64,
        streamID: String,
        event: PreparedEvent,
        previousChecksum: UInt64
    ) -> [UInt8] {
        let stream = Array(streamID.utf8)
        let size = event.recordBytes(streamIDBytes: stream.count)
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            _ = Self.encode(
                into: UnsafeMutableRawBufferPointer(buffer), position: position, streamVersion: streamVersion,
                recordedAt: recordedAt, streamID: stream, event: event, previousChecksum: previousChecksum)
            count = size
        }
    }
}

@inline(__always)
private func copy(_ part: [UInt8], into target: UnsafeMutableRawBufferPointer, at offset: Int) -> Int {
    part.withUnsafeBytes { bytes in
        guard let base = bytes.baseAddress, let destination = target.baseAddress else { return }
        (destination + offset).copyMemory(from: base, byteCount: bytes.count)
    }
    return offset + part.count
}
