import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Tally
import TallyServer
import TallyTesting
import Testing

/// HMAC-SHA256 request signing: a correctly signed request is accepted and stamped with the
/// key's name; a tampered body, a wrong secret, a skewed clock and a replay are refused and
/// write nothing.
@Suite struct RequestSigningTests {
    struct Signed {
        let test: TestAPI
        let keyID: String
        let secret: String

        func headers(method: String, path: String, body: String, timestamp: Int64, secret: String? = nil, signBody: String? = nil) -> HTTPFields {
            let signature = RequestSigning.signature(
                secret: secret ?? self.secret, method: method, path: path, timestamp: timestamp, body: Array((signBody ?? body).utf8))
            var headers: HTTPFields = [.contentType: "application/json"]
            headers[HTTPField.Name("X-Tally-Key")!] = self.keyID
            headers[HTTPField.Name("X-Tally-Timestamp")!] = String(timestamp)
            headers[HTTPField.Name("X-Tally-Signature")!] = signature
            return headers
        }
    }

    @Test func signedRequestsAreCheckedForBodyKeyClockAndReplay() async throws {
        try await TestAPI.withRouter { test, client in
            let (key, _) = try await test.api.keys.create(name: "signer", role: .writer, in: test.api.ledger, actor: "test")
            let signed = Signed(test: test, keyID: key.id, secret: test.api.signing.secret(forKey: key.id))
            let path = "/v1/streams/agent-s/events"
            let body = #"{"events":[{"type":"agent.signed","payload":{"n":1}}]}"#
            let now = Int64(Date().timeIntervalSince1970)

            let good = signed.headers(method: "POST", path: path, body: body, timestamp: now)
            let accepted = try await client.execute(uri: path, method: .post, headers: good, body: ByteBuffer(string: body)) { $0.status }
            #expect(accepted == .created || accepted == .ok)
            let stored = try #require(try test.api.ledger.log.read(stream: "agent-s").last)
            #expect(stored.metadata.actor == "signer")
            let head = test.api.ledger.log.headPosition

            func refused(_ headers: HTTPFields, body: String = body) async throws -> String? {
                try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .unauthorized)
                    let object = try? JSONSerialization.jsonObject(with: Data(String(buffer: response.body).utf8)) as? [String: Any]
                    return object?["code"] as? String
                }
            }
            // The same request again: a replay.
            #expect(try await refused(good) == "replayed_request")
            // The body changed after signing.
            let tampered = signed.headers(method: "POST", path: path, body: body, timestamp: now + 1)
            #expect(try await refused(tampered, body: #"{"events":[{"type":"agent.signed","payload":{"n":1000}}]}"#) == "invalid_signature")
            // Signed with another secret.
            let wrong = signed.headers(method: "POST", path: path, body: body, timestamp: now + 2, secret: String(repeating: "ab", count: 32))
            #expect(try await refused(wrong) == "invalid_signature")
            // A clock ten minutes off.
            let skewed = signed.headers(method: "POST", path: path, body: body, timestamp: now - 600)
            #expect(try await refused(skewed) == "signature_expired")
            // A key id that does not exist.
            var unknown = signed.headers(method: "POST", path: path, body: body, timestamp: now + 3)
            unknown[HTTPField.Name("X-Tally-Key")!] = "000000000000"
            #expect(try await refused(unknown) == "invalid_key")
            #expect(test.api.ledger.log.headPosition == head, "a refused signed request wrote something")

            // A signed read: the query string is part of what is signed.
            let readPath = "/v1/events?from_position=1&limit=1"
            let read = signed.headers(method: "GET", path: readPath, body: "", timestamp: now + 4)
            let status = try await client.execute(uri: readPath, method: .get, headers: read) { $0.status }
            #expect(status == .ok)
        }
    }
}
