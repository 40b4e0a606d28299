import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
@testable import TallyServer
import Synchronization
import Testing

/// The request timeout (`RequestDeadlines`): work still running after the timeout is
/// answered 503 `timeout` within about one watcher tick and is cancelled; work that finishes
/// in time is answered with its own response, also after a timeout fired; a thrown error
/// passes through.
@Suite struct RequestTimeoutTests {
    @Test func slowWorkGets503TimeoutAndIsCancelled() async throws {
        let deadlines = RequestDeadlines(seconds: 0.3)
        let cancelled = Mutex(false)
        let started = ContinuousClock.now
        do {
            _ = try await deadlines.run {
                do { try await Task.sleep(for: .seconds(60)) } catch { cancelled.withLock { $0 = true } }
                return Response(status: .ok)
            }
            Issue.record("slow work was answered instead of timed out")
        } catch let problem as APIProblem {
            #expect(problem.status == .serviceUnavailable)
            #expect(problem.code == "timeout")
            #expect(problem.detail.contains("0.3 s"))
        }
        let elapsed = ContinuousClock.now - started
        #expect(elapsed >= .milliseconds(300))
        // About one 100 ms tick late on an idle machine; a loaded test run delays the watcher
        // (seen: 3 s), so only "long before the work would have ended" is asserted.
        #expect(elapsed < .seconds(30), "the timeout fired after \(elapsed)")
        let cancelDeadline = ContinuousClock.now + .seconds(20)
        while !cancelled.withLock({ $0 }), ContinuousClock.now < cancelDeadline { try await Task.sleep(for: .milliseconds(20)) }
        #expect(cancelled.withLock { $0 }, "the timed-out work was not cancelled")
    }

    @Test func quickWorkAndErrorsPassThroughAroundATimeout() async throws {
        // A timeout long enough that no quick request reaches it on a loaded machine.
        let deadlines = RequestDeadlines(seconds: 5)
        let slow = Task {
            try await deadlines.run {
                try await Task.sleep(for: .seconds(120))
                return Response(status: .ok)
            }
        }
        for index in 0..<500 {
            let response = try await deadlines.run { Response(status: index % 2 == 0 ? .created : .ok) }
            #expect(response.status == (index % 2 == 0 ? .created : .ok))
        }
        await #expect(throws: APIProblem.self) { _ = try await slow.value }
        // After the timeout fired, new work is answered as usual.
        let after = try await deadlines.run { Response(status: .accepted) }
        #expect(after.status == .accepted)
        struct Refused: Error {}
        await #expect(throws: Refused.self) { _ = try await deadlines.run { throw Refused() } }
    }

    @Test func theServerAnswersThroughTheTimeout() async throws {
        try await TestAPI.withRouter({ $0.requestTimeoutSeconds = 5 }) { test, client in
            for index in 0..<50 {
                let append = try await client.call(
                    test, .post, "/v1/streams/timeout-\(index % 7)/events", as: .writer,
                    json: #"{"events":[{"type":"test.appended","payload":{"n":\#(index)}}]}"#)
                #expect(append.status == .created || append.status == .ok, "append \(index): \(append.text)")
            }
        }
    }
}
