/// A deployment of one version of a service to one environment.
public struct Deployment: Hashable, Sendable {
    /// How the new version replaces the old.
    public enum Strategy: String, Hashable, Sendable, CaseIterable {
        case rolling, blueGreen = "blue_green", canary, recreate
    }

    /// Where a deployment stands.
    public enum State: String, Hashable, Sendable {
        case started, succeeded, failed
        case rolledBack = "rolled_back"
    }

    public var id: DomainID
    public var service: DomainID
    public var version: String
    public var environment: DomainID
    public var strategy: Strategy
    /// Who (agent or person) started it.
    public var actor: DomainID
    public var reason: String?
    /// When it started (nanoseconds since 1970, UTC), as decided by the ledger.
    public var startedAt: UInt64
    public var state: State = .started
    public var durationMilliseconds: UInt64?
    public var failureReason: String?
    public var rolledBackTo: String?

    public init(
        id: DomainID, service: DomainID, version: String, environment: DomainID, strategy: Strategy = .rolling,
        actor: DomainID, reason: String? = nil, startedAt: UInt64 = 0
    ) {
        self.id = id
        self.service = service
        self.version = version
        self.environment = environment
        self.strategy = strategy
        self.actor = actor
        self.reason = reason
        self.startedAt = startedAt
    }

    func hasSameRequest(as other: Deployment) -> Bool {
        self.id == other.id && self.service == other.service && self.version == other.version
            && self.environment == other.environment && self.strategy == other.strategy && self.actor == other.actor
            && self.reason == other.reason
    }
}

/// A component's health as a checker saw it.
public enum HealthStatus: String, Hashable, Sendable, CaseIterable {
    case healthy, degraded, unhealthy
}

/// One health check result.
public struct HealthCheck: Hashable, Sendable {
    public var component: DomainID
    public var status: HealthStatus
    public var latencyMilliseconds: UInt64
    /// At most 1 KiB.
    public var detail: String?

    public init(component: DomainID, status: HealthStatus, latencyMilliseconds: UInt64, detail: String? = nil) {
        self.component = component
        self.status = status
        self.latencyMilliseconds = latencyMilliseconds
        self.detail = detail
    }
}
