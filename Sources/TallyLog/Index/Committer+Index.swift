import NIOConcurrencyHelpers
import Foundation
import Logging
import TallyChecksum
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
        let chunk = self.tail.withLockedValue { Array($0.oldest(limit)) }
        guard let last = chunk.last else { return }
        // Stream keys in key order: the chunk's entries sorted by stream id bytes, then
        // position (versions ascend with positions within a stream). The sort compares the
        // ids' first 16 bytes as two integers and looks at the strings only on a tie.
        var order: [(high: UInt64, low: UInt64, index: Int)] = []
        order.reserveCapacity(chunk.count)
        for index in chunk.indices {
            let prefix = Self.sortPrefix(chunk[index].streamID)
            order.append((prefix.high, prefix.low, index))
        }
        order.sort { a, b in
            if a.high != b.high { return a.high < b.high }
            if a.low != b.low { return a.low < b.low }
            let streamA = chunk[a.index].streamID
            let streamB = chunk[b.index].streamID
            if streamA != streamB { return streamA.utf8.lexicographicallyPrecedes(streamB.utf8) }
            return a.index < b.index
        }
        var idKeys = chunk.map { (key: $0.key, position: $0.position) }
        idKeys.sort { $0.key < $1.key }
        let run = (self.state.idRuns.last?.id ?? 0) + 1
        // Streams the chunk creates (their version 0 is in it), for the persisted-streams filter.
        var created: [UInt64] = []
        do {
            try self.environment.write { txn in
                var key: [UInt8] = []
                var keyStream: String?
                for (_, _, index) in order {
                    let entry = chunk[index]
                    if entry.streamID != keyStream {
                        key.removeAll(keepingCapacity: true)
                        key.append(contentsOf: entry.streamID.utf8)
                        key.append(0)
                        key.append(contentsOf: repeatElement(0, count: 8))
                        keyStream = entry.streamID
                    }
                    let versionOffset = key.count - 8
                    withUnsafeBytes(of: entry.version.bigEndian) { version in
                        key.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[versionOffset...]).copyMemory(from: version) }
                    }
                    try key.withUnsafeBytes { key in
                        if entry.version == 0 { created.append(XXH3.hash(UnsafeRawBufferPointer(rebasing: key[..<(key.count - 9)]))) }
                        try withUnsafeBytes(of: entry.position.littleEndian) { value in
                            try txn.put(self.databases.streams, key: key, value: value, flags: [])
                        }
                    }
                }
                for entry in idKeys {
                    try IDRunKeys.with(run: run, entry.key) { key in
                        try withUnsafeBytes(of: entry.position.littleEndian) { value in
                            try txn.put(self.databases.ids, key: key, value: value, flags: .append)
                        }
                    }
                }
                CrashPoint.midIndexCheckpoint.hit()
                let newStreams = UInt64(created.count)
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
            self.poison(self.commitFailure("index checkpoint commit", error))
            return
        } catch {
            self.logger.warning(
                "index checkpoint failed; entries stay in memory",
                metadata: ["tally.position": "\(last.position)", "tally.error": "\(error)"])
            return
        }
        self.state.idRuns.append(IDRun(id: run, count: idKeys.count))
        // Into the filters before the tail lets go of them: no moment where an id is in
        // neither the tail nor the filter.
        for entry in chunk {
            self.state.persistedIDs.insert(entry.key.bloomHash)
        }
        for hash in created {
            self.state.persistedStreams.insert(hash)
        }
        self.tail.withLockedValue { $0.dropOldest(chunk.count, newCheckpoint: last.position) }
        self.mergeIDRuns()
        self.writeStateCheckpoint()
    }

    /// The first 16 bytes of a stream id as two big-endian integers (zeros past its end):
    /// comparing them orders ids as their bytes do, as far as those 16 bytes go.
    static func sortPrefix(_ streamID: String) -> (high: UInt64, low: UInt64) {
        // The bytes copied into 16 zeroed bytes and loaded as two big-endian words: walking
        // the string's UTF-8 view a byte at a time was a tenth of an index checkpoint.
        var streamID = streamID
        return streamID.withUTF8 { bytes in
            var words: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &words) { words in
                words.copyMemory(from: UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes).prefix(16)))
            }
            return (UInt64(bigEndian: words.0), UInt64(bigEndian: words.1))
        }
    }

    /// Merges the newest ``Limits/idRunMergeFanIn`` runs when they are of similar size (each
    /// at least half the oldest of them) and together at most ``Limits/idRunMergeEntriesMax``:
    /// size-tiered, so each id is rewritten about log8(index / checkpoint) times and at most
    /// until its run reaches the cap; a lookup seeks in few runs. One transaction per merge.
    func mergeIDRuns() {
        let fanIn = Limits.idRunMergeFanIn
        while self.state.idRuns.count >= fanIn {
            let newest = Array(self.state.idRuns.suffix(fanIn))
            let total = newest.map(\.count).reduce(0, +)
            guard let oldest = newest.first, newest.allSatisfy({ $0.count * 2 >= oldest.count }),
                total <= Limits.idRunMergeEntriesMax, let last = newest.last
            else { return }
            let merged = IDRun(id: last.id + 1, count: total)
            do {
                try self.environment.write { txn in
                    try self.mergeRuns(newest.map(\.id), into: merged.id, txn: &txn)
                }
            } catch let error as LMDBError where error.function == "mdb_txn_commit" {
                self.poison(self.commitFailure("index merge commit", error))
                return
            } catch {
                self.logger.warning("index merge failed; the runs stay as they are", metadata: ["tally.error": "\(error)"])
                return
            }
            self.state.idRuns.removeLast(fanIn)
            self.state.idRuns.append(merged)
        }
    }

    private func mergeRuns(_ sources: [UInt32], into target: UInt32, txn: inout WriteTransaction) throws {
        let ids = self.databases.ids
        var merged: [(key: EventKey, position: UInt64)] = []
        // Read the runs (bounded by idRunMergeEntriesMax), then write the merged run and
        // delete the sources: no cursor is open while the tree changes.
        for run in sources {
            try txn.withCursor(ids) { cursor throws in
                var entry = try IDRunKeys.with(run: run, EventKey(high: 0, low: 0)) { key in try cursor.seek(atLeast: key) }
                while let current = entry, let split = IDRunKeys.split(current.key), split.run == run {
                    guard let position = Keys.loadLE64(current.value) else {
                        throw LogError(.corruption, "an ids index value is not 8 bytes")
                    }
                    merged.append((split.id, position))
                    entry = try cursor.next()
                }
            }
        }
        merged.sort { $0.key < $1.key }
        for entry in merged {
            try IDRunKeys.with(run: target, entry.key) { key in
                try withUnsafeBytes(of: entry.position.littleEndian) { value in
                    try txn.put(ids, key: key, value: value, flags: .append)
                }
            }
        }
        for run in sources {
            try txn.withCursor(ids) { cursor throws in
                var entry = try IDRunKeys.with(run: run, EventKey(high: 0, low: 0)) { key in try cursor.seek(atLeast: key) }
                while let current = entry, let split = IDRunKeys.split(current.key), split.run == run {
                    try cursor.deleteCurrent()
                    entry = try cursor.next()
                }
            }
        }
    }
}
