import NIOConcurrencyHelpers
import Foundation
import TallyChecksum
import TallyLMDB

/// Figures about a log, for `tally stats`.
public struct LogStats: Sendable, Codable, Equatable {
    /// The last position (0 when empty).
    public var headPosition: UInt64
    /// How many events the log holds (positions are gap-free, so equal to the head).
    public var events: UInt64
    /// How many streams have at least one event.
    public var streams: UInt64
    /// Bytes of the LMDB map in use.
    public var bytes: UInt64
    /// The last record's XXH3-64 checksum, hex (the chain head).
    public var chainHead: String
    /// The last seal, hex.
    public var sealHead: String
    /// Positions covered by the persisted index.
    public var indexCheckpoint: UInt64

    enum CodingKeys: String, CodingKey {
        case headPosition = "head_position"
        case events
        case streams
        case bytes
        case chainHead = "chain_head"
        case sealHead = "seal_head"
        case indexCheckpoint = "index_checkpoint"
    }
}

extension EventLog {
    /// Head, counts, size and chain head, from one consistent snapshot.
    public func stats() throws -> LogStats {
        let tailStreamStarts = self.tail.withLockedValue { tail in tail.oldest(tail.count).filter { $0.version == 0 }.map(\.position) }
        let info = try self.environment.info()
        return try self.environment.read { txn in
            let checkpoint = try MetaKey.indexCheckpoint.withUnsafeBytes { key in
                try txn.get(self.databases.meta, key: key).flatMap(Keys.loadLE64)
            } ?? 0
            let persistedStreams = try MetaKey.indexStreams.withUnsafeBytes { key in
                try txn.get(self.databases.meta, key: key).flatMap(Keys.loadLE64)
            } ?? 0
            let (head, chain) = try txn.withCursor(self.databases.log) { cursor throws in
                guard let last = try cursor.last(), let position = Keys.position(last.key) else { return (UInt64(0), UInt64(0)) }
                return (position, try RecordView(last.value).storedChecksum)
            }
            let seal = try txn.withCursor(self.databases.seals) { cursor throws in
                try cursor.last().map { Array($0.value.dropFirst(8)) } ?? SealChain.genesis
            }
            // Entries the indexer persisted after we copied the tail are counted once.
            let tailNewStreams = UInt64(tailStreamStarts.lazy.filter { $0 > checkpoint }.count)
            return LogStats(
                headPosition: head, events: head, streams: persistedStreams + tailNewStreams,
                bytes: UInt64(info.usedBytes), chainHead: XXH3.hex(chain), sealHead: SealChain.hex(seal),
                indexCheckpoint: checkpoint)
        }
    }
}
