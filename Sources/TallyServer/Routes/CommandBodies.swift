import HTTPTypes
import Tally

/// The request bodies of the command routes, decoded into domain commands. Each is a
/// static function (not inline in its route) so the `request` fuzz target runs the same code
/// a request does (``RequestBodyFuzzing``); path parameters come in as arguments.
extension TallyAPI {
    /// `POST /v1/accounts`: `{"id", "agent", "currency", "flags": [names], "external_reference"}`.
    static func accountOpening(_ body: JSONObject) throws -> Account {
        try body.allowOnly(["id", "agent", "currency", "flags", "external_reference"])
        var flags = AccountFlags()
        if let items = try body.array("flags") {
            let names = try items.enumerated().map { index, item throws(APIProblem) -> String in
                guard case .string(let name) = item.kind else {
                    throw APIProblem.malformed("$.flags[\(index)] must be a string", at: "$.flags[\(index)]")
                }
                return name
            }
            do throws(Rejection) { flags = try AccountFlags(names: names) } catch { throw APIProblem(.badRequest, error.code.rawValue, error.message, pointer: "$.flags") }
        }
        return Account(
            id: try body.requiredID("id"), agent: try body.requiredID("agent"), currency: try body.currency("currency"), flags: flags,
            externalReference: try body.string("external_reference"))
    }

    /// `POST /v1/transfers/{id}/commit`: `{"amount"}` (optional: the full amount).
    static func pendingCommit(_ body: JSONObject, transfer id: DomainID) throws -> PaymentCommand {
        try body.allowOnly(["amount"])
        return .commitPending(id, amount: try body.uint64("amount"))
    }

    /// `POST /v1/transfers/{id}/reverse`: `{"reversal_id", "amount", "memo"}`.
    static func reversal(_ body: JSONObject, of original: DomainID) throws -> (command: PaymentCommand, reversal: DomainID) {
        try body.allowOnly(["reversal_id", "amount", "memo"])
        let reversal = try body.requiredID("reversal_id")
        return (.reverse(reversal, of: original, amount: try body.uint64("amount"), memo: try body.string("memo")), reversal)
    }

    /// `POST /v1/deployments`: `{"id", "service", "version", "environment", "strategy", "reason"}`.
    static func deploymentStart(_ body: JSONObject, actor: DomainID) throws -> Deployment {
        try body.allowOnly(["id", "service", "version", "environment", "strategy", "reason"])
        var strategy = Deployment.Strategy.rolling
        if let text = try body.string("strategy") {
            guard let parsed = Deployment.Strategy(rawValue: text) else {
                throw APIProblem.invalidField(
                    "strategy must be one of \(Deployment.Strategy.allCases.map(\.rawValue).joined(separator: ", ")), not \(text)",
                    at: "$.strategy")
            }
            strategy = parsed
        }
        return Deployment(
            id: try body.requiredID("id"), service: try body.requiredID("service"), version: try body.requiredString("version"),
            environment: try body.requiredID("environment"), strategy: strategy, actor: actor, reason: try body.string("reason"))
    }

    /// `POST /v1/deployments/{id}/succeed`: `{"duration_ms"}`.
    static func deploymentSuccess(_ body: JSONObject, deployment id: DomainID) throws -> OperationsCommand {
        try body.allowOnly(["duration_ms"])
        return .succeedDeployment(id, durationMilliseconds: try body.uint64("duration_ms"))
    }

    /// `POST /v1/deployments/{id}/fail`: `{"reason"}`.
    static func deploymentFailure(_ body: JSONObject, deployment id: DomainID) throws -> OperationsCommand {
        try body.allowOnly(["reason"])
        return .failDeployment(id, reason: try body.requiredString("reason"))
    }

    /// `POST /v1/deployments/{id}/rollback`: `{"to_version", "reason"}`.
    static func deploymentRollback(_ body: JSONObject, deployment id: DomainID) throws -> OperationsCommand {
        try body.allowOnly(["to_version", "reason"])
        return .rollBackDeployment(id, toVersion: try body.requiredString("to_version"), reason: try body.requiredString("reason"))
    }

    /// `POST /v1/services/{service}/scale`: `{"environment", "from", "to"}`.
    static func serviceScaling(_ body: JSONObject, service: DomainID) throws -> OperationsCommand {
        try body.allowOnly(["environment", "from", "to"])
        return .scaleService(
            service: service, environment: try body.requiredID("environment"), from: try body.requiredUInt64("from"), to: try body.requiredUInt64("to"))
    }

    /// `POST /v1/services/{service}/config`: `{"environment", "key"}` and, for each of old and
    /// new, the value (hashed here, never stored) or its digest.
    static func configChange(_ body: JSONObject, service: DomainID) throws -> OperationsCommand {
        try body.allowOnly(["environment", "key", "old_value", "new_value", "old_digest", "new_digest"])
        func digest(_ value: String, _ digest: String) throws -> String {
            if let text = try body.string(value) { return Ledger.configDigest(of: text) }
            if let given = try body.string(digest) { return given }
            throw APIProblem.malformed("give \(value) or \(digest)", at: body.pointer(value))
        }
        return .changeConfig(
            service: service, environment: try body.requiredID("environment"), key: try body.requiredString("key"),
            oldDigest: try digest("old_value", "old_digest"), newDigest: try digest("new_value", "new_digest"))
    }

    /// `POST /v1/services/{service}/migrations`: `{"migration"}`.
    static func migration(_ body: JSONObject, service: DomainID) throws -> OperationsCommand {
        try body.allowOnly(["migration"])
        return .applyMigration(service: service, migration: try body.requiredID("migration"))
    }

    /// `POST /v1/health-checks`: `{"component", "status", "latency_ms", "detail"}`.
    static func healthCheck(_ body: JSONObject) throws -> HealthCheck {
        try body.allowOnly(["component", "status", "latency_ms", "detail"])
        let text = try body.requiredString("status")
        guard let status = HealthStatus(rawValue: text) else {
            throw APIProblem(
                .badRequest, RejectionCode.invalidStatus.rawValue, "status must be healthy, degraded or unhealthy, not \(text)", pointer: "$.status")
        }
        return HealthCheck(
            component: try body.requiredID("component"), status: status, latencyMilliseconds: try body.uint64("latency_ms") ?? 0,
            detail: try body.string("detail"))
    }
}
