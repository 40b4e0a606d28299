import Foundation
import NIOConcurrencyHelpers
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
            var failures: [LogError] = []
            // The seal chain (SHA-256, the costliest check) runs on a second thread over the
            // same positions while this one checks records, chain and indexes.
            let head = try txn.withCursor(self.databases.log) { cursor throws in
                try cursor.last().flatMap { Keys.position($0.key) } ?? 0
            }
            // Seal links are independent given the stored seal before them, so the chain is
            // checked in two halves on their own threads, split at a link boundary.
            let split = try self.sealBoundary(near: head / 2, txn)
            let firstHalf = SealCheck(log: self, from: 1, head: split - 1)
            let secondHalf = SealCheck(log: self, from: split, head: head)
            do {
                let checkpoint = try MetaKey.indexCheckpoint.withUnsafeBytes { key in
                    try txn.get(self.databases.meta, key: key).flatMap(Keys.loadLE64)
                } ?? 0
                var expected = IndexDigest()
                try self.verifyRecords(txn, &report, checkpoint: checkpoint, digest: &expected, progress: progress)
                guard report.headPosition == head else {
                    throw LogError(.corruption, "the log ends at \(report.headPosition), not at \(head)", position: report.headPosition + 1)
                }
                guard checkpoint <= report.headPosition else {
                    throw LogError(
                        .corruption, "the index checkpoint \(checkpoint) is past the log head \(report.headPosition)",
                        position: report.headPosition + 1)
                }
                // Fast path: both indexes read in key order and compared with what the records
                // say as order-independent digests. Only on a mismatch does the slow path look
                // up every entry in the log, to name the first bad one.
                let streams = try self.streamIndexDigest(txn, checkpoint: checkpoint)
                if streams != expected.streams {
                    try self.verifyStreamIndex(txn, checkpoint: checkpoint, &report)
                    throw LogError(.corruption, "the stream index does not match the log", position: checkpoint)
                }
                let ids = try self.idIndexDigest(txn, checkpoint: checkpoint)
                if ids != expected.ids {
                    try self.verifyIDIndex(txn, checkpoint: checkpoint, &report)
                    throw LogError(.corruption, "the event id index does not match the log", position: checkpoint)
                }
                report.indexEntriesChecked += streams.count + ids.count
            } catch let error as LogError where error.code == .corruption {
                failures.append(error)
            } catch let error as RecordView.Malformed {
                failures.append(
                    LogError(
                        .corruption, "record \(report.recordsChecked + 1) is malformed: \(error)",
                        position: report.recordsChecked + 1))
            }
            for half in [firstHalf, secondHalf] {
                switch half.wait() {
                case .success(let checked): report.sealsChecked += checked
                case .failure(let error as LogError) where error.code == .corruption: failures.append(error)
                case .failure(let error as RecordView.Malformed):
                    failures.append(LogError(.corruption, "a record is malformed: \(error)", position: report.recordsChecked + 1))
                case .failure(let error): throw error
                }
            }
            // A changed record breaks its checksum and the seal over it; the record check
            // names the exact position, so it wins; a seal-only failure is named otherwise.
            if let first = failures.first {
                report.firstBadPosition = first.position
                report.reason = first.message
            }
            return report
        }
    }

    /// Checks every record's checksum and the chain, and adds the index entries each record
    /// implies to `digest`. Runs beside ``verifySeals(head:)``, which reads the same records.
    private func verifyRecords(
        _ txn: borrowing ReadTransaction,
        _ report: inout VerifyReport,
        checkpoint: UInt64,
        digest: inout IndexDigest,
        progress: (UInt64) -> Void
    ) throws {
        try txn.withCursor(self.databases.log) { log throws in
            var previousChecksum: UInt64 = 0
            var expected: UInt64 = 1
            var entry = try log.first()
            while let current = entry {
                guard let key = Keys.position(current.key), key == expected else {
                    throw LogError(
                        .corruption, "expected position \(expected) next in the log, found another key",
                        position: expected)
                }
                let view = try Self.checkedView(current.value, position: expected)
                guard view.previousChecksum == previousChecksum else {
                    throw LogError(
                        .corruption,
                        "record \(expected) does not chain onto record \(expected - 1) (a record was changed, lost or inserted)",
                        position: expected)
                }
                if expected <= checkpoint {
                    digest.addStream(XXH3.hash(view.streamIDBytes), version: view.streamVersion, position: expected)
                    digest.addID(view.eventIDBytes, position: expected)
                }
                previousChecksum = view.storedChecksum
                report.recordsChecked += 1
                report.headPosition = expected
                if expected % 65_536 == 0 { progress(expected) }
                expected += 1
                entry = try log.next()
            }
            progress(expected - 1)
        }
    }

    /// Recomputes the SHA-256 seal chain over the records up to `head` and compares every
    /// seal; returns how many seals it checked. Uses its own read transaction (the log is
    /// append-only, so positions up to `head` are the same in every later snapshot), so it
    /// can run on another core beside ``verifyRecords``.
    func verifySeals(from start: UInt64 = 1, head: UInt64) throws -> UInt64 {
        try self.environment.read { txn in
            try txn.withCursor(self.databases.log) { log throws in
                try txn.withCursor(self.databases.seals) { seals throws in
                    // Start at the link that begins at `start` (a link boundary); its
                    // predecessor's stored seal is where this part of the chain starts.
                    var previousSeal = SealChain.genesis
                    var sealEntry: Cursor.Entry?
                    if start > 1 {
                        guard let before = try Keys.withPosition(start - 1, { key in try seals.seek(atLeast: key) }),
                            Keys.position(before.key) == start - 1, before.value.count == 40
                        else {
                            throw LogError(.corruption, "no seal ends at position \(start - 1)", position: start)
                        }
                        previousSeal = Array(before.value[8..<40])
                        sealEntry = try seals.next()
                    } else {
                        sealEntry = try seals.first()
                    }
                    // Not an Optional: mutating through `link?.add` copied the hasher (and its
                    // SHA-256 context) on every record.
                    var link = SealChain(previous: previousSeal, first: max(start, 1))
                    var inLink = false
                    var checked: UInt64 = 0
                    var expected = start
                    var entry = try Keys.withPosition(start) { key in try log.seek(atLeast: key) }
                    while expected <= head, let current = entry {
                        guard Keys.position(current.key) == expected else {
                            throw LogError(.corruption, "expected position \(expected) next in the log", position: expected)
                        }
                        guard let sealed = sealEntry, let sealLast = Keys.position(sealed.key), sealed.value.count == 40,
                            let sealFirst = Keys.loadLE64(sealed.value)
                        else {
                            throw LogError(.corruption, "record \(expected) is not covered by a seal", position: expected)
                        }
                        if !inLink {
                            guard sealFirst == expected else {
                                throw LogError(
                                    .corruption, "the seal ending at \(sealLast) should start at \(expected), not \(sealFirst)",
                                    position: expected)
                            }
                            link = SealChain(previous: previousSeal, first: expected)
                            inLink = true
                        }
                        link.add(current.value)
                        if expected == sealLast {
                            inLink = false
                            let digest = link.finish()
                            guard digest.elementsEqual(sealed.value[8..<40]) else {
                                throw LogError(
                                    .corruption,
                                    "the seal over positions \(sealFirst)...\(sealLast) does not match the records",
                                    position: sealFirst)
                            }
                            previousSeal = digest
                            checked += 1
                            sealEntry = try seals.next()
                        }
                        expected += 1
                        entry = try log.next()
                    }
                    if inLink {
                        throw LogError(.corruption, "the last seal does not end at the log head \(head)", position: head)
                    }
                    if let extra = sealEntry, let last = Keys.position(extra.key), last <= head {
                        throw LogError(.corruption, "a seal ends at \(last) but covers no records", position: last)
                    }
                    return checked
                }
            }
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

/// Order-independent digests of index entries: the wrapping sum of a 64-bit hash per entry,
/// and the count. Two multisets of entries with equal digests are equal but for a 2^-64
/// chance; the index is derived data, so accidents are what it guards against.
struct IndexDigest {
    struct Part: Equatable {
        var sum: UInt64 = 0
        var count: UInt64 = 0
    }

    var streams = Part()
    var ids = Part()

    mutating func addStream(_ streamHash: UInt64, version: UInt64, position: UInt64) {
        self.streams.sum &+= mix64(streamHash ^ mix64(version &+ 0x632B_E59B_D9B4_E019) ^ mix64(position))
        self.streams.count += 1
    }

    mutating func addID(_ id: UnsafeRawBufferPointer, position: UInt64) {
        let high = id.loadUnaligned(as: UInt64.self)
        let low = id.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        self.ids.sum &+= mix64(mix64(high ^ 0x8CB9_2BA7_2F3D_8DD7) &+ low ^ mix64(position ^ 0x1B87_3593))
        self.ids.count += 1
    }
}

/// ``EventLog/verifySeals(head:)`` on its own thread.
private final class SealCheck: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = NIOLockedValueBox<Result<UInt64, any Error>?>(nil)

    init(log: EventLog, from start: UInt64, head: UInt64) {
        let thread = Thread { [self] in
            let outcome = start > head ? .success(0) : Result { try log.verifySeals(from: start, head: head) }
            self.result.withLockedValue { $0 = outcome }
            self.done.signal()
        }
        thread.name = "tally-verify-seals"
        thread.start()
    }

    func wait() -> Result<UInt64, any Error> {
        self.done.wait()
        return self.result.withLockedValue { $0 } ?? .failure(LogError(.storage, "the seal check ended without a result"))
    }
}
