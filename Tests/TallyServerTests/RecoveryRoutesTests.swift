import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Tally
import TallyServer
import TallyTesting
import Testing

/// Backups and snapshots through the admin routes, while the server keeps its ledger and
/// views open; the backups restore to the ledger the server holds.
@Suite struct RecoveryRoutesTests {
    @Test func backupsAndSnapshotsThroughTheAdminRoutes() async throws {
        let root = try TemporaryDirectory(prefix: "tally-backup-root")
        defer { root.remove() }
        try await TestAPI.withRouter({ $0.backupRoot = root.path }) { test, client in
            for index in 0..<20 {
                _ = try await client.call(test, .post, "/v1/streams/agent-\(index % 3)/events", as: .writer, json: #"{"events":[{"type":"agent.ping","payload":{"i":\#(index)}}]}"#)
            }
            let full = try await client.call(test, .post, "/v1/admin/backups", json: #"{"name":"full-1"}"#)
            #expect(full.status == .created, "\(full.text)")
            #expect(full.json["kind"] as? String == "full")
            // The backup ends where the log was; the admin event recording it comes after.
            #expect((full.json["head_position"] as? Int).map(UInt64.init) == test.api.ledger.log.headPosition - 1)
            #expect(try test.api.ledger.log.read(fromPosition: test.api.ledger.log.headPosition, limit: 1).first?.type == "admin.backup_created")
            for index in 0..<5 {
                _ = try await client.call(test, .post, "/v1/streams/agent-9/events", as: .writer, json: #"{"events":[{"type":"agent.ping","payload":{"j":\#(index)}}]}"#)
            }
            let incremental = try await client.call(test, .post, "/v1/admin/backups", json: #"{"name":"inc-1","since":"full-1"}"#)
            #expect(incremental.status == .created, "\(incremental.text)")
            #expect(incremental.json["kind"] as? String == "incremental")
            let again = try await client.call(test, .post, "/v1/admin/backups", json: #"{"name":"full-1"}"#)
            #expect(again.status == .conflict && again.json["code"] as? String == "target_not_empty")
            let escape = try await client.call(test, .post, "/v1/admin/backups", json: #"{"name":"../elsewhere"}"#)
            #expect(escape.status == .unprocessableContent || escape.status == .badRequest)
            #expect(escape.json["pointer"] as? String == "$.name")
            let missingBase = try await client.call(test, .post, "/v1/admin/backups", json: #"{"name":"inc-2","since":"nope"}"#)
            #expect(missingBase.status == .notFound && missingBase.json["code"] as? String == "backup_not_found")
            let listed = try await client.call(test, .get, "/v1/admin/backups")
            #expect((listed.json["backups"] as? [[String: Any]])?.compactMap { $0["name"] as? String } == ["full-1", "inc-1"])
            let forbidden = try await client.call(test, .post, "/v1/admin/backups", as: .writer, json: #"{"name":"w"}"#)
            #expect(forbidden.status == .forbidden)

            let snapshot = try await client.call(test, .post, "/v1/admin/snapshots")
            #expect(snapshot.status == .created, "\(snapshot.text)")
            #expect(ViewSnapshot.list(data: test.api.ledger.log.directory).count == 1)

            let headAtIncremental = UInt64(try #require(incremental.json["head_position"] as? Int))
            let restored = try await Restore.run(from: root.path + "/inc-1", into: root.path + "/restored")
            #expect(restored.headPosition == headAtIncremental)
            #expect(restored.chainHead == XXH3Hex.of(try #require(try test.api.ledger.log.checksum(at: headAtIncremental))))
        }
    }
}

/// Hex of a checksum as manifests and reports write it.
enum XXH3Hex {
    static func of(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}
