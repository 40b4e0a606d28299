import Foundation
import TallyChecksum
import TallyLMDB

extension EventLog {
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
}
