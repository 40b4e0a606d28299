import Foundation
import TallyTesting
import Testing
@testable import TallyLog

@Suite struct AppendTests {
    @Test func positionsAreGapFreeAndVersionsCountPerStream() async throws {
        try await withLog { log, _ in
            let a = try await log.append(to: "account-1", expectedVersion: .noStream, events: [event(), event()])
            let b = try await log.append(to: "account-2", events: [event()])
            let c = try await log.append(to: "account-1", expectedVersion: .exact(1), events: [event()])
            #expect(a.positions == [1, 2])
            #expect(a.streamVersions == [1])
            #expect(b.positions == [3])
            #expect(c.positions == [4])
            #expect(c.streamVersions == [2])
            #expect(log.headPosition == 4)
            let stream = try log.read(stream: "account-1")
            #expect(stream.map(\.streamVersion) == [0, 1, 2])
            #expect(stream.map(\.position) == [1, 2, 4])
        }
    }

    @Test func wrongExpectedVersionNamesTheActualVersion() async throws {
        try await withLog { log, _ in
            _ = try await log.append(to: "deployment-7", events: [event(), event()])
            do {
                _ = try await log.append(to: "deployment-7", expectedVersion: .exact(0), events: [event()])
                Issue.record("append with a stale version succeeded")
            } catch let error as LogError {
                #expect(error.code == .wrongExpectedVersion)
                #expect(error.actualVersion == 1)
            }
            #expect(await rejection { _ = try await log.append(to: "deployment-7", expectedVersion: .noStream, events: [event()]) } == .wrongExpectedVersion)
            #expect(await rejection { _ = try await log.append(to: "nobody", expectedVersion: .exact(0), events: [event()]) } == .wrongExpectedVersion)
            #expect(log.headPosition == 2)
        }
    }

    @Test func retryWithSameIDsReturnsOriginalPositionsAndWritesNothing() async throws {
        try await withLog { log, _ in
            let events = [event(actor: "agent-1"), event(actor: "agent-1")]
            let first = try await log.append(to: "transfer-9", expectedVersion: .noStream, events: events)
            _ = try await log.append(to: "other", events: [event()])
            // The retry carries the same expected version; it is not re-checked for duplicates.
            let retry = try await log.append(to: "transfer-9", expectedVersion: .noStream, events: events)
            #expect(retry.wasDuplicate)
            #expect(retry.positions == first.positions)
            #expect(retry.streamVersions == [1])
            #expect(log.headPosition == 3)
        }
    }

    @Test func sameIDWithOtherContentIsAConflict() async throws {
        try await withLog { log, _ in
            let id = UUID()
            _ = try await log.append(to: "s-1", events: [event("a.b", "{\"x\":1}", id: id)])
            #expect(await rejection { _ = try await log.append(to: "s-1", events: [event("a.b", "{\"x\":2}", id: id)]) } == .eventIDConflict)
            #expect(await rejection { _ = try await log.append(to: "s-2", events: [event("a.b", "{\"x\":1}", id: id)]) } == .eventIDConflict)
            #expect(await rejection { _ = try await log.append(to: "s-1", events: [event("a.c", "{\"x\":1}", id: id)]) } == .eventIDConflict)
            // Part of the ids exist: a conflict, not a partial retry.
            #expect(await rejection { _ = try await log.append(to: "s-1", events: [event("a.b", "{\"x\":1}", id: id), event()]) } == .eventIDConflict)
            // The same id twice in one append.
            let twice = UUID()
            #expect(await rejection { _ = try await log.append(to: "s-3", events: [event(id: twice), event(id: twice)]) } == .eventIDConflict)
            #expect(log.headPosition == 1)
        }
    }

    @Test func multiStreamAppendIsAllOrNothing() async throws {
        try await withLog { log, _ in
            _ = try await log.append(to: "account-b", events: [event()])
            let code = await rejection {
                _ = try await log.append([
                    StreamAppend(streamID: "account-a", expectedVersion: .noStream, events: [event()]),
                    StreamAppend(streamID: "account-b", expectedVersion: .noStream, events: [event()]),
                ])
            }
            #expect(code == .wrongExpectedVersion)
            #expect(try log.read(stream: "account-a").isEmpty)
            #expect(log.headPosition == 1)
            let ok = try await log.append([
                StreamAppend(streamID: "account-a", expectedVersion: .noStream, events: [event(), event()]),
                StreamAppend(streamID: "account-b", expectedVersion: .exact(0), events: [event()]),
            ])
            #expect(ok.positions == [2, 3, 4])
            #expect(ok.streamVersions == [1, 1])
        }
    }

    @Test func oneRejectedRequestNeverFailsItsBatchNeighbours() async throws {
        try await withLog { log, _ in
            _ = try await log.append(to: "hot", events: [event()])
            // 200 concurrent appends, half of them doomed by a wrong expected version.
            let results = await withTaskGroup(of: Bool.self) { group in
                for index in 0..<200 {
                    group.addTask {
                        let expected: ExpectedVersion = index.isMultiple(of: 2) ? .any : .noStream
                        return (try? await log.append(to: "hot", expectedVersion: expected, events: [event()])) != nil
                    }
                }
                return await group.reduce(into: [Bool]()) { $0.append($1) }
            }
            #expect(results.filter { $0 }.count == 100)
            #expect(log.headPosition == 101)
            let versions = try log.read(stream: "hot", limit: 1_000).map(\.streamVersion)
            #expect(versions == Array(0...100))
        }
    }

    /// An append of many events is checked in two halves on two tasks: the same codes as one
    /// pass, the earlier half's error first, limits and duplicate streams across the halves
    /// still found, nothing written on any error, and the order of streams kept.
    @Test func aLargeAppendIsCheckedInHalvesWithTheSameErrors() async throws {
        try await withLog { log, _ in
            func streams(_ change: (Int, inout StreamAppend) -> Void = { _, _ in }) -> [StreamAppend] {
                (0..<1_000).map { index in
                    var stream = StreamAppend(streamID: "large-\(index)", events: [event()])
                    change(index, &stream)
                    return stream
                }
            }
            let badType = streams { index, stream in if index == 700 { stream.events = [event("Bad.Type")] } }
            #expect(await rejection { _ = try await log.append(badType) } == .invalidEventType)
            let twoBad = streams { index, stream in
                if index == 100 { stream.events = [event("Bad.Type")] }
                if index == 700 { stream.events = [ProposedEvent(type: "a.b", payload: Array(repeating: 1, count: Limits.payloadBytesMax + 1))] }
            }
            #expect(await rejection { _ = try await log.append(twoBad) } == .invalidEventType)
            let twoBadLater = streams { index, stream in
                if index == 100 { stream.events = [ProposedEvent(type: "a.b", payload: Array(repeating: 1, count: Limits.payloadBytesMax + 1))] }
                if index == 700 { stream.events = [event("Bad.Type")] }
            }
            #expect(await rejection { _ = try await log.append(twoBadLater) } == .payloadTooLarge)
            let duplicate = streams { index, stream in if index == 900 { stream.streamID = "large-10" } }
            #expect(await rejection { _ = try await log.append(duplicate) } == .invalidBatch)
            let half = Limits.appendEventsMax / 2 + 1
            let tooMany = [
                StreamAppend(streamID: "many-a", events: (0..<half).map { _ in event() }),
                StreamAppend(streamID: "many-b", events: (0..<half).map { _ in event() }),
            ]
            #expect(await rejection { _ = try await log.append(tooMany) } == .invalidBatch)
            #expect(log.headPosition == 0)
            let result = try await log.append(streams())
            #expect(result.positions == Array(1...1_000))
            let recorded = try log.read(fromPosition: 1, limit: 1_000)
            #expect(recorded.map(\.streamID) == (0..<1_000).map { "large-\($0)" })
        }
    }

    @Test func everyLimitHasItsCode() async throws {
        try await withLog { log, _ in
            let append = { (stream: String, events: [ProposedEvent]) in
                await rejection { _ = try await log.append(to: stream, events: events) }
            }
            #expect(await append("", [event()]) == .invalidStreamID)
            #expect(await append(String(repeating: "s", count: Limits.streamIDBytesMax + 1), [event()]) == .invalidStreamID)
            #expect(await append("bad\u{7}stream", [event()]) == .invalidStreamID)
            #expect(await append("s", [event("Transfer.Posted")]) == .invalidEventType)
            #expect(await append("s", [event("transfer..posted")]) == .invalidEventType)
            #expect(await append("s", [event("transfer.")]) == .invalidEventType)
            #expect(await append("s", [event(String(repeating: "a", count: Limits.typeBytesMax + 1))]) == .invalidEventType)
            #expect(await append("s", [ProposedEvent(type: "a.b", payload: Array(repeating: 1, count: Limits.payloadBytesMax + 1))]) == .payloadTooLarge)
            let big = EventMetadata(extra: ["blob": String(repeating: "m", count: Limits.metadataBytesMax)])
            #expect(await append("s", [ProposedEvent(type: "a.b", payload: [], metadata: big)]) == .invalidMetadata)
            #expect(await append("s", [ProposedEvent(type: "a.b", payload: [], metadata: EventMetadata(extra: ["actor": "x"]))]) == .invalidMetadata)
            #expect(await append("s", []) == .invalidBatch)
            #expect(await append("s", (0...Limits.appendEventsMax).map { _ in event() }) == .invalidBatch)
            #expect(await rejection { _ = try await log.append([]) } == .invalidBatch)
            #expect(await rejection {
                _ = try await log.append([StreamAppend(streamID: "x", events: [event()]), StreamAppend(streamID: "x", events: [event()])])
            } == .invalidBatch)
            #expect(log.headPosition == 0)
            // The limits themselves are accepted.
            let edge = try await log.append(to: String(repeating: "é", count: Limits.streamIDBytesMax / 2), events: [
                ProposedEvent(type: String(repeating: "a", count: Limits.typeBytesMax), payload: Array(repeating: 1, count: Limits.payloadBytesMax))
            ])
            #expect(edge.positions == [1])
        }
    }

    @Test func metadataRoundTrips() async throws {
        try await withLog { log, _ in
            let metadata = EventMetadata(actor: "agent-7", correlationID: "run-1", causationID: "cmd-9", extra: ["region": "eu", "ünï": "çødé"])
            _ = try await log.append(to: "s", events: [ProposedEvent(type: "a.b", payload: Array("{}".utf8), metadata: metadata)])
            let stored = try #require(try log.read(fromPosition: 1).first)
            #expect(stored.metadata == metadata)
            #expect(stored.category == "s")
        }
    }

    @Test func readOnlyLogRefusesAppends() async throws {
        try await withTemporaryDirectory { dir in
            let log = try await EventLog.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true))
            _ = try await log.append(to: "s", events: [event()])
            await log.close()
            let reader = try await EventLog.open(at: dir.path, configuration: LogConfiguration(readOnly: true))
            #expect(await rejection { _ = try await reader.append(to: "s", events: [event()]) } == .readOnly)
            #expect(try reader.read(fromPosition: 1).count == 1)
            await reader.close()
        }
    }

    @Test func missingDirectoryIsNotInitialized() async throws {
        let code = await rejection { _ = try await EventLog.open(at: "/tmp/does-not-exist-\(UUID())") }
        #expect(code == .notInitialized)
    }
}
