import Foundation
import TallyTesting
import Testing
@testable import TallyLog

/// Appends made inside a commit (`EventLog.withinCommit`), as a domain makes them: with a
/// result, or (`CommitAppend.write`) with only whether they were written.
@Suite struct CommitAppendTests {
    @Test func aOneEventAppendReportsItsPositionAndVersion() async throws {
        try await withLog { log, _ in
            _ = try await log.append(to: "s-1", events: [event(), event()])
            let results = try await log.withinCommit { append in
                [
                    append([StreamAppend(streamID: "s-1", expectedVersion: .exact(1), events: [event()])]),
                    append([StreamAppend(streamID: "s-2", expectedVersion: .noStream, events: [event()])]),
                ]
            }
            #expect(try results[0].get().positions == [3])
            #expect(try results[0].get().streamVersions == [2])
            #expect(try results[1].get().positions == [4])
            #expect(try results[1].get().streamVersions == [0])
        }
    }

    @Test func writeTellsOnlyWhetherTheAppendWasWritten() async throws {
        try await withLog { log, _ in
            let first = try PreparedStreams([StreamAppend(streamID: "transfer-1", expectedVersion: .noStream, events: [event()])])
            let again = try PreparedStreams([StreamAppend(streamID: "transfer-1", expectedVersion: .noStream, events: [event()])])
            let errors = try await log.withinCommit { append in [append.write(first), append.write(again)].map { $0?.code } }
            // The second is refused: the stream exists by then (the first is seen within the batch).
            #expect(errors == [nil, .wrongExpectedVersion])
            #expect(log.headPosition == 1)
            #expect(try log.read(stream: "transfer-1").map(\.streamVersion) == [0])
        }
    }

    /// The one-event form prepares exactly what the general form does, and refuses what it
    /// refuses with the same code and message.
    @Test func aOneEventPreparationEqualsTheGeneralOne() throws {
        let proposed = event()
        let one = try PreparedStreams(streamID: "transfer-7", expectedVersion: .noStream, event: proposed).append
        let general = try PreparedStreams([StreamAppend(streamID: "transfer-7", expectedVersion: .noStream, events: [proposed])]).append
        #expect(one.eventCount == general.eventCount && one.recordBytes == general.recordBytes)
        #expect(one.streams.map(\.streamBytes) == general.streams.map(\.streamBytes))
        #expect(one.streams.map(\.expectedVersion) == general.streams.map(\.expectedVersion))
        #expect(one.streams[0].events.map(\.type) == general.streams[0].events.map(\.type))
        #expect(one.streams[0].events.map(\.flags) == general.streams[0].events.map(\.flags))
        for (streamID, bad) in [("", proposed), ("s-1", ProposedEvent(type: "Not.Dotted", payload: [])), ("s-1", ProposedEvent(type: "a.b", payload: [UInt8](repeating: 0x20, count: Limits.payloadBytesMax + 1)))] {
            let oneError = #expect(throws: LogError.self) { try PreparedStreams(streamID: streamID, expectedVersion: .any, event: bad) }
            let generalError = #expect(throws: LogError.self) { try PreparedStreams([StreamAppend(streamID: streamID, events: [bad])]) }
            #expect(oneError?.code == generalError?.code && oneError?.message == generalError?.message)
        }
    }

    /// Reading ahead is a hint: appends warmed first (ids and streams in the persisted index,
    /// in the tail, in the batch, new ones) are decided exactly as without it.
    @Test func warmingChangesNoDecision() async throws {
        let persisted = event()
        let inTail = event()
        let decisions = try await withLog { log, _ in
            _ = try await log.append(to: "transfer-p", events: [persisted])
            try await log.checkpointIndex()
            _ = try await log.append(to: "transfer-t", events: [inTail])
            func prepared(_ stream: String, _ expected: ExpectedVersion, _ proposed: ProposedEvent) throws -> PreparedStreams {
                try PreparedStreams(streamID: stream, expectedVersion: expected, event: proposed)
            }
            let fresh = event()
            let appends = [
                try prepared("transfer-p", .noStream, persisted),  // a retry of a persisted event
                try prepared("transfer-t", .noStream, inTail),  // a retry of an event in the tail
                try prepared("transfer-p", .noStream, event()),  // a persisted stream
                try prepared("transfer-t", .noStream, event()),  // a stream in the tail
                try prepared("transfer-n", .noStream, fresh),  // new
                try prepared("transfer-n", .noStream, fresh),  // a retry within the batch
                try prepared("transfer-n", .exact(0), event()),  // the batch's stream
            ]
            let two = try PreparedStreams([StreamAppend(streamID: "transfer-m", expectedVersion: .noStream, events: [event(), event()])])
            return try await log.withinCommit { append in
                append.warm(appends + [two])
                return appends.map { append($0) }
            }
        }
        #expect(decisions.map { (try? $0.get())?.wasDuplicate } == [true, true, nil, nil, false, true, false])
        #expect(decisions.map { (try? $0.get())?.positions } == [[1], [2], nil, nil, [3], [3], [4]])
        let codes: [LogError.Code?] = decisions.map { result in
            guard case .failure(let error) = result else { return nil }
            return error.code
        }
        #expect(codes == [
            nil, nil, .wrongExpectedVersion, .wrongExpectedVersion, nil, nil, nil,
        ])
    }
}
