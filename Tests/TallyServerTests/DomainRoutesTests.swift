import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Tally
import TallyServer
import TallyTesting
import Testing

@Suite struct DomainRoutesTests {
    @Test func paymentsThroughTheAPI() async throws {
        try await TestAPI.withRouter { test, client in
            #expect(try await client.call(test, .post, "/v1/accounts", as: .writer, json: #"{"id":"treasury","agent":"ops","currency":"APX"}"#).status == .created)
            let wallet = #"{"id":"w-1","agent":"agent-1","currency":"APX","flags":["debits_must_not_exceed_credits"]}"#
            #expect(try await client.call(test, .post, "/v1/accounts", as: .writer, json: wallet).status == .created)
            // The same open again is a retry (200); other fields are a conflict (409).
            #expect(try await client.call(test, .post, "/v1/accounts", as: .writer, json: wallet).status == .ok)
            let different = try await client.call(test, .post, "/v1/accounts", as: .writer, json: #"{"id":"w-1","agent":"agent-2","currency":"APX"}"#)
            #expect(different.status == .conflict)
            #expect(different.json["code"] as? String == "account_exists_with_different_fields")

            let batch = #"""
                {"linked":true,"transfers":[
                  {"id":"pay-1","debit_account":"treasury","credit_account":"w-1","amount":"700","currency":"APX"},
                  {"id":"pay-2","debit_account":"w-1","credit_account":"treasury","amount":"9999","currency":"APX"}]}
                """#
            let refused = try await client.call(test, .post, "/v1/transfers", as: .writer, json: batch)
            let results = try #require(refused.json["results"] as? [[String: Any]])
            #expect(results.map { $0["code"] as? String } == ["linked_event_failed", "exceeds_credits"])
            let posted = try await client.call(
                test, .post, "/v1/transfers", as: .writer,
                json: #"{"transfers":[{"id":"pay-1","debit_account":"treasury","credit_account":"w-1","amount":"700","currency":"APX"}]}"#)
            #expect((posted.json["results"] as? [[String: Any]])?.first?["code"] as? String == "ok")

            let pending = #"{"transfers":[{"id":"escrow-1","debit_account":"w-1","credit_account":"treasury","amount":"200","currency":"APX","timeout_ms":60000}]}"#
            _ = try await client.call(test, .post, "/v1/transfers", as: .writer, json: pending)
            let committed = try await client.call(test, .post, "/v1/transfers/escrow-1/commit", as: .writer, json: #"{"amount":"150"}"#)
            #expect(committed.status == .created)
            #expect((committed.json["transfer"] as? [String: Any])?["state"] as? String == "committed")
            let again = try await client.call(test, .post, "/v1/transfers/escrow-1/void", as: .writer)
            #expect(again.status == .unprocessableContent)
            #expect(again.json["code"] as? String == "pending_transfer_already_closed")
            let reversed = try await client.call(test, .post, "/v1/transfers/pay-1/reverse", as: .writer, json: #"{"reversal_id":"rev-1","amount":"100"}"#)
            #expect(reversed.status == .created)

            // Read your writes: the balance waits for the projection to reach the head.
            let balance = try await client.call(test, .get, "/v1/accounts/w-1/balance", as: .reader)
            #expect(balance.json["balance"] as? String == "450")  // 700 - 150 - 100
            let statement = try await client.call(test, .get, "/v1/accounts/w-1/statement", as: .reader)
            #expect((statement.json["lines"] as? [Any])?.count == 3)
            let account = try await client.call(test, .get, "/v1/accounts/w-1", as: .reader)
            #expect(account.json["credits_posted"] as? String == "700")
            let owned = try await client.call(test, .get, "/v1/agents/agent-1/accounts", as: .reader)
            #expect((owned.json["accounts"] as? [Any])?.count == 1)
            let missing = try await client.call(test, .get, "/v1/transfers/nope", as: .reader)
            #expect(missing.status == .notFound)
            #expect(missing.json["code"] as? String == "transfer_not_found")
            // Every payment event names the key that asked.
            let events = try test.api.ledger.log.read(category: "transfer", fromPosition: 1, limit: 100)
            #expect(!events.isEmpty && events.allSatisfy { $0.metadata.actor == "writer-key" || $0.type == "transfer.expired" })
        }
    }

    @Test func deploymentsAndHealthThroughTheAPI() async throws {
        try await TestAPI.withRouter { test, client in
            let start = try await client.call(
                test, .post, "/v1/deployments", as: .writer, json: #"{"id":"api-42","service":"api","version":"42","environment":"prod","strategy":"canary"}"#)
            #expect(start.status == .created)
            // The deployer of record is the key, whatever the client might claim.
            #expect((start.json["deployment"] as? [String: Any])?["actor"] as? String == "writer-key")
            #expect(try await client.call(test, .post, "/v1/deployments/api-42/succeed", as: .writer, json: #"{"duration_ms":90000}"#).status == .created)
            let twice = try await client.call(test, .post, "/v1/deployments/api-42/fail", as: .writer, json: #"{"reason":"late"}"#)
            #expect(twice.json["code"] as? String == "invalid_transition")
            #expect(try await client.call(test, .post, "/v1/services/api/scale", as: .writer, json: #"{"environment":"prod","from":2,"to":4}"#).status == .created)
            let config = try await client.call(
                test, .post, "/v1/services/api/config", as: .writer, json: #"{"environment":"prod","key":"db.pool","old_value":"10","new_value":"20"}"#)
            #expect(config.status == .created)
            #expect(try await client.call(test, .post, "/v1/services/api/migrations", as: .writer, json: #"{"migration":"m-001"}"#).status == .created)
            let repeated = try await client.call(test, .post, "/v1/services/api/migrations", as: .writer, json: #"{"migration":"m-001"}"#)
            #expect(repeated.json["code"] as? String == "migration_already_applied")
            let badStatus = try await client.call(test, .post, "/v1/health-checks", as: .writer, json: #"{"component":"api","status":"fine"}"#)
            #expect(badStatus.json["code"] as? String == "invalid_status")
            #expect(try await client.call(test, .post, "/v1/health-checks", as: .writer, json: #"{"component":"api","status":"unhealthy","latency_ms":900}"#).status == .created)
            #expect(try await client.call(test, .post, "/v1/health-checks", as: .writer, json: #"{"component":"api","status":"healthy","latency_ms":9}"#).status == .created)

            let components = try await client.call(test, .get, "/v1/components", as: .reader)
            #expect((components.json["components"] as? [[String: Any]])?.first?["status"] as? String == "healthy")
            let incidents = try await client.call(test, .get, "/v1/components/api/incidents", as: .reader)
            #expect((incidents.json["incidents"] as? [Any])?.count == 1)
            let history = try await client.call(test, .get, "/v1/services/api/deployments?environment=prod", as: .reader)
            #expect((history.json["deployments"] as? [Any])?.count == 1)
            let dora = try await client.call(test, .get, "/v1/services/api/dora?environment=prod", as: .reader)
            #expect(dora.json["deployments"] as? Int == 1)
            let listed = try await client.call(test, .get, "/v1/deployments?service=api", as: .reader)
            #expect((listed.json["deployments"] as? [Any])?.count == 1)
            // Config values are hashed, never stored.
            let events = try test.api.ledger.log.read(category: "service", fromPosition: 1, limit: 100)
            #expect(!events.contains { String(decoding: $0.payload, as: UTF8.self).contains("\"20\"") })
        }
    }

    @Test func auditQueryAndVerifiableExport() async throws {
        try await TestAPI.withRouter { test, client in
            for index in 0..<20 {
                _ = try await client.call(test, .post, "/v1/streams/task-\(index % 3)/events", as: .writer, json: #"{"events":[{"type":"task.done","payload":{"n":\#(index)}}]}"#)
            }
            let query = try await client.call(test, .get, "/v1/audit/events?actor=writer-key&limit=5", as: .reader)
            #expect((query.json["events"] as? [Any])?.count == 5)
            #expect(try await client.call(test, .post, "/v1/audit/exports", as: .reader, json: "{}").status == .forbidden)
            let export = try await client.call(test, .post, "/v1/audit/exports", as: .auditor, json: #"{"format":"jsonl"}"#)
            #expect(export.status == .created)
            let id = try #require(export.json["id"] as? String)
            let file = try await client.execute(uri: "/v1/audit/exports/\(id)", method: .get, headers: test.headers(.auditor)) { Data($0.body.readableBytesView) }
            let manifest = try await client.execute(uri: "/v1/audit/exports/\(id)/manifest", method: .get, headers: test.headers(.auditor)) { Data($0.body.readableBytesView) }
            // Downloaded beside each other under the names the manifest gives, they verify.
            let name = try #require((try JSONSerialization.jsonObject(with: manifest) as? [String: Any])?["file"] as? String)
            let directory = test.directory.path + "/download"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try file.write(to: URL(fileURLWithPath: "\(directory)/\(name)"))
            try manifest.write(to: URL(fileURLWithPath: "\(directory)/\(name).manifest.json"))
            let verification = try Ledger.verifyAuditExport(at: "\(directory)/\(name)", against: test.api.ledger.log)
            #expect(verification.isValid, "\(verification.problems)")
            #expect(verification.linesChecked >= 20)
        }
    }

    @Test func keysThroughTheAdminRoutes() async throws {
        try await TestAPI.withRouter { test, client in
            let created = try await client.call(test, .post, "/v1/admin/keys", json: #"{"name":"deployer","role":"writer"}"#)
            #expect(created.status == .created)
            let secret = try #require(created.json["secret"] as? String)
            let keyID = try #require((created.json["key"] as? [String: Any])?["id"] as? String)
            var headers: HTTPFields = [.contentType: "application/json", .authorization: "Bearer \(secret)"]
            let ok = try await client.execute(uri: "/v1/streams/s/events", method: .post, headers: headers, body: ByteBuffer(string: #"{"events":[{"type":"a.b","payload":{}}]}"#))
            #expect(ok.status == .created)
            #expect(try await client.call(test, .post, "/v1/admin/keys", json: #"{"name":"deployer","role":"reader"}"#).json["code"] as? String == "key_exists")
            #expect(try await client.call(test, .delete, "/v1/admin/keys/\(keyID)").status == .ok)
            let refused = try await client.execute(uri: "/v1/events", method: .get, headers: headers)
            #expect(refused.status == .unauthorized)
            headers[.authorization] = "Bearer " + secret.dropLast() + "0"
            #expect(try await client.execute(uri: "/v1/events", method: .get, headers: headers).status == .unauthorized)
            // Key changes and admin actions are events with the admin as actor.
            let keyEvents = try test.api.ledger.log.read(stream: KeyStore.streamID, limit: 100)
            #expect(keyEvents.map(\.type).suffix(2) == ["key.created", "key.revoked"])
            #expect(keyEvents.last?.metadata.actor == "admin-key")
            #expect(!keyEvents.contains { String(decoding: $0.payload, as: UTF8.self).contains(secret) })
            let verify = try await client.call(test, .post, "/v1/admin/verify")
            #expect(verify.status == .ok)
            #expect(try test.api.ledger.log.read(stream: "tally-admin", limit: 10).map(\.type) == ["admin.verified"])
        }
    }

    @Test func healthReadyAndMetrics() async throws {
        try await TestAPI.withRouter { test, client in
            #expect(try await client.call(test, .get, "/health", as: nil).status == .ok)
            let ready = try await client.call(test, .get, "/ready", as: nil)
            #expect(ready.status == .ok)
            #expect(ready.json["writable"] as? Bool == true)
            #expect(try await client.call(test, .get, "/metrics", as: nil).status == .unauthorized)
            let metrics = try await client.call(test, .get, "/metrics", as: .reader)
            #expect(metrics.text.contains("tally_log_head_position"))
            #expect(try await client.call(test, .get, "/openapi.yaml", as: nil).text.contains("openapi:"))
        }
        try await TestAPI.withRouter({ $0.publicMetrics = true }) { test, client in
            let metrics = try await client.call(test, .get, "/metrics", as: nil)
            #expect(metrics.status == .ok)
        }
    }
}
