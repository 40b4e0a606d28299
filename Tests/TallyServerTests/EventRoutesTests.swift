import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Tally
import TallyServer
import Testing

@Suite struct EventRoutesTests {
    @Test func appendReadGetAndRetry() async throws {
        try await TestAPI.withRouter { test, client in
            let id = UUID().uuidString.lowercased()
            let body = #"{"expected_version":"no_stream","events":[{"id":"\#(id)","type":"task.done","payload":{"task":7,"ok":true}}]}"#
            let created = try await client.call(test, .post, "/v1/streams/agent-7/events", as: .writer, json: body)
            #expect(created.status == .created)
            let position = try #require((created.json["positions"] as? [Any])?.first as? Int)
            // A retry with the same ids is recognised: 200, nothing new written.
            let retry = try await client.call(test, .post, "/v1/streams/agent-7/events", as: .writer, json: body)
            #expect(retry.status == .ok)
            #expect(retry.json["duplicate"] as? Bool == true)
            let read = try await client.call(test, .get, "/v1/streams/agent-7/events", as: .reader)
            let events = try #require(read.json["events"] as? [[String: Any]])
            #expect(events.count == 1)
            #expect(events.first?["id"] as? String == id)
            #expect((events.first?["payload"] as? [String: Any])?["task"] as? Int == 7)
            // The server stamps the key's name as the actor.
            #expect((events.first?["metadata"] as? [String: Any])?["actor"] as? String == "writer-key")
            let single = try await client.call(test, .get, "/v1/events/\(id)", as: .reader)
            #expect(single.json["position"] as? Int == position)
            let log = try await client.call(test, .get, "/v1/events?from_position=\(position)&type=task.done", as: .reader)
            #expect((log.json["events"] as? [Any])?.count == 1)
        }
    }

    @Test func conflictsAndBadInputLeaveTheLedgerUnchanged() async throws {
        try await TestAPI.withRouter { test, client in
            _ = try await client.call(test, .post, "/v1/streams/s-1/events", json: #"{"events":[{"type":"a.b","payload":{}}]}"#)
            let head = test.api.ledger.log.headPosition
            let wrong = try await client.call(test, .post, "/v1/streams/s-1/events", json: #"{"expected_version":5,"events":[{"type":"a.b","payload":{}}]}"#)
            #expect(wrong.status == .conflict)
            #expect(wrong.json["code"] as? String == "wrong_expected_version")
            let cases: [(String, String, HTTPResponse.Status, String)] = [
                (#"{"events":[{"type":"a.b","payload":{}}"#, "malformed_json", .badRequest, ""),
                (#"{"events":[{"payload":{}}]}"#, "malformed_request", .badRequest, "$.events[0].type"),
                (#"{"events":[{"type":"a.b","payload":{},"colour":"red"}]}"#, "malformed_request", .badRequest, "$.events[0].colour"),
                (#"{"events":[{"type":"Bad Type","payload":{}}]}"#, "invalid_event_type", .badRequest, ""),
                (#"{"events":[]}"#, "malformed_request", .badRequest, "$.events"),
                (#"{"events":[{"type":"a.b","payload":{},"metadata":{"actor":"someone-else"}}]}"#, "actor_mismatch", .forbidden, "$.events[0].metadata.actor"),
                (String(repeating: "[", count: 40) + String(repeating: "]", count: 40), "json_too_deep", .badRequest, ""),
            ]
            for (body, code, status, pointer) in cases {
                let response = try await client.call(test, .post, "/v1/streams/s-1/events", as: .writer, json: body)
                #expect(response.status == status, "\(body)")
                #expect(response.json["code"] as? String == code, "\(body): \(response.text)")
                if !pointer.isEmpty { #expect(response.json["pointer"] as? String == pointer, "\(body)") }
            }
            let reserved = try await client.call(test, .post, "/v1/streams/account-x/events", json: #"{"events":[{"type":"a.b","payload":{}}]}"#)
            #expect(reserved.json["code"] as? String == "reserved_stream")
            var headers = test.headers(.writer)
            headers[.contentType] = "text/plain"
            let unsupported = try await client.execute(uri: "/v1/streams/s-1/events", method: .post, headers: headers, body: ByteBuffer(string: "{}"))
            #expect(unsupported.status == .unsupportedMediaType)
            #expect(test.api.ledger.log.headPosition == head)
        }
    }

    @Test func bodyLimitAndRateLimit() async throws {
        try await TestAPI.withRouter({ $0.bodyLimitBytes = 1_000; $0.rateLimitPerSecond = 2 }) { test, client in
            let big = #"{"events":[{"type":"a.b","payload":{"x":""# + String(repeating: "y", count: 2_000) + #""}}]}"#
            let tooLarge = try await client.call(test, .post, "/v1/streams/s-1/events", as: .writer, json: big)
            #expect(tooLarge.status == .contentTooLarge)
            #expect(tooLarge.json["code"] as? String == "body_too_large")
            var limited: (status: HTTPResponse.Status, json: [String: Any], text: String)?
            // 2 a second with a burst of 4: even on a slow machine 100 requests outrun the refill.
            for _ in 0..<100 {
                let response = try await client.call(test, .get, "/v1/events?limit=1", as: .reader)
                if response.status == .tooManyRequests { limited = response; break }
            }
            #expect(limited?.json["code"] as? String == "rate_limited")
            #expect(limited?.status == .tooManyRequests)
        }
    }

    @Test func serverSentEventsFromAPositionAndResume() async throws {
        try await TestAPI.withRouter { test, client in
            for index in 0..<5 {
                _ = try await client.call(test, .post, "/v1/streams/s-\(index)/events", json: #"{"events":[{"type":"a.b","payload":{"i":\#(index)}}]}"#)
            }
            let first = test.api.ledger.log.headPosition - 4
            let stream = try await client.execute(
                uri: "/v1/subscribe?from_position=\(first)&max_events=2", method: .get, headers: test.headers(.reader)) { String(buffer: $0.body) }
            let ids = stream.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
            #expect(ids == ["\(first)", "\(first + 1)"])
            var headers = test.headers(.reader)
            headers[HTTPField.Name("Last-Event-ID")!] = "\(first + 1)"
            let resumed = try await client.execute(uri: "/v1/subscribe?max_events=3", method: .get, headers: headers) { String(buffer: $0.body) }
            let resumedIDs = resumed.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
            #expect(resumedIDs == ["\(first + 2)", "\(first + 3)", "\(first + 4)"])
            #expect(resumed.contains("event: a.b"))
        }
    }
}
