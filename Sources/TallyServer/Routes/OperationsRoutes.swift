import Foundation
import HTTPTypes
import Hummingbird
import Tally

/// Deployments, services and health: the commands, and the deployment and health views.
extension APIRoutes {
    func addOperationsRoutes() {
        let api = self.api
        self.add(.post, "/v1/deployments", .write) { request, context in
            let (body, _) = try await api.bodyObject(request)
            let deployment = try TallyAPI.deploymentStart(body, actor: try api.actorID(context))
            let outcome = try await api.ledger.execute([.startDeployment(deployment)], metadata: api.metadata(context))
            return try api.single(outcome) { api.deploymentField(deployment.id, &$0) }
        }
        self.add(.get, "/v1/deployments", .read) { request, _ in
            var service: DomainID?
            if let text = request.query("service") {
                do throws(Rejection) { service = try DomainID(text, field: "service") } catch { throw APIProblem.invalidField(error.message, at: "query.service") }
            }
            let deployments = api.ledger.deployments(service: service)
            return api.json { out in
                out.objectStart()
                out.key("deployments")
                out.arrayStart()
                for deployment in deployments { out.deployment(deployment) }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/deployments/{id}", .read) { _, context in
            let id = try context.id("id")
            guard let deployment = api.ledger.deployment(id) else {
                throw APIProblem(.notFound, "deployment_not_found", "no deployment has the id \(id)")
            }
            return api.json { $0.deployment(deployment) }
        }
        self.add(.post, "/v1/deployments/{id}/succeed", .write) { request, context in
            let id = try context.id("id")
            let (body, _) = try await api.bodyObject(request)
            let outcome = try await api.ledger.execute([try TallyAPI.deploymentSuccess(body, deployment: id)], metadata: api.metadata(context))
            return try api.single(outcome) { api.deploymentField(id, &$0) }
        }
        self.add(.post, "/v1/deployments/{id}/fail", .write) { request, context in
            let id = try context.id("id")
            let (body, _) = try await api.bodyObject(request)
            let outcome = try await api.ledger.execute([try TallyAPI.deploymentFailure(body, deployment: id)], metadata: api.metadata(context))
            return try api.single(outcome) { api.deploymentField(id, &$0) }
        }
        self.add(.post, "/v1/deployments/{id}/rollback", .write) { request, context in
            let id = try context.id("id")
            let (body, _) = try await api.bodyObject(request)
            let outcome = try await api.ledger.execute([try TallyAPI.deploymentRollback(body, deployment: id)], metadata: api.metadata(context))
            return try api.single(outcome) { api.deploymentField(id, &$0) }
        }
        self.add(.post, "/v1/services/{service}/scale", .write) { request, context in
            let service = try context.id("service")
            let (body, _) = try await api.bodyObject(request)
            let command = try TallyAPI.serviceScaling(body, service: service)
            return try api.single(try await api.ledger.execute([command], metadata: api.metadata(context))) { _ in }
        }
        self.add(.post, "/v1/services/{service}/config", .write) { request, context in
            let service = try context.id("service")
            let (body, _) = try await api.bodyObject(request)
            // Values are hashed there and never stored; digests may be sent instead.
            let command = try TallyAPI.configChange(body, service: service)
            return try api.single(try await api.ledger.execute([command], metadata: api.metadata(context))) { _ in }
        }
        self.add(.post, "/v1/services/{service}/migrations", .write) { request, context in
            let service = try context.id("service")
            let (body, _) = try await api.bodyObject(request)
            let command = try TallyAPI.migration(body, service: service)
            return try api.single(try await api.ledger.execute([command], metadata: api.metadata(context))) { _ in }
        }
        self.add(.get, "/v1/services/{service}/deployments", .read) { request, context in
            let service = try context.id("service")
            let environment = request.query("environment") ?? "prod"
            let asOf = try await api.projectionPosition("deployments", request)
            let records = try api.views.deploymentHistory(service: service.rawValue, environment: environment, limit: request.limit())
            return api.json { out in
                out.objectStart()
                out.field("service", service.rawValue)
                out.field("environment", environment)
                out.field("as_of_position", asOf)
                out.key("deployments")
                out.arrayStart()
                for record in records { out.deploymentRecord(record) }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/services/{service}/dora", .read) { request, context in
            let service = try context.id("service")
            let environment = request.query("environment") ?? "prod"
            let days = try request.query(uint64: "window_days") ?? 30
            guard (1...3_650).contains(days) else { throw APIProblem.malformed("window_days must be 1 to 3650", at: "query.window_days") }
            let asOf = try await api.projectionPosition("deployments", request)
            let figures = try api.views.dora(
                service: service.rawValue, environment: environment, window: .seconds(Int64(days) * 86_400), now: wallClock())
            return api.json { out in
                out.objectStart()
                out.field("service", service.rawValue)
                out.field("environment", environment)
                out.field("window_days", days)
                out.field("as_of_position", asOf)
                out.field("deployments", UInt64(figures.deployments))
                out.field("deployments_per_day", figures.deploymentsPerDay)
                if let value = figures.leadTimeSeconds { out.field("lead_time_seconds", value) }
                if let value = figures.changeFailureRate { out.field("change_failure_rate", value) }
                if let value = figures.timeToRestoreSeconds { out.field("time_to_restore_seconds", value) }
                out.objectEnd()
            }
        }
        self.add(.post, "/v1/health-checks", .write) { request, context in
            let (body, _) = try await api.bodyObject(request)
            let check = try TallyAPI.healthCheck(body)
            return try api.single(try await api.ledger.execute([.reportHealth(check)], metadata: api.metadata(context))) { _ in }
        }
        self.add(.get, "/v1/components", .read) { request, _ in
            let asOf = try await api.projectionPosition("health", request)
            let components = try api.views.components()
            return api.json { out in
                out.objectStart()
                out.field("as_of_position", asOf)
                out.key("components")
                out.arrayStart()
                for (name, health) in components { out.component(name, health) }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/components/{component}/incidents", .read) { request, context in
            let component = try context.id("component")
            let asOf = try await api.projectionPosition("health", request)
            let incidents = try api.views.incidents(of: component.rawValue)
            let uptime = try api.views.uptime(of: component.rawValue, window: .seconds(30 * 86_400), now: wallClock())
            return api.json { out in
                out.objectStart()
                out.field("component", component.rawValue)
                out.field("as_of_position", asOf)
                if let uptime { out.field("uptime_30d", uptime) }
                out.key("incidents")
                out.arrayStart()
                for incident in incidents { out.incident(incident) }
                out.arrayEnd()
                out.objectEnd()
            }
        }
    }
}

extension TallyAPI {
    /// The caller's key name as a domain id (the deployer of record).
    func actorID(_ context: TallyRequestContext) throws -> DomainID {
        do throws(Rejection) { return try DomainID(context.key?.name ?? "anonymous", field: "actor") } catch {
            throw APIProblem(.forbidden, "forbidden", "the key's name cannot be an actor: \(error.message)")
        }
    }

    func deploymentField(_ id: DomainID, _ out: inout JSONOutput) {
        guard let deployment = self.ledger.deployment(id) else { return }
        out.key("deployment")
        out.deployment(deployment)
    }
}

/// Nanoseconds since 1970.
func wallClock() -> UInt64 {
    UInt64(Date().timeIntervalSince1970 * 1e9)
}
