/// The deployment, service and health facts the log records.
///
/// Streams: `deployment-<id>` (started, then succeeded or failed, then maybe rolled back),
/// `service-<service>` (scaled, config changed, migration applied) and `health-<component>`.
public enum OperationsEvent: Hashable, Sendable {
    case deploymentStarted(Deployment)
    case deploymentSucceeded(DomainID, durationMilliseconds: UInt64)
    case deploymentFailed(DomainID, reason: String)
    case deploymentRolledBack(DomainID, toVersion: String, reason: String)
    case serviceScaled(service: DomainID, environment: DomainID, from: UInt64, to: UInt64)
    case configChanged(service: DomainID, environment: DomainID, key: String, oldDigest: String, newDigest: String)
    case migrationApplied(service: DomainID, migration: DomainID)
    case healthChecked(HealthCheck)

    public var type: String {
        switch self {
        case .deploymentStarted: "deployment.started"
        case .deploymentSucceeded: "deployment.succeeded"
        case .deploymentFailed: "deployment.failed"
        case .deploymentRolledBack: "deployment.rolled_back"
        case .serviceScaled: "service.scaled"
        case .configChanged: "config.changed"
        case .migrationApplied: "migration.applied"
        case .healthChecked: "health.checked"
        }
    }

    public var streamID: String {
        switch self {
        case .deploymentStarted(let deployment): "deployment-\(deployment.id)"
        case .deploymentSucceeded(let id, _), .deploymentFailed(let id, _), .deploymentRolledBack(let id, _, _): "deployment-\(id)"
        case .serviceScaled(let service, _, _, _), .configChanged(let service, _, _, _, _), .migrationApplied(let service, _):
            "service-\(service)"
        case .healthChecked(let check): "health-\(check.component)"
        }
    }

    /// Stream prefixes only the operations commands append to.
    public static let streamPrefixes = ["deployment-", "service-", "health-"]

    /// Whether `streamID` belongs to the operations domain.
    public static func isOperationsStream(_ streamID: String) -> Bool {
        self.streamPrefixes.contains { streamID.hasPrefix($0) }
    }

    /// The JSON payload (keys in documented order).
    public var payload: [UInt8] {
        var json = JSONWriter()
        switch self {
        case .deploymentStarted(let deployment):
            json.string("deployment", deployment.id.rawValue)
            json.string("service", deployment.service.rawValue)
            json.string("version", deployment.version)
            json.string("environment", deployment.environment.rawValue)
            json.string("strategy", deployment.strategy.rawValue)
            json.string("actor", deployment.actor.rawValue)
            json.string("reason", deployment.reason)
            json.digits("started_at_ns", deployment.startedAt)
        case .deploymentSucceeded(let id, let duration):
            json.string("deployment", id.rawValue)
            json.digits("duration_ms", duration)
        case .deploymentFailed(let id, let reason):
            json.string("deployment", id.rawValue)
            json.string("reason", reason)
        case .deploymentRolledBack(let id, let version, let reason):
            json.string("deployment", id.rawValue)
            json.string("to_version", version)
            json.string("reason", reason)
        case .serviceScaled(let service, let environment, let from, let to):
            json.string("service", service.rawValue)
            json.string("environment", environment.rawValue)
            json.digits("from_replicas", from)
            json.digits("to_replicas", to)
        case .configChanged(let service, let environment, let key, let old, let new):
            json.string("service", service.rawValue)
            json.string("environment", environment.rawValue)
            json.string("key", key)
            json.string("old_digest", old)
            json.string("new_digest", new)
        case .migrationApplied(let service, let migration):
            json.string("service", service.rawValue)
            json.string("migration", migration.rawValue)
        case .healthChecked(let check):
            json.string("component", check.component.rawValue)
            json.string("status", check.status.rawValue)
            json.digits("latency_ms", check.latencyMilliseconds)
            json.string("detail", check.detail)
        }
        return json.finish()
    }

    /// Decodes an event from its type and payload.
    public init(type: String, payload: [UInt8]) throws(Rejection) {
        let fields = try JSONFields(payload, type: type)
        switch type {
        case "deployment.started":
            guard let strategy = Deployment.Strategy(rawValue: try fields.string("strategy")) else {
                throw Rejection(.invalidField, "field strategy of a deployment.started event is unknown")
            }
            self = .deploymentStarted(
                Deployment(
                    id: try fields.id("deployment"), service: try fields.id("service"), version: try fields.string("version"),
                    environment: try fields.id("environment"), strategy: strategy, actor: try fields.id("actor"),
                    reason: try fields.optionalString("reason"), startedAt: try fields.digits("started_at_ns")))
        case "deployment.succeeded":
            self = .deploymentSucceeded(try fields.id("deployment"), durationMilliseconds: try fields.digits("duration_ms"))
        case "deployment.failed":
            self = .deploymentFailed(try fields.id("deployment"), reason: try fields.string("reason"))
        case "deployment.rolled_back":
            self = .deploymentRolledBack(try fields.id("deployment"), toVersion: try fields.string("to_version"), reason: try fields.string("reason"))
        case "service.scaled":
            self = .serviceScaled(
                service: try fields.id("service"), environment: try fields.id("environment"), from: try fields.digits("from_replicas"),
                to: try fields.digits("to_replicas"))
        case "config.changed":
            self = .configChanged(
                service: try fields.id("service"), environment: try fields.id("environment"), key: try fields.string("key"),
                oldDigest: try fields.string("old_digest"), newDigest: try fields.string("new_digest"))
        case "migration.applied":
            self = .migrationApplied(service: try fields.id("service"), migration: try fields.id("migration"))
        case "health.checked":
            guard let status = HealthStatus(rawValue: try fields.string("status")) else {
                throw Rejection(.invalidStatus, "field status of a health.checked event is not healthy, degraded or unhealthy")
            }
            self = .healthChecked(
                HealthCheck(
                    component: try fields.id("component"), status: status, latencyMilliseconds: try fields.digits("latency_ms"),
                    detail: try fields.optionalString("detail")))
        default:
            throw Rejection(.invalidField, "\(type) is not an operations event type")
        }
    }
}
