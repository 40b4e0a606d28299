import Foundation
import Tally
import TallyLMDB
import TallyProjections
import TallyTesting
import Testing

/// ``ProjectionGroup``: several projections on one subscription and one views transaction
/// a batch, each with its own checkpoint, each failing alone.
@Suite struct ProjectionGroupTests {
    /// Counts how many times each position was applied (key: position, value: count), and
    /// fails in `prepare` or `apply` at an event of type `poison`, if one is named.
    struct Counting: Projection {
        let name: String
        let version: UInt32 = 1
        var databases: [String] { [self.name + ".count"] }
        var failsInPrepare: String?
        var failsInApply: String?

        func prepare(_ events: [RecordedEvent]) throws -> [RecordedEvent] {
            if let poison = self.failsInPrepare, let event = events.first(where: { $0.type == poison }) {
                throw ProjectionError(position: event.position, message: "cannot decode \(event.type)")
            }
            return events
        }

        func apply(_ events: [RecordedEvent], in store: ProjectionStore) throws {
            let database = store.database(self.databases[0])
            for event in events {
                let key = withUnsafeBytes(of: event.position.bigEndian) { Array($0) }
                let count = try store.get(database, key: key)?.first ?? 0
                try store.put(database, key: key, value: [count + 1])
                if let poison = self.failsInApply, event.type == poison {
                    throw ProjectionError(position: event.position, message: "cannot digest \(event.type)")
                }
            }
        }

        /// How many times each position was applied, as stored.
        func counts(in views: ViewStore) throws -> [UInt64: UInt8] {
            try views.read { txn in
                var counts: [UInt64: UInt8] = [:]
                try txn.withCursor(try views.database(self.databases[0], txn)) { cursor in
                    var entry = try cursor.first()
                    while let current = entry {
                        counts[current.key.loadUnaligned(as: UInt64.self).bigEndian] = current.value.first
                        entry = try cursor.next()
                    }
                }
                return counts
            }
        }
    }

    /// Workers that start at different checkpoints (one caught up alone part of the way)
    /// follow a log being appended to: each ends with every position applied exactly once.
    @Test func workersAtDifferentCheckpointsEachApplyEveryEventOnce() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            let ahead = Counting(name: "ahead")
            let behind = Counting(name: "behind")
            let views = try ViewStore.open(dataDirectory: dir.path, projections: [ahead, behind])
            for index in 0..<40 {
                _ = try await ledger.log.append(to: "misc-\(index % 3)", events: [ProposedEvent(type: "fine.event", payload: Array("{}".utf8))])
            }
            try await ProjectionWorker(projection: ahead, log: ledger.log, views: views).catchUp()
            let workers = try [ahead, behind].map { try ProjectionWorker(projection: $0, log: ledger.log, views: views) }
            #expect(workers.map(\.status.checkpoint) == [40, 0])
            let running = Task { try await ProjectionGroup(workers).run() }
            for index in 0..<300 {
                let events = (0...(index % 4)).map { _ in ProposedEvent(type: "fine.event", payload: Array("{}".utf8)) }
                _ = try await ledger.log.append(to: "misc-\(index % 7)", events: events)
            }
            let head = ledger.log.headPosition
            for worker in workers { #expect(await worker.wait(until: head, timeout: .seconds(20))) }
            running.cancel()
            try await running.value
            let everyPositionOnce = Dictionary(uniqueKeysWithValues: (1...head).map { ($0, UInt8(1)) })
            #expect(try ahead.counts(in: views) == everyPositionOnce)
            #expect(try behind.counts(in: views) == everyPositionOnce)
            #expect(workers.allSatisfy { $0.status.failure == nil })
            views.close()
            await ledger.close()
        }
    }

    /// A projection whose `apply` throws (after writing part of the batch into the shared
    /// transaction) and one whose `prepare` throws stop at the batch that holds the poison,
    /// nothing of it applied, their statuses naming the position; the healthy one applies
    /// every event once, and the group runs on until it is cancelled.
    @Test func aFailingProjectionStopsAloneAndTheOthersGoOn() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            let healthy = Counting(name: "healthy")
            let choking = Counting(name: "choking", failsInApply: "poison.pill")
            let undecodable = Counting(name: "undecodable", failsInPrepare: "poison.pill")
            let views = try ViewStore.open(dataDirectory: dir.path, projections: [choking, healthy, undecodable])
            let workers = try [choking, healthy, undecodable].map { try ProjectionWorker(projection: $0, log: ledger.log, views: views) }
            let group = ProjectionGroup(workers)
            let running = Task { try await group.run() }
            for _ in 0..<20 {
                _ = try await ledger.log.append(to: "misc-1", events: [ProposedEvent(type: "fine.event", payload: Array("{}".utf8))])
            }
            #expect(await workers[1].wait(until: 20, timeout: .seconds(20)))
            let poison = try await ledger.log.append(to: "misc-2", events: [
                ProposedEvent(type: "fine.event", payload: Array("{}".utf8)), ProposedEvent(type: "poison.pill", payload: Array("{}".utf8)),
            ]).lastPosition
            for _ in 0..<20 {
                _ = try await ledger.log.append(to: "misc-1", events: [ProposedEvent(type: "fine.event", payload: Array("{}".utf8))])
            }
            let head = ledger.log.headPosition
            #expect(await workers[1].wait(until: head, timeout: .seconds(20)))
            for worker in [workers[0], workers[2]] {
                #expect(await worker.wait(until: head, timeout: .milliseconds(50)) == false)
                let status = worker.status
                #expect(status.failure?.contains("position \(poison)") == true, "\(status)")
                #expect(status.checkpoint >= 20 && status.checkpoint < poison - 1, "the poison's batch is not applied: \(status)")
            }
            #expect(try healthy.counts(in: views) == Dictionary(uniqueKeysWithValues: (1...head).map { ($0, UInt8(1)) }))
            for stopped in [choking, undecodable] {
                let checkpoint = try views.checkpoint(of: stopped.name).position
                #expect(try stopped.counts(in: views) == Dictionary(uniqueKeysWithValues: (1...checkpoint).map { ($0, UInt8(1)) }))
            }
            #expect(workers[1].status.failure == nil)
            // Still following for the healthy one.
            _ = try await ledger.log.append(to: "misc-1", events: [ProposedEvent(type: "fine.event", payload: Array("{}".utf8))])
            #expect(await workers[1].wait(until: head + 1, timeout: .seconds(20)))
            running.cancel()
            try await running.value
            views.close()
            await ledger.close()
        }
    }

    /// A worker far behind when the group starts (as after a version change) catches up and
    /// follows on its own; the one at the head follows with the group. Both end with every
    /// position applied once, across appends made while they run.
    @Test func aWorkerFarBehindCatchesUpAloneAndBothApplyEveryEventOnce() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            let current = Counting(name: "current")
            let rebuilt = Counting(name: "rebuilt")
            let views = try ViewStore.open(dataDirectory: dir.path, projections: [current, rebuilt])
            for index in 0..<300 {
                _ = try await ledger.log.append(to: "misc-\(index % 5)", events: [ProposedEvent(type: "fine.event", payload: Array("{}".utf8))])
            }
            try await ProjectionWorker(projection: current, log: ledger.log, views: views).catchUp()
            let workers = try [current, rebuilt].map { try ProjectionWorker(projection: $0, log: ledger.log, views: views) }
            let running = Task { try await ProjectionGroup(workers, aloneBehindEvents: 100).run() }
            for index in 0..<200 {
                _ = try await ledger.log.append(to: "misc-\(index % 5)", events: [ProposedEvent(type: "fine.event", payload: Array("{}".utf8))])
            }
            let head = ledger.log.headPosition
            for worker in workers { #expect(await worker.wait(until: head, timeout: .seconds(20))) }
            running.cancel()
            try await running.value
            let everyPositionOnce = Dictionary(uniqueKeysWithValues: (1...head).map { ($0, UInt8(1)) })
            #expect(try current.counts(in: views) == everyPositionOnce)
            #expect(try rebuilt.counts(in: views) == everyPositionOnce)
            views.close()
            await ledger.close()
        }
    }
}
