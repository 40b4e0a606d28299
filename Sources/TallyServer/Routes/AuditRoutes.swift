import Foundation
import HTTPTypes
import Hummingbird
import Tally

/// Audit: query the audit view, and exports (JSONL or CSV with a manifest) written under
/// `<data>/exports` and streamed back.
extension APIRoutes {
    func addAuditRoutes() {
        let api = self.api
        self.add(.get, "/v1/audit/events", .read) { request, _ in
            let asOf = try await api.projectionPosition("audit", request)
            let query = AuditQuery(
                actor: request.query("actor"), type: request.query("type"), category: request.query("category"),
                since: try request.query(time: "since"), until: try request.query(time: "until"),
                afterPosition: try request.query(uint64: "after_position") ?? 0, limit: try request.limit())
            let positions = try api.views.audit(query)
            var events: [RecordedEvent] = []
            for position in positions {
                if let event = try api.ledger.log.read(fromPosition: position, limit: 1).first { events.append(event) }
            }
            return api.json { out in
                out.objectStart()
                out.field("as_of_position", asOf)
                out.key("events")
                out.arrayStart()
                for event in events { out.event(event) }
                out.arrayEnd()
                if let last = positions.last { out.field("next_after_position", last) }
                out.objectEnd()
            }
        }
        self.add(.post, "/v1/audit/exports", .audit) { request, context in
            let (body, _) = try await api.bodyObject(request)
            try body.allowOnly(["format", "from_position", "to_position", "since", "until", "stream", "category", "actor", "types", "with_proof"])
            let formatText = try body.string("format") ?? "jsonl"
            guard let format = AuditFormat(rawValue: formatText) else {
                throw APIProblem.malformed("format must be jsonl or csv, not \(formatText)", at: "$.format")
            }
            var filter = AuditFilter()
            filter.fromPosition = max(1, try body.uint64("from_position") ?? 1)
            filter.toPosition = try body.uint64("to_position")
            for (key, keyPath) in [("since", \AuditFilter.since), ("until", \AuditFilter.until)] {
                if let text = try body.string(key) {
                    guard let time = RFC3339.parse(text) else {
                        throw APIProblem.malformed("\(key) must be an RFC 3339 time like 2026-11-22T08:00:00Z", at: body.pointer(key))
                    }
                    filter[keyPath: keyPath] = time
                }
            }
            filter.stream = try body.string("stream")
            filter.category = try body.string("category")
            filter.actor = try body.string("actor")
            for (index, item) in (try body.array("types") ?? []).enumerated() {
                guard case .string(let type) = item.kind else { throw APIProblem.malformed("$.types[\(index)] must be a string", at: "$.types[\(index)]") }
                filter.types.insert(type)
            }
            let id = UUID().uuidString.lowercased()
            let directory = api.configuration.data + "/exports"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let path = "\(directory)/\(id).\(format.rawValue)"
            let withProof = try body.bool("with_proof") ?? false
            let ledger = api.ledger
            let manifest = try await Task.detached {
                try ledger.exportAudit(to: path, format: format, filter: filter, withProof: withProof)
            }.value
            try await api.recordAdmin("audit.exported", context: context) { out in
                out.field("export_id", id)
                out.field("format", format.rawValue)
                out.field("count", manifest.count)
            }
            let manifestBytes = FileManager.default.contents(atPath: path + ".manifest.json") ?? Data("{}".utf8)
            return api.json(.created) { out in
                out.objectStart()
                out.field("id", id)
                out.field("file", "/v1/audit/exports/\(id)")
                out.field("manifest_url", "/v1/audit/exports/\(id)/manifest")
                out.key("manifest")
                out.raw(Array(manifestBytes))
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/audit/exports/{id}", .audit, streaming: true) { _, context in
            let (path, format) = try api.exportFile(context.parameter("id"))
            guard let handle = FileHandle(forReadingAtPath: path) else { throw APIProblem.notFound("the export is gone") }
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            let body = ResponseBody(contentLength: size) { writer in
                defer { try? handle.close() }
                while let chunk = try handle.read(upToCount: 1 << 16), !chunk.isEmpty {
                    try await writer.write(ByteBuffer(bytes: chunk))
                }
                try await writer.finish(nil)
            }
            let type = format == .csv ? "text/csv; charset=utf-8" : "application/jsonl"
            return Response(status: .ok, headers: [.contentType: type], body: body)
        }
        self.add(.get, "/v1/audit/exports/{id}/manifest", .audit) { _, context in
            let (path, _) = try api.exportFile(context.parameter("id"))
            guard let bytes = FileManager.default.contents(atPath: path + ".manifest.json") else { throw APIProblem.notFound("the export has no manifest") }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
        }
    }
}

extension TallyAPI {
    /// The file of the export `id` (a UUID, so no path can be smuggled in).
    func exportFile(_ id: String) throws -> (path: String, format: AuditFormat) {
        guard UUID(uuidString: id) != nil else { throw APIProblem.malformed("an export id is a UUID, not \(id)", at: "path.id") }
        for format in AuditFormat.allCases {
            let path = "\(self.configuration.data)/exports/\(id.lowercased()).\(format.rawValue)"
            if FileManager.default.fileExists(atPath: path) { return (path, format) }
        }
        throw APIProblem.notFound("no export has the id \(id)")
    }
}
