import Foundation
import NIOConcurrencyHelpers
import Synchronization
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

    /// How many parts verify splits the log into, each checked on its own thread. More
    /// than the cores: the parts then finish closer together.
    static let verifyParts = 4

    /// What checking one part of the log found.
    struct PartResult: Sendable {
        var records: UInt64 = 0
        var seals: UInt64 = 0
        var digest = IndexDigest()
    }

    /// Checks the records `start...end` in one pass, in its own read transaction (the log is
    /// append-only, so positions up to `head` are the same in every later snapshot): each
    /// record's position, checksum and chain link, and the SHA-256 seal of every link (a link
    /// starts at `start`); adds the index entries of the records up to `checkpoint` to the
    /// digest. Throws a `corruption` ``LogError`` naming the first bad position it finds.
    func verifyPart(from start: UInt64, through end: UInt64, checkpoint: UInt64, head: UInt64, checked: RecordCount) throws
        -> PartResult
    {
        var result = PartResult()
        guard start <= end else { return result }
        return try self.environment.read { txn in
            try txn.withCursor(self.databases.log) { log throws in
                try txn.withCursor(self.databases.seals) { seals throws in
                    // Where this part of the chain and of the seal chain starts: the stored
                    // checksum of the record before it, and the stored seal ending there.
                    var previousChecksum: UInt64 = 0
                    var previousSeal = SealChain.genesis
                    var sealEntry: Cursor.Entry?
                    var entry: Cursor.Entry?
                    if start > 1 {
                        guard let before = try Keys.withPosition(start - 1, { key in try seals.seek(atLeast: key) }),
                            Keys.position(before.key) == start - 1, before.value.count == 40
                        else {
                            throw LogError(.corruption, "no seal ends at position \(start - 1)", position: start)
                        }
                        previousSeal = Array(before.value[8..<40])
                        sealEntry = try seals.next()
                        guard let record = try Keys.withPosition(start - 1, { key in try log.seek(atLeast: key) }),
                            Keys.position(record.key) == start - 1
                        else {
                            throw LogError(.corruption, "expected position \(start - 1) next in the log, found another key", position: start - 1)
                        }
                        previousChecksum = try Self.checkedView(record.value, position: start - 1).storedChecksum
                        entry = try log.next()
                    } else {
                        sealEntry = try seals.first()
                        entry = try log.first()
                    }
                    // Not an Optional: mutating through `link?.add` copied the hasher (and its
                    // SHA-256 context) on every record.
                    var link = SealChain(previous: previousSeal, first: start)
                    var inLink = false
                    var expected = start
                    while expected <= end {
                        guard let current = entry, let key = Keys.position(current.key), key == expected else {
                            throw LogError(
                                .corruption, "expected position \(expected) next in the log, found another key", position: expected)
                        }
                        let view = try Self.checkedView(current.value, position: expected)
                        guard view.previousChecksum == previousChecksum else {
                            throw LogError(
                                .corruption,
                                "record \(expected) does not chain onto record \(expected - 1) (a record was changed, lost or inserted)",
                                position: expected)
                        }
                        previousChecksum = view.storedChecksum
                        if expected <= checkpoint {
                            result.digest.addStream(XXH3.hash(view.streamIDBytes), version: view.streamVersion, position: expected)
                            result.digest.addID(view.eventIDBytes, position: expected)
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
                            result.seals += 1
                            sealEntry = try seals.next()
                        }
                        result.records += 1
                        if result.records % 65_536 == 0 { checked.add(65_536) }
                        expected += 1
                        entry = try log.next()
                    }
                    checked.add(result.records % 65_536)
                    if inLink {
                        throw LogError(
                            .corruption, end == head ? "the last seal does not end at the log head \(head)" : "no seal ends at position \(end)",
                            position: end)
                    }
                    if end == head, let extra = sealEntry, let last = Keys.position(extra.key), last <= head {
                        throw LogError(.corruption, "a seal ends at \(last) but covers no records", position: last)
                    }
                    return result
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
struct IndexDigest: Sendable {
    struct Part: Equatable, Sendable {
        var sum: UInt64 = 0
        var count: UInt64 = 0
    }

    var streams = Part()
    var ids = Part()

    mutating func addStream(_ streamHash: UInt64, version: UInt64, position: UInt64) {
        self.streams.sum &+= mix64(streamHash ^ mix64(version &+ 0x632B_E59B_D9B4_E019) ^ mix64(position))
        self.streams.count += 1
    }

    /// Adds the entries of another digest (the digests are sums, so parts combine).
    mutating func add(_ other: IndexDigest) {
        self.streams.sum &+= other.streams.sum
        self.streams.count += other.streams.count
        self.ids.sum &+= other.ids.sum
        self.ids.count += other.ids.count
    }

    mutating func addID(_ id: UnsafeRawBufferPointer, position: UInt64) {
        let high = id.loadUnaligned(as: UInt64.self)
        let low = id.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        self.ids.sum &+= mix64(mix64(high ^ 0x8CB9_2BA7_2F3D_8DD7) &+ low ^ mix64(position ^ 0x1B87_3593))
        self.ids.count += 1
    }
}

/// ``EventLog/verifyPart(from:through:checkpoint:head:checked:)`` on its own thread.
private final class PartCheck: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = NIOLockedValueBox<Result<EventLog.PartResult, any Error>?>(nil)

    init(log: EventLog, from start: UInt64, through end: UInt64, checkpoint: UInt64, head: UInt64, checked: RecordCount) {
        let thread = Thread { [self] in
            let outcome = Result {
                try log.verifyPart(from: start, through: end, checkpoint: checkpoint, head: head, checked: checked)
            }
            self.result.withLockedValue { $0 = outcome }
            self.done.signal()
        }
        thread.name = "tally-verify"
        thread.start()
    }

    /// Waits for the part's result, calling `progress` now and then meanwhile.
    func wait(progress: () -> Void) -> Result<EventLog.PartResult, any Error> {
        while self.done.wait(timeout: .now() + .milliseconds(250)) == .timedOut { progress() }
        return self.result.withLockedValue { $0 } ?? .failure(LogError(.storage, "a verify thread ended without a result"))
    }
}

/// Records checked so far by the verify threads, for progress reports.
final class RecordCount: Sendable {
    private let count = Atomic<UInt64>(0)

    func add(_ records: UInt64) { self.count.add(records, ordering: .relaxed) }

    var value: UInt64 { self.count.load(ordering: .relaxed) }
}
