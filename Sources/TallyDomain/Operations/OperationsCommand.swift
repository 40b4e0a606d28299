/// A request about deployments, services or health; `Operations.decide` turns it into
/// events or a ``Rejection``.
public enum OperationsCommand: Hashable, Sendable {
    /// Starts a deployment (its `startedAt` is set by the ledger).
    case startDeployment(Deployment)
    /// `nil` duration: measured from the start.
    case succeedDeployment(DomainID, durationMilliseconds: UInt64?)
    case failDeployment(DomainID, reason: String)
    case rollBackDeployment(DomainID, toVersion: String, reason: String)
    case scaleService(service: DomainID, environment: DomainID, from: UInt64, to: UInt64)
    /// Digests (SHA-256, 64 lowercase hex digits) of the old and new values, never the values.
    case changeConfig(service: DomainID, environment: DomainID, key: String, oldDigest: String, newDigest: String)
    case applyMigration(service: DomainID, migration: DomainID)
    case reportHealth(HealthCheck)
}

/// What an operations command did.
public enum OperationsOutcome: Hashable, Sendable {
    case applied([OperationsEvent])
    /// The same command was applied before (`deployment_exists`): nothing written.
    case exists(RejectionCode)
    case rejected(Rejection)

    /// `ok`, the exists code, or the rejection's code.
    public var code: String {
        switch self {
        case .applied: "ok"
        case .exists(let code): code.rawValue
        case .rejected(let rejection): rejection.code.rawValue
        }
    }

    public var succeeded: Bool {
        if case .rejected = self { return false }
        return true
    }
}

/// The operations write model: deployments, replica counts, applied migrations, last health.
public struct OperationsState: Sendable, Equatable {
    public internal(set) var deployments: [DomainID: Deployment] = [:]
    /// "service/environment" → replicas.
    public internal(set) var replicas: [String: UInt64] = [:]
    public internal(set) var migrations: [DomainID: Set<DomainID>] = [:]
    public internal(set) var health: [DomainID: HealthCheck] = [:]

    public init() {}

    static func serviceKey(_ service: DomainID, _ environment: DomainID) -> String { "\(service)/\(environment)" }
}
