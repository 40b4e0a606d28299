import Foundation
import TallyLMDB
import TallyTesting
import Testing
@testable import TallyLog

@Suite struct IndexAndRecoveryTests {
    /// Appends `count` events round-robin over `streams` streams, in appends of `perAppend`.
    private func fill(_ log: EventLog, count: Int, streams: Int, perAppend: Int = 1) async throws -> [UUID] {
        var ids: [UUID] = []
        var index = 0
        while index < count {
            let stream = "stream-\(index % streams)"
            let events = (0..<min(perAppend, count - index)).map { offset in event("test.filled", "{\"n\":\(index + offset)}") }
            _ = try await log.append(to: stream, events: events)
            ids.append(contentsOf: events.map(\.id))
            index += events.count
        }
        return ids
    }

    @Test func readsCombineThePersistedIndexAndTheTail() async throws {
        try await withLog(tailEventsMax: 50) { log, _ in
            let ids = try await self.fill(log, count: 400, streams: 7)
            try await log.waitForWriterIdle()
            let stats = try log.stats()
            #expect(stats.indexCheckpoint > 0, "the indexer should have checkpointed")
            #expect(stats.indexCheckpoint < 400, "some events should still be in the tail")
            #expect(stats.streams == 7)
            let forward = try log.read(stream: "stream-3", limit: 1_000)
            #expect(forward.map(\.streamVersion) == Array(0..<UInt64(forward.count)))
            #expect(forward.count == 57)
            let backward = try log.read(stream: "stream-3", direction: .backward, limit: 10)
            #expect(backward.map(\.streamVersion) == Array((47...56).reversed()))
            let middle = try log.read(stream: "stream-3", fromVersion: 20, direction: .backward, limit: 3)
            #expect(middle.map(\.streamVersion) == [20, 19, 18])
            let from = try log.read(stream: "stream-3", fromVersion: 50, limit: 100)
            #expect(from.map(\.streamVersion) == Array(50...56))
            for id in [ids[0], ids[200], ids[399]] {
                #expect(try log.event(id: id)?.id == id)
            }
            #expect(try log.event(id: UUID()) == nil)
            #expect(try log.streamVersion("stream-3") == 56)
            #expect(try log.streamVersion("nothing") == nil)
            let report = try log.verify()
            #expect(report.isClean, "\(report)")
            #expect(report.indexEntriesChecked == 2 * stats.indexCheckpoint)
        }
    }

    @Test func reopenRebuildsHeadsAndIdempotencyFromCheckpointPlusTail() async throws {
        try await withTemporaryDirectory { dir in
            let config = LogConfiguration(tailEventsMax: 64, createIfMissing: true)
            var log = try await EventLog.open(at: dir.path, configuration: config)
            let early = event("test.early", "{}")
            _ = try await log.append(to: "stream-x", events: [early])
            _ = try await self.fill(log, count: 300, streams: 5)
            let late = event("test.late", "{}")
            _ = try await log.append(to: "stream-x", events: [late])
            let head = log.headPosition
            let chain = try log.stats().chainHead
            await log.close()

            log = try await EventLog.open(at: dir.path, configuration: config)
            #expect(log.headPosition == head)
            #expect(try log.stats().chainHead == chain)
            // Both an indexed and a tail event id are still idempotency keys.
            let retryEarly = try await log.append(to: "stream-x", events: [early])
            #expect(retryEarly.wasDuplicate && retryEarly.positions == [1])
            let retryLate = try await log.append(to: "stream-x", events: [late])
            #expect(retryLate.wasDuplicate && retryLate.positions == [head])
            // Stream heads survived: version checks still work.
            #expect(await rejection { _ = try await log.append(to: "stream-x", expectedVersion: .exact(0), events: [event()]) } == .wrongExpectedVersion)
            let next = try await log.append(to: "stream-x", expectedVersion: .exact(1), events: [event()])
            #expect(next.positions == [head + 1])
            try await log.checkpointIndex()
            #expect(try log.stats().indexCheckpoint == head + 1)
            #expect(try log.verify().isClean)
            await log.close()
        }
    }

    @Test func concurrentAppendersAreGroupCommittedGapFree() async throws {
        try await withLog(tailEventsMax: 1_000) { log, _ in
            let perTask = 50
            let tasks = 64
            let positions = try await withThrowingTaskGroup(of: [UInt64].self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        var mine: [UInt64] = []
                        for _ in 0..<perTask {
                            mine.append(try await log.append(to: "agent-\(task % 10)", events: [event()]).firstPosition)
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [UInt64]()) { $0.append(contentsOf: $1) }
            }
            #expect(positions.sorted() == Array(1...UInt64(tasks * perTask)))
            let metrics = log.committer?.metrics.snapshot
            #expect((metrics?.commits ?? 0) < tasks * perTask, "concurrent appends should share commits")
            #expect(try log.verify().isClean)
        }
    }

    @Test func subscriptionCatchesUpThenFollowsWithoutGaps() async throws {
        try await withLog { log, _ in
            _ = try await self.fill(log, count: 1_200, streams: 3, perAppend: 100)
            let reader = Task {
                var seen: [UInt64] = []
                for try await event in log.subscribe(fromPosition: 1) {
                    seen.append(event.position)
                    if seen.count == 1_500 { break }
                }
                return seen
            }
            try await Task.sleep(for: .milliseconds(20))
            for _ in 0..<300 { _ = try await log.append(to: "live", events: [event()]) }
            let seen = try await reader.value
            #expect(seen == Array(1...1_500))
        }
    }

    @Test func subscriptionEndsWhenTheLogCloses() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await EventLog.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true))
            _ = try await log.append(to: "s", events: [event()])
            let reader = Task {
                var count = 0
                for try await _ in log.subscribe() { count += 1 }
                return count
            }
            try await Task.sleep(for: .milliseconds(50))
            await log.close()
            #expect(try await reader.value == 1)
        }
    }

    @Test func secondWriterIsRefusedNamingTheHolder() async throws {
        try await withLog { log, dir in
            _ = try await log.append(to: "s", events: [event()])
            do {
                _ = try await EventLog.open(at: dir.path)
                Issue.record("a second writer opened the data directory")
            } catch let error as LogError {
                #expect(error.code == .locked)
                #expect(error.message.contains("process \(getpid())"))
            }
        }
    }

    @Test func fullMapRefusesAppendsCleanlyAndLosesNothing() async throws {
        try await withTemporaryDirectory { dir in
            let small = LogConfiguration(mapSizeBytes: 4 << 20, tailEventsMax: 200, createIfMissing: true)
            var log = try await EventLog.open(at: dir.path, configuration: small)
            var acknowledged: [UInt64: UUID] = [:]
            var fullError: LogError?
            let payload = "{\"pad\":\"" + String(repeating: "x", count: 900) + "\"}"
            while fullError == nil {
                let proposed = event("test.filled", payload)
                do {
                    let result = try await log.append(to: "fill-\(acknowledged.count % 20)", events: [proposed])
                    acknowledged[result.firstPosition] = proposed.id
                } catch let error as LogError {
                    fullError = error
                }
            }
            #expect(fullError?.code == .ledgerFull)
            #expect(fullError?.message.contains("--map-size") == true)
            #expect(log.isWritable, "ledger_full is not a failed commit")
            #expect(acknowledged.count > 100)
            // Reads keep working.
            #expect(try log.read(fromPosition: 1, limit: 5).count == 5)
            await log.close()

            // Space is made: reopen with a larger map, and appends work again.
            log = try await EventLog.open(at: dir.path, configuration: LogConfiguration(mapSizeBytes: 64 << 20))
            for (position, id) in acknowledged {
                #expect(try log.event(id: id)?.position == position)
            }
            _ = try await log.append(to: "after", events: [event()])
            #expect(try log.verify().isClean)
            await log.close()
        }
    }
}

@Suite struct IndexVerifyTests {
    /// Opens the closed log's LMDB environment directly and lets `body` change it.
    private func tamper(_ directory: String, _ body: @escaping @Sendable (inout WriteTransaction, LogDatabases) throws -> Void) async throws {
        let writer = WriterThread(name: "tamper")
        let environment = try Environment.open(
            at: EventLog.logPath(in: directory), databases: LogDatabases.names,
            configuration: EnvironmentConfiguration(mapSizeBytes: 1 << 30, databasesMax: 8, readOnly: false), writer: writer)
        try await writer.run {
            try environment.write { txn in try body(&txn, LogDatabases(environment)) }
        }
        environment.close()
        writer.stop()
    }

    private func filledLog(_ dir: TemporaryDirectory) async throws -> UInt64 {
        let log = try await EventLog.open(at: dir.path, configuration: LogConfiguration(tailEventsMax: 64, createIfMissing: true))
        for index in 0..<300 {
            _ = try await log.append(to: "stream-\(index % 7)", events: [event()])
        }
        try await log.checkpointIndex()
        #expect(try log.verify().isClean)
        let checkpoint = try log.stats().indexCheckpoint
        await log.close()
        return checkpoint
    }

    @Test func anIDEntryPointingElsewhereIsFoundAndNamed() async throws {
        try await withTemporaryDirectory { dir in
            _ = try await self.filledLog(dir)
            // The first entry is the smallest id, and these ids are random (UUID()), so it may be
            // position 7's own: then it is pointed at 8.
            try await self.tamper(dir.path) { txn, databases in
                try txn.withCursor(databases.ids) { cursor in
                    guard let first = try cursor.first() else { return }
                    let key = Array(first.key)
                    let target: UInt64 = Keys.loadLE64(first.value) == 7 ? 8 : 7
                    try key.withUnsafeBytes { key in
                        try Keys.littleEndian(target).withUnsafeBytes { value in try txn.put(databases.ids, key: key, value: value, flags: []) }
                    }
                }
            }
            let log = try await EventLog.open(at: dir.path, configuration: LogConfiguration(readOnly: true))
            let report = try log.verify()
            await log.close()
            #expect(!report.isClean)
            #expect(report.reason?.contains("event id index") == true, "\(report)")
            #expect(report.firstBadPosition == 7 || report.firstBadPosition == 8, "\(report)")
        }
    }

    @Test func aMissingStreamEntryIsFound() async throws {
        try await withTemporaryDirectory { dir in
            let checkpoint = try await self.filledLog(dir)
            try await self.tamper(dir.path) { txn, databases in
                let key = Keys.stream(Array("stream-3".utf8), version: 5)
                _ = try key.withUnsafeBytes { key in try txn.delete(databases.streams, key: key) }
            }
            let log = try await EventLog.open(at: dir.path, configuration: LogConfiguration(readOnly: true))
            let report = try log.verify()
            await log.close()
            #expect(!report.isClean)
            #expect(report.reason?.contains("stream index") == true, "\(report)")
            #expect((report.firstBadPosition ?? 0) <= checkpoint)
        }
    }

    /// Verify checks the log in parts on their own threads (split at seal links, near each
    /// quarter): a clean log counts every record and seal once, and a changed record in any
    /// part, or two in different parts, is named by its own position (the lowest first).
    @Test(arguments: [[40], [260], [40, 260], [150, 151]])
    func aChangedRecordInAnyPartIsNamed(positions: [UInt64]) async throws {
        try await withTemporaryDirectory { dir in
            _ = try await self.filledLog(dir)
            let clean = try await EventLog.open(at: dir.path, configuration: LogConfiguration(readOnly: true))
            let report = try clean.verify()
            await clean.close()
            #expect(report.isClean && report.recordsChecked == 300 && report.sealsChecked == 300 && report.headPosition == 300, "\(report)")
            try await self.tamper(dir.path) { txn, databases in
                for position in positions {
                    try Keys.withPosition(position) { key in
                        guard var value = try txn.get(databases.log, key: key).map(Array.init) else { return }
                        value[value.count - 20] ^= 0x04  // a payload byte
                        try value.withUnsafeBytes { value in try txn.put(databases.log, key: key, value: value, flags: []) }
                    }
                }
            }
            let log = try await EventLog.open(at: dir.path, configuration: LogConfiguration(readOnly: true))
            let damaged = try log.verify()
            await log.close()
            #expect(damaged.firstBadPosition == positions.min(), "\(damaged)")
            #expect(damaged.reason?.contains("fails its XXH3-64 checksum") == true, "\(damaged)")
        }
    }

    @Test func aChangedSealIsFoundAndNamedByItsFirstPosition() async throws {
        try await withTemporaryDirectory { dir in
            _ = try await self.filledLog(dir)
            try await self.tamper(dir.path) { txn, databases in
                try txn.withCursor(databases.seals) { cursor in
                    _ = try cursor.first()
                    guard let second = try cursor.next() else { return }
                    let key = Array(second.key)
                    var value = Array(second.value)
                    value[20] ^= 0x01
                    try key.withUnsafeBytes { key in
                        try value.withUnsafeBytes { value in try txn.put(databases.seals, key: key, value: value, flags: []) }
                    }
                }
            }
            let log = try await EventLog.open(at: dir.path, configuration: LogConfiguration(readOnly: true))
            let report = try log.verify()
            await log.close()
            #expect(!report.isClean)
            #expect(report.reason?.contains("seal over positions 2...2") == true, "\(report)")
            #expect(report.firstBadPosition == 2)
        }
    }

    /// A stream that leaves the tail, is looked up (cached), written again and leaves the
    /// tail again must report its newest version, not the cached one.
    @Test func streamHeadsStayCurrentAcrossCheckpoints() async throws {
        try await withLog(tailEventsMax: 64) { log, _ in
            for _ in 0..<10 { _ = try await log.append(to: "hot", events: [event()]) }
            for index in 0..<200 { _ = try await log.append(to: "other-\(index % 9)", events: [event()]) }
            try await log.waitForWriterIdle()
            _ = try await log.append(to: "hot", expectedVersion: .exact(9), events: [event()])
            for index in 0..<200 { _ = try await log.append(to: "other-\(index % 9)", events: [event()]) }
            try await log.waitForWriterIdle()
            let next = try await log.append(to: "hot", expectedVersion: .exact(10), events: [event()])
            #expect(next.streamVersions == [11])
            #expect(await rejection { _ = try await log.append(to: "hot", expectedVersion: .exact(10), events: [event()]) } == .wrongExpectedVersion)
        }
    }

    /// Short-lived writers (CLI runs) never fill the tail; closing persists a long one so
    /// the next open does not replay it.
    @Test func closePersistsALongTail() async throws {
        try await withTemporaryDirectory { dir in
            var log = try await EventLog.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true))
            for chunk in 0..<11 {
                _ = try await log.append(to: "bulk-\(chunk)", events: (0..<1_000).map { _ in event() })
            }
            #expect(try log.stats().indexCheckpoint == 0)
            await log.close()
            log = try await EventLog.open(at: dir.path, configuration: LogConfiguration(readOnly: true))
            #expect(try log.stats().indexCheckpoint == 11_000)
            #expect(try log.verify().isClean)
            await log.close()
        }
    }

    @Test func idRunsStayFewAndEveryIDIsFoundAcrossReopen() async throws {
        try await withTemporaryDirectory { dir in
            let config = LogConfiguration(tailEventsMax: 64, createIfMissing: true)
            var log = try await EventLog.open(at: dir.path, configuration: config)
            var ids: [UUID] = []
            for index in 0..<2_000 {
                let proposed = event()
                ids.append(proposed.id)
                _ = try await log.append(to: "stream-\(index % 13)", events: [proposed])
            }
            try await log.waitForWriterIdle()
            let runs = try #require(log.committer).state.idRuns
            // 62 checkpoints of 32 ids, merged eight at a time: fewer than eight runs per
            // size tier (here two tiers), not 62.
            #expect(runs.count < 2 * Limits.idRunMergeFanIn, "\(runs)")
            #expect(runs.map(\.count).reduce(0, +) == Int(try log.stats().indexCheckpoint))
            await log.close()
            log = try await EventLog.open(at: dir.path, configuration: config)
            #expect(try #require(log.committer).state.idRuns == runs, "runs rebuilt at open differ")
            for id in ids { #expect(try log.event(id: id)?.id == id) }
            // A retry of the oldest event (deep in a merged run) is still a duplicate.
            let retry = try await log.append(to: "stream-0", events: [event(id: ids[0])])
            #expect(retry.wasDuplicate && retry.positions == [1])
            #expect(try log.verify().isClean)
            await log.close()
        }
    }
}
