import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Tally
import TallyServer
import TallyTesting
import Testing

/// The request timeout: a request still running after `request-timeout` gets 503 `timeout`
/// (within one watcher tick), and requests around it are answered as usual.
@Suite struct RequestTimeoutTests {
    @Test func aSlowRequestGets503TimeoutAndOthersAreUnaffected() async throws {
        try await TestAPI.withRouter({ $0.requestTimeoutSeconds = 2 }) { test, client in
            // Would wait up to 8 s for the audit view to reach a position that never comes.
            let started = ContinuousClock.now
            let slow = try await client.call(test, .get, "/v1/audit/events?min_position=1000000&wait_ms=8000", as: .reader)
            let elapsed = ContinuousClock.now - started
            #expect(slow.status == .serviceUnavailable)
            #expect(slow.json["code"] as? String == "timeout")
            #expect((slow.json["detail"] as? String)?.contains("2.0 s") == true)
            #expect(elapsed >= .seconds(2))
            #expect(elapsed < .seconds(6), "the timeout fired after \(elapsed), not about 2 s")

            // Quick requests before and after the timeout all succeed; none is timed out late.
            for index in 0..<200 {
                let append = try await client.call(
                    test, .post, "/v1/streams/timeout-\(index % 7)/events", as: .writer,
                    json: #"{"events":[{"type":"test.appended","payload":{"n":\#(index)}}]}"#)
                #expect(append.status == .created || append.status == .ok, "append \(index): \(append.text)")
            }
            let read = try await client.call(test, .get, "/v1/events?limit=1000", as: .reader)
            #expect((read.json["events"] as? [Any])?.count ?? 0 >= 200)
        }
    }
}
