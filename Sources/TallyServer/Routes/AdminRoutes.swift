import Foundation
import HTTPTypes
import Hummingbird
import Tally

/// Admin: API keys, verification, projection status and log statistics. Each admin action
/// is recorded as an event in the reserved stream `tally-admin` (keys in `tally-keys`).
extension APIRoutes {
    func addAdminRoutes() {
        let api = self.api
        self.add(.get, "/v1/admin/keys", .admin) { _, _ in
            api.json { out in
                out.objectStart()
                out.key("keys")
                out.arrayStart()
                for key in api.keys.all { out.apiKey(key) }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.post, "/v1/admin/keys", .admin) { request, context in
            let (body, _) = try await api.bodyObject(request)
            try body.allowOnly(["name", "role"])
            let roleText = try body.requiredString("role")
            guard let role = Role(rawValue: roleText) else {
                throw APIProblem.invalidField(
                    "role must be one of \(Role.allCases.map(\.rawValue).joined(separator: ", ")), not \(roleText)", at: "$.role")
            }
            let (key, secret) = try await api.keys.create(
                name: try body.requiredString("name"), role: role, in: api.ledger, actor: context.key?.name ?? "admin")
            return api.json(.created) { out in
                out.objectStart()
                out.field("secret", secret)
                out.key("key")
                out.apiKey(key)
                out.objectEnd()
            }
        }
        self.add(.delete, "/v1/admin/keys/{id}", .admin) { _, context in
            let key = try await api.keys.revoke(try context.parameter("id"), in: api.ledger, actor: context.key?.name ?? "admin")
            return api.json { $0.apiKey(key) }
        }
        self.add(.post, "/v1/admin/verify", .admin) { _, context in
            let log = api.ledger.log
            let report = try await Task.detached { try log.verify() }.value
            try await api.recordAdmin("admin.verified", context: context) { out in
                out.field("records_checked", report.recordsChecked)
                out.field("clean", report.isClean)
            }
            let encoder = JSONEncoder()
            encoder.keyEncodingStrategy = .convertToSnakeCase
            let bytes = try encoder.encode(report)
            return Response(
                status: report.isClean ? .ok : .conflict, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        self.add(.get, "/v1/admin/projections", .admin) { _, _ in
            api.json { out in
                out.objectStart()
                out.key("projections")
                out.arrayStart()
                for status in api.workers.map(\.status) {
                    out.objectStart()
                    out.field("name", status.name)
                    out.field("version", UInt64(status.version))
                    out.field("checkpoint", status.checkpoint)
                    out.field("head", status.head)
                    out.field("lag_events", status.lagEvents)
                    out.field("lag_seconds", status.lagSeconds)
                    out.field("failure", ifPresent: status.failure)
                    out.objectEnd()
                }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/admin/stats", .admin) { _, _ in
            let stats = try api.ledger.log.stats()
            return api.json { out in
                out.objectStart()
                out.field("head_position", stats.headPosition)
                out.field("events", stats.events)
                out.field("streams", stats.streams)
                out.field("bytes", stats.bytes)
                out.field("chain_head", stats.chainHead)
                out.field("seal_head", stats.sealHead)
                out.field("index_checkpoint", stats.indexCheckpoint)
                out.field("subscribers", UInt64(api.subscribers.count))
                out.objectEnd()
            }
        }
    }
}

extension JSONOutput {
    mutating func apiKey(_ key: APIKey) {
        self.objectStart()
        self.field("id", key.id)
        self.field("name", key.name)
        self.field("role", key.role.rawValue)
        self.time("created_at", key.createdAt)
        self.field("revoked", key.revoked)
        self.objectEnd()
    }
}

extension TallyAPI {
    /// The stream admin actions are recorded in.
    static let adminStreamID = Ledger.systemStreamPrefix + "admin"

    /// Records an admin action (`type`, fields written by `write`) with the caller as actor.
    func recordAdmin(_ type: String, context: TallyRequestContext, _ write: (inout JSONOutput) -> Void) async throws {
        var payload = JSONOutput()
        payload.objectStart()
        write(&payload)
        payload.objectEnd()
        let event = ProposedEvent(type: type, payload: payload.bytes, metadata: self.metadata(context))
        let result = try await self.ledger.log.withinCommit { append in
            append([StreamAppend(streamID: Self.adminStreamID, events: [event])])
        }
        _ = try result.get()
    }
}
