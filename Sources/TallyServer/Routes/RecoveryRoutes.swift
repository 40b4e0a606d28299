import Foundation
import HTTPTypes
import Hummingbird
import Tally

/// Admin: hot backups into the server's backup root, and snapshots of the views. Each is
/// recorded as an event in `tally-admin`.
extension APIRoutes {
    func addRecoveryRoutes() {
        let api = self.api
        self.add(.post, "/v1/admin/backups", .admin) { request, context in
            let (body, _) = try await api.bodyObject(request)
            try body.allowOnly(["name", "since"])
            let name = try Self.backupName(try body.requiredString("name"), at: "$.name")
            let since = try body.string("since").map { try Self.backupName($0, at: "$.since") }
            let root = api.configuration.backupRoot
            let manifest: BackupManifest
            do {
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                manifest = try await Backup.create(log: api.ledger.log, views: api.views, into: root + "/" + name, since: since.map { root + "/" + $0 })
            } catch let error as RecoveryError {
                throw APIProblem.recovery(error)
            }
            try await api.recordAdmin("admin.backup_created", context: context) { out in
                out.field("name", name)
                out.field("kind", manifest.kind.rawValue)
                out.field("head_position", manifest.headPosition)
                out.field("chain_head", manifest.chainHead)
            }
            return api.json(.created) { out in
                out.objectStart()
                out.field("name", name)
                out.field("id", manifest.id)
                out.field("kind", manifest.kind.rawValue)
                out.field("first_position", manifest.firstPosition)
                out.field("head_position", manifest.headPosition)
                out.field("chain_head", manifest.chainHead)
                out.field("seal_head", manifest.sealHead)
                out.field("bytes", manifest.files.reduce(UInt64(0)) { $0 + $1.bytes })
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/admin/backups", .admin) { _, _ in
            let all = Backup.list(root: api.configuration.backupRoot)
            return api.json { out in
                out.objectStart()
                out.key("backups")
                out.arrayStart()
                for backup in all {
                    out.objectStart()
                    out.field("name", URL(fileURLWithPath: backup.path).lastPathComponent)
                    out.field("id", backup.manifest.id)
                    out.field("kind", backup.manifest.kind.rawValue)
                    out.field("created_at", backup.manifest.createdAt)
                    out.field("first_position", backup.manifest.firstPosition)
                    out.field("head_position", backup.manifest.headPosition)
                    out.field("bytes", backup.bytes)
                    out.objectEnd()
                }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.post, "/v1/admin/snapshots", .admin) { _, context in
            let entry: ViewSnapshot.Entry
            do {
                entry = try api.snapshot()
            } catch let error as RecoveryError {
                throw APIProblem.recovery(error)
            }
            try await api.recordAdmin("admin.snapshot_created", context: context) { out in
                out.field("position", entry.manifest.position)
            }
            return api.json(.created) { out in
                out.objectStart()
                out.field("name", URL(fileURLWithPath: entry.path).lastPathComponent)
                out.field("position", entry.manifest.position)
                out.field("log_position", entry.manifest.logPosition)
                out.field("bytes", entry.manifest.file.bytes)
                out.objectEnd()
            }
        }
    }

    /// A backup is named by one path component of letters, digits, `.`, `_` and `-`: the
    /// server writes only under its backup root.
    static func backupName(_ name: String, at pointer: String) throws(APIProblem) -> String {
        let allowed = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_")
                || byte == UInt8(ascii: "-")
        }
        guard allowed, !name.isEmpty, name.count <= 128, !name.hasPrefix(".") else {
            throw APIProblem.invalidField(
                "\(pointer) must be a backup name of letters, digits, '.', '_' and '-' (not starting with '.'), not \(name)", at: pointer)
        }
        return name
    }
}

extension APIProblem {
    /// A refused backup or snapshot: 409 when the target exists, 404 for a missing base,
    /// 422 for a base that does not fit, 500 otherwise.
    static func recovery(_ error: RecoveryError) -> APIProblem {
        let status: HTTPResponse.Status =
            switch error.code {
            case .targetNotEmpty: .conflict
            case .backupNotFound: .notFound
            case .baseMismatch, .manifestMismatch, .segmentDoesNotChain: .unprocessableContent
            default: .internalServerError
            }
        return APIProblem(status, error.code.rawValue, error.message)
    }
}
