import Foundation
import Logging
import TallyLMDB

extension Committer {
    /// Moves up to `limit` of the oldest tail entries into the persisted `streams` and `ids`
    /// databases, in key order, and advances the index checkpoint in the same transaction.
    ///
    /// Runs on the writer thread between batches, so it never races the committer. A
    /// failure here loses nothing: the entries stay in the tail and are rebuilt from the log
    /// on the next open; it is logged, not fatal.
    func flushIndex(limit: Int) {
        self.writer.preconditionCurrent()
        let chunk = self.tail.withLock { Array($0.oldest(limit)) }
        guard let last = chunk.last else { return }
        var streamKeys = chunk.map { (key: Keys.stream(Array($0.streamID.utf8), version: $0.version), position: $0.position) }
        streamKeys.sort { $0.key.lexicographicallyPrecedes($1.key) }
        var idKeys = chunk.map { (id: $0.id, position: $0.position) }
        idKeys.sort { lhs, rhs in
            withUnsafeBytes(of: lhs.id.uuid) { l in withUnsafeBytes(of: rhs.id.uuid) { r in l.lexicographicallyPrecedes(r) } }
        }
        do {
            try self.environment.write { txn in
                for entry in streamKeys {
                    try entry.key.withUnsafeBytes { key in
                        try Keys.littleEndian(entry.position).withUnsafeBytes { value in
                            try txn.put(self.databases.streams, key: key, value: value, flags: [])
                        }
                    }
                }
                for entry in idKeys {
                    try Keys.withID(entry.id) { key in
                        try Keys.littleEndian(entry.position).withUnsafeBytes { value in
                            try txn.put(self.databases.ids, key: key, value: value, flags: [])
                        }
                    }
                }
                let newStreams = UInt64(chunk.lazy.filter { $0.version == 0 }.count)
                let streams = try MetaKey.indexStreams.withUnsafeBytes { key in
                    try txn.get(self.databases.meta, key: key).flatMap(Keys.loadLE64)
                } ?? 0
                try MetaKey.indexStreams.withUnsafeBytes { key in
                    try Keys.littleEndian(streams + newStreams).withUnsafeBytes { value in
                        try txn.put(self.databases.meta, key: key, value: value, flags: [])
                    }
                }
                try MetaKey.indexCheckpoint.withUnsafeBytes { key in
                    try Keys.littleEndian(last.position).withUnsafeBytes { value in
                        try txn.put(self.databases.meta, key: key, value: value, flags: [])
                    }
                }
            }
        } catch let error as LMDBError where error.function == "mdb_txn_commit" {
            // A failed commit may mean a failed fsync: stop writes as for any failed commit.
            self.poison(LogError(.storage, "index checkpoint commit failed: \(error)", cause: error))
            return
        } catch {
            self.logger.warning(
                "index checkpoint failed; entries stay in memory",
                metadata: ["tally.position": "\(last.position)", "tally.error": "\(error)"])
            return
        }
        self.tail.withLock { $0.dropOldest(chunk.count, newCheckpoint: last.position) }
    }
}
