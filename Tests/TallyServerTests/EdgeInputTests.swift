import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Tally
import TallyServer
import TallyTesting
import Testing

/// Inputs at the edges of what the API document allows, found by schemathesis: none may
/// crash the server or answer 5xx.
@Suite struct EdgeInputTests {
    @Test func largestPositionsAndEmptyParametersAreAnsweredNotCrashedOn() async throws {
        try await TestAPI.withRouter { test, client in
            _ = try await client.call(test, .post, "/v1/streams/edge/events", as: .writer, json: #"{"events":[{"type":"edge.tested","payload":{}}]}"#)
            // after_position = 2^64 - 1 used to overflow (a trap: the server died).
            let audit = try await client.call(test, .get, "/v1/audit/events?after_position=18446744073709551615", as: .reader)
            #expect(audit.status == .ok, "\(audit.text)")
            #expect((audit.json["events"] as? [Any])?.isEmpty == true)

            // An empty Last-Event-ID is no Last-Event-ID.
            var headers = test.headers(.reader)
            headers[HTTPField.Name("Last-Event-ID")!] = ""
            try await client.execute(uri: "/v1/subscribe?max_events=1", method: .get, headers: headers) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"position\":1,"), "starts at position 1")
            }

            // A time past 2554 (no longer fits in 64 bits of nanoseconds) used to trap.
            let far = try await client.call(test, .get, "/v1/audit/events?until=9999-12-31T23:59:59Z", as: .reader)
            #expect(far.status == .badRequest, "\(far.text)")

            // A position past the head is the caller's mistake (400), not a lagging view (503).
            let ahead = try await client.call(test, .get, "/v1/audit/events?min_position=999999", as: .reader)
            #expect(ahead.status == .badRequest)
            #expect(ahead.json["pointer"] as? String == "query.min_position")

            // Percent-encoded path parameters are decoded: pay%3A1 is pay:1.
            _ = try await client.call(test, .post, "/v1/accounts", as: .writer, json: #"{"id":"pay:1","agent":"a","currency":"APX"}"#)
            let account = try await client.call(test, .get, "/v1/accounts/pay%3A1", as: .reader)
            #expect(account.status == .ok, "\(account.text)")

            // A method a documented path does not take: 405 with Allow.
            try await client.execute(uri: "/v1/accounts", method: .put, headers: test.headers(.writer)) { response in
                #expect(response.status == .methodNotAllowed)
                #expect(response.headers[.allow] == "POST")
            }
            // 6304.0 is a whole number; timeout_ms 0 is refused before the domain sees it.
            let whole = try await client.call(
                test, .post, "/v1/transfers", as: .writer,
                json: #"{"transfers":[{"id":"t1","debit_account":"pay:1","credit_account":"pay:1","amount":6304.0,"currency":"APX","timeout_ms":0}]}"#)
            #expect(whole.status == .badRequest)
            #expect((whole.json["pointer"] as? String)?.hasSuffix("timeout_ms") == true, "\(whole.text)")
        }
    }
}
