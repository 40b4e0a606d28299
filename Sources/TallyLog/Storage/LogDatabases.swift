import Foundation
public import TallyLMDB

/// The named databases of `<data>/log` and their key encodings (keys are big-endian).
///
/// | database | key | value |
/// |---|---|---|
/// | `log` | position (u64 BE) | record bytes |
/// | `seals` | last position of the commit (u64 BE) | first position (u64 LE) + seal (32 bytes) |
/// | `streams` | stream id UTF-8 + 0x00 + version (u64 BE) | position (u64 LE) |
/// | `ids` | event id (16 bytes) | position (u64 LE) |
/// | `meta` | ASCII name | value (see docs/format.md) |
public struct LogDatabases: Sendable {
    /// Position → record.
    public let log: Database
    /// Commit → seal.
    public let seals: Database
    /// (stream, version) → position, persisted up to the index checkpoint.
    public let streams: Database
    /// Event id → position, persisted up to the index checkpoint.
    public let ids: Database
    /// Format version and index checkpoint.
    public let meta: Database

    /// The database names, in the order opened.
    public static let names = ["log", "seals", "streams", "ids", "meta"]

    init(_ env: Environment) {
        self.log = env.database("log")
        self.seals = env.database("seals")
        self.streams = env.database("streams")
        self.ids = env.database("ids")
        self.meta = env.database("meta")
    }
}

/// Meta keys.
enum MetaKey {
    static let format = Array("format".utf8)
    static let indexCheckpoint = Array("index.checkpoint".utf8)
    static let indexStreams = Array("index.streams".utf8)
    static let indexLayout = Array("index.layout".utf8)
}

/// Key encodings.
enum Keys {
    @inline(__always)
    static func withPosition<T>(_ position: UInt64, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withUnsafeBytes(of: position.bigEndian, body)
    }

    static func position(_ key: UnsafeRawBufferPointer) -> UInt64? {
        guard key.count == 8 else { return nil }
        return UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))
    }

    static func stream(_ streamID: [UInt8], version: UInt64) -> [UInt8] {
        var key = streamID
        key.reserveCapacity(streamID.count + 9)
        key.append(0)
        withUnsafeBytes(of: version.bigEndian) { key.append(contentsOf: $0) }
        return key
    }

    /// Splits a `streams` key into stream id bytes and version.
    static func splitStream(_ key: UnsafeRawBufferPointer) -> (stream: UnsafeRawBufferPointer, version: UInt64)? {
        guard key.count >= 10, key[key.count - 9] == 0 else { return nil }
        let version = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: key.count - 8, as: UInt64.self))
        return (UnsafeRawBufferPointer(rebasing: key[0..<(key.count - 9)]), version)
    }

    @inline(__always)
    static func withID<T>(_ id: UUID, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withUnsafeBytes(of: id.uuid, body)
    }

    /// The same 16 bytes as ``withID(_:_:)`` for the id `key` stands for.
    static func withID<T>(_ key: EventKey, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try withUnsafeBytes(of: (key.high.bigEndian, key.low.bigEndian), body)
    }

    static func littleEndian(_ value: UInt64) -> [UInt8] {
        withUnsafeBytes(of: value.littleEndian) { Array($0) }
    }

    static func loadLE64(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes.count >= 8 else { return nil }
        return UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
    }
}
