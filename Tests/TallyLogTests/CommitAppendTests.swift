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
}
