import Foundation
import Hummingbird
import Tally

/// `/health` (liveness), `/ready` (readiness), `/metrics` (Prometheus) and `/openapi.yaml`.
extension APIRoutes {
    func addSystemRoutes() {
        let api = self.api
        self.add(.get, "/health", .open) { _, _ in
            api.json { out in
                out.objectStart()
                out.field("status", "ok")
                out.objectEnd()
            }
        }
        self.add(.get, "/ready", .open) { _, _ in
            var problems: [String] = []
            if api.ledger.log.isClosed { problems.append("the log is closed") }
            if let failure = api.ledger.log.failure { problems.append("the log is read-only after a failure: \(failure.message)") }
            let statuses = api.workers.map(\.status)
            for status in statuses {
                if let failure = status.failure { problems.append("projection \(status.name) stopped: \(failure)") }
                if status.lagEvents > api.configuration.readyLagEventsMax {
                    problems.append("projection \(status.name) is \(status.lagEvents) events behind (the bound is \(api.configuration.readyLagEventsMax))")
                }
            }
            return api.json(problems.isEmpty ? .ok : .serviceUnavailable) { out in
                out.objectStart()
                out.field("status", problems.isEmpty ? "ready" : "not_ready")
                out.field("head_position", api.ledger.log.headPosition)
                out.field("writable", api.ledger.log.isWritable)
                out.key("projections")
                out.arrayStart()
                for status in statuses {
                    out.objectStart()
                    out.field("name", status.name)
                    out.field("checkpoint", status.checkpoint)
                    out.field("lag_events", status.lagEvents)
                    out.field("lag_seconds", status.lagSeconds)
                    out.objectEnd()
                }
                out.arrayEnd()
                out.key("problems")
                out.arrayStart()
                for problem in problems { out.string(problem) }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.get, "/metrics", .read) { _, _ in
            let text = try MetricsExposition.render(ledger: api.ledger, views: api.views, projections: api.workers.map(\.status), now: wallClock())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: text)))
        }
        self.add(.get, "/openapi.yaml", .open) { _, _ in
            Response(
                status: .ok, headers: [.contentType: "application/yaml"],
                body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.yaml)))
        }
    }
}
