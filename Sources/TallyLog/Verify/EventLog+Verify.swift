import Foundation
import TallyChecksum
import TallyLMDB

extension EventLog {
    /// Checks every record's checksum and the chain, every seal, and every persisted index
    /// entry against the log, in one consistent snapshot. Stops at the first problem.
    ///
    /// LMDB has no page checksums: a flipped bit in a page header can crash the reader.
    /// The CLI therefore runs this in a child process and reports a crash as corruption.
    ///
    /// - Parameter progress: called now and then with the records checked so far.
    /// - Returns: the report; ``VerifyReport/isClean`` tells the verdict.
    public func verify(progress: (UInt64) -> Void = { _ in }) throws -> VerifyReport {
        try self.environment.read { txn in
            var report = VerifyReport(recordsChecked: 0, sealsChecked: 0, indexEntriesChecked: 0, headPosition: 0)
            let head = try txn.withCursor(self.databases.log) { cursor throws in
                try cursor.last().flatMap { Keys.position($0.key) } ?? 0
            }
            let checkpoint = try MetaKey.indexCheckpoint.withUnsafeBytes { key in
                try txn.get(self.databases.meta, key: key).flatMap(Keys.loadLE64)
            } ?? 0
            // Records, chain and seals are checked in parts, split at seal links' first
            // positions, each on its own thread in one pass: every record is read once for
            // its XXH3 and its SHA-256 (the costliest check), while it is in the cache. Seal
            // links are independent given the stored seal before them, and the chain given
            // the stored checksum before. This thread reads the indexes meanwhile.
            var starts: [UInt64] = [1]
            for part in 1..<Self.verifyParts {
                let start = try self.sealBoundary(near: head / UInt64(Self.verifyParts) * UInt64(part), txn)
                if start > starts[starts.count - 1] { starts.append(start) }
            }
            let checked = RecordCount()
            let parts = starts.indices.map { index in
                let end = index + 1 < starts.count ? starts[index + 1] - 1 : head
                return PartCheck(log: self, from: starts[index], through: end, checkpoint: checkpoint, head: head, checked: checked)
            }
            // The indexes are read in this snapshot (the checkpoint's), in key order, as
            // order-independent digests; compared below only when the records are clean.
            let indexes = Result { () throws -> (streams: IndexDigest.Part, ids: IndexDigest.Part) in
                (try self.streamIndexDigest(txn, checkpoint: checkpoint), try self.idIndexDigest(txn, checkpoint: checkpoint))
            }
            var failures: [LogError] = []
            var expected = IndexDigest()
            // Both parts end before anything is thrown: neither thread outlives this call.
            let outcomes = parts.map { part in part.wait(progress: { progress(checked.value) }) }
            for outcome in outcomes {
                switch outcome {
                case .success(let result):
                    report.recordsChecked += result.records
                    report.sealsChecked += result.seals
                    expected.add(result.digest)
                case .failure(let error as LogError) where error.code == .corruption: failures.append(error)
                case .failure(let error): throw error
                }
            }
            progress(report.recordsChecked)
            if failures.isEmpty {
                report.headPosition = head
                do {
                    guard checkpoint <= head else {
                        throw LogError(.corruption, "the index checkpoint \(checkpoint) is past the log head \(head)", position: head + 1)
                    }
                    let (streams, ids) = try indexes.get()
                    // Only on a mismatch does the slow path look up every entry in the log,
                    // to name the first bad one.
                    if streams != expected.streams {
                        try self.verifyStreamIndex(txn, checkpoint: checkpoint, &report)
                        throw LogError(.corruption, "the stream index does not match the log", position: checkpoint)
                    }
                    if ids != expected.ids {
                        try self.verifyIDIndex(txn, checkpoint: checkpoint, &report)
                        throw LogError(.corruption, "the event id index does not match the log", position: checkpoint)
                    }
                    report.indexEntriesChecked += streams.count + ids.count
                } catch let error as LogError where error.code == .corruption {
                    failures.append(error)
                }
            } else {
                report.headPosition = report.recordsChecked
            }
            // The first part's failure comes first: it names the lowest position.
            if let first = failures.first {
                report.firstBadPosition = first.position
                report.reason = first.message
            }
            return report
        }
    }

    /// The first position of the seal link that covers `position`, or 1.
    private func sealBoundary(near position: UInt64, _ txn: borrowing ReadTransaction) throws -> UInt64 {
        guard position > 1 else { return 1 }
        return try txn.withCursor(self.databases.seals) { cursor throws in
            guard let link = try Keys.withPosition(position, { key in try cursor.seek(atLeast: key) }),
                let first = Keys.loadLE64(link.value), first >= 1, first <= position
            else { return 1 }
            return first
        }
    }

    /// The digest of the `streams` index, read in key order; throws on a malformed entry.
    private func streamIndexDigest(_ txn: borrowing ReadTransaction, checkpoint: UInt64) throws -> IndexDigest.Part {
        var digest = IndexDigest()
        try txn.withCursor(self.databases.streams) { cursor throws in
            var entry = try cursor.first()
            while let current = entry {
                guard let split = Keys.splitStream(current.key), let position = Keys.loadLE64(current.value),
                    position >= 1, position <= checkpoint
                else {
                    throw LogError(.corruption, "a stream index entry is malformed or past the checkpoint", position: checkpoint)
                }
                digest.addStream(XXH3.hash(split.stream), version: split.version, position: position)
                entry = try cursor.next()
            }
        }
        return digest.streams
    }

    /// The digest of the `ids` index, read in key order; throws on a malformed entry.
    private func idIndexDigest(_ txn: borrowing ReadTransaction, checkpoint: UInt64) throws -> IndexDigest.Part {
        var digest = IndexDigest()
        try txn.withCursor(self.databases.ids) { cursor throws in
            var entry = try cursor.first()
            while let current = entry {
                guard IDRunKeys.split(current.key) != nil, let position = Keys.loadLE64(current.value), position >= 1,
                    position <= checkpoint
                else {
                    throw LogError(.corruption, "an event id index entry is malformed or past the checkpoint", position: checkpoint)
                }
                digest.addID(UnsafeRawBufferPointer(rebasing: current.key[4..<IDRunKeys.bytes]), position: position)
                entry = try cursor.next()
            }
        }
        return digest.ids
    }

    private func verifyStreamIndex(_ txn: borrowing ReadTransaction, checkpoint: UInt64, _ report: inout VerifyReport)
        throws
    {
        var count: UInt64 = 0
        try txn.withCursor(self.databases.streams) { cursor throws in
            var entry = try cursor.first()
            while let current = entry {
                guard let split = Keys.splitStream(current.key), let position = Keys.loadLE64(current.value),
                    position >= 1, position <= checkpoint
                else {
                    throw LogError(.corruption, "a stream index entry is malformed or past the checkpoint", position: checkpoint)
                }
                let record = try self.record(txn, at: position)
                guard record.streamIDBytes.elementsEqual(split.stream), record.streamVersion == split.version else {
                    throw LogError(
                        .corruption, "the stream index entry for position \(position) names another stream or version",
                        position: position)
                }
                count += 1
                entry = try cursor.next()
            }
        }
        guard count == checkpoint else {
            throw LogError(
                .corruption, "the stream index has \(count) entries but should cover \(checkpoint) records",
                position: min(count, checkpoint) + 1)
        }
        report.indexEntriesChecked += count
    }

    private func verifyIDIndex(_ txn: borrowing ReadTransaction, checkpoint: UInt64, _ report: inout VerifyReport) throws {
        var count: UInt64 = 0
        try txn.withCursor(self.databases.ids) { cursor throws in
            var entry = try cursor.first()
            while let current = entry {
                guard current.key.count == IDRunKeys.bytes, let position = Keys.loadLE64(current.value), position >= 1,
                    position <= checkpoint
                else {
                    throw LogError(.corruption, "an event id index entry is malformed or past the checkpoint", position: checkpoint)
                }
                let record = try self.record(txn, at: position)
                let idBytes = UnsafeRawBufferPointer(rebasing: current.key[4..<IDRunKeys.bytes])
                let matches = withUnsafeBytes(of: record.eventID.uuid) { $0.elementsEqual(idBytes) }
                guard matches else {
                    throw LogError(
                        .corruption, "the event id index entry for position \(position) names another id", position: position)
                }
                count += 1
                entry = try cursor.next()
            }
        }
        guard count == checkpoint else {
            throw LogError(
                .corruption, "the event id index has \(count) entries but should cover \(checkpoint) records",
                position: min(count, checkpoint) + 1)
        }
        report.indexEntriesChecked += count
    }

    private func record(_ txn: borrowing ReadTransaction, at position: UInt64) throws -> RecordView {
        guard let bytes = try Keys.withPosition(position, { key in try txn.get(self.databases.log, key: key) }) else {
            throw LogError(.corruption, "an index entry points to missing position \(position)", position: position)
        }
        return try Self.checkedView(bytes, position: position)
    }
}
