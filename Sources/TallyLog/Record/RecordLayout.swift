/// Byte offsets of record format v1; docs/format.md describes each field.
///
/// All integers are little-endian. A record is a 64-byte header, four variable parts
/// (stream id, type, metadata, payload) and a 16-byte trailer holding the previous
/// record's checksum and this record's XXH3-64 checksum over every byte before it.
public enum RecordLayout {
    /// The format version this build writes and reads.
    public static let formatVersion: UInt16 = 1
    /// Bytes before the variable parts.
    public static let headerBytes = 64
    /// Bytes after the variable parts: previous checksum + checksum.
    public static let trailerBytes = 16
    /// Flag bit 0: the payload was checked, when it was appended, to be exactly one JSON
    /// value (RFC 8259) in UTF-8. Records written before the flag existed have it clear, as
    /// do payloads that are not JSON; a reader that needs JSON checks those itself.
    public static let payloadIsJSONFlag: UInt16 = 1

    static let lengthOffset = 0
    static let versionOffset = 4
    static let flagsOffset = 6
    static let positionOffset = 8
    static let streamVersionOffset = 16
    static let recordedAtOffset = 24
    static let eventIDOffset = 32
    static let streamIDLengthOffset = 48
    static let typeLengthOffset = 50
    static let metadataLengthOffset = 52
    static let payloadLengthOffset = 56
    static let reservedOffset = 60

    /// The encoded size of a record with parts of these sizes.
    public static func recordBytes(streamID: Int, type: Int, metadata: Int, payload: Int) -> Int {
        Self.headerBytes + streamID + type + metadata + payload + Self.trailerBytes
    }
}

extension UnsafeRawBufferPointer {
    @inline(__always)
    func loadLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        T(littleEndian: self.loadUnaligned(fromByteOffset: offset, as: T.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inline(__always)
    func storeLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        self.storeBytes(of: value.littleEndian, toByteOffset: offset, as: T.self)
    }
}
