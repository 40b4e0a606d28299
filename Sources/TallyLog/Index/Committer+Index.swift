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
        // Stream keys in key order: group the chunk's runs by stream (versions ascend within
        // a stream), then order the streams by their bytes.
        var runs: [String: [(version: UInt64, position: UInt64)]] = [:]
        runs.reserveCapacity(chunk.count)
        var runStart = chunk.startIndex
        for index in chunk.indices.dropFirst() + [chunk.endIndex]
        where index == chunk.endIndex || chunk[index].streamID != chunk[index - 1].streamID {
            runs[chunk[runStart].streamID, default: []].append(
                contentsOf: chunk[runStart..<index].lazy.map { ($0.version, $0.position) })
            runStart = index
        }
        let streamOrder = runs.keys.map { (id: $0, bytes: Array($0.utf8)) }.sorted {
            $0.bytes.lexicographicallyPrecedes($1.bytes)
        }
        var idKeys = chunk.map { (key: $0.key, position: $0.position) }
        idKeys.sort { $0.key < $1.key }
        let run = (self.state.idRuns.last?.id ?? 0) + 1
        do {
            try self.environment.write { txn in
                var key: [UInt8] = []
                for stream in streamOrder {
                    key.removeAll(keepingCapacity: true)
                    key.append(contentsOf: Keys.stream(stream.bytes, version: 0))
                    let versionOffset = key.count - 8
                    for entry in runs[stream.id] ?? [] {
                        withUnsafeBytes(of: entry.version.bigEndian) { version in
                            key.withUnsafeMutableBytes { UnsafeMutableRawBufferPointer(rebasing: $0[versionOffset...]).copyMemory(from: version) }
                        }
                        try key.withUnsafeBytes { key in
                            try withUnsafeBytes(of: entry.position.littleEndian) { value in
                                try txn.put(self.databases.streams, key: key, value: value, flags: [])
                            }
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
        for stream in streamOrder where runs[stream.id]?.first?.version == 0 {
            self.state.persistedStreams.insert(XXH3.hash(stream.bytes))
        }
        self.tail.withLockedValue { $0.dropOldest(chunk.count, newCheckpoint: last.position) }
        self.mergeIDRuns()
        self.writeStateCheckpoint()
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
