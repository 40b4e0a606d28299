/// The deployment, service and health rules: `decide` and `evolve`, both pure.
public enum Operations {
    public static let replicasMax: UInt64 = 10_000
    public static let detailBytesMax = 1_024
    public static let reasonBytesMax = 512
    public static let latencyMillisecondsMax: UInt64 = 86_400_000

    /// Decides `command` against `state` at wall-clock time `now` (ns since 1970).
    public static func decide(_ command: OperationsCommand, state: borrowing OperationsState, now: UInt64) -> OperationsOutcome {
        do throws(Rejection) {
            switch command {
            case .startDeployment(var deployment):
                try self.text(deployment.version, field: "version", max: 64, required: true)
                try FreeText.validate(deployment.reason, field: "reason", max: self.reasonBytesMax)
                if let existing = state.deployments[deployment.id] {
                    guard existing.hasSameRequest(as: deployment) else {
                        throw Rejection(.deploymentExists, "deployment \(deployment.id) exists with other fields; use a new id")
                    }
                    return .exists(.deploymentExists)
                }
                deployment.startedAt = now
                deployment.state = .started
                return .applied([.deploymentStarted(deployment)])
            case .succeedDeployment(let id, let duration):
                let deployment = try self.deployment(id, in: state, mustBe: [.started], to: "succeed")
                let measured = duration ?? (now > deployment.startedAt ? (now - deployment.startedAt) / 1_000_000 : 0)
                return .applied([.deploymentSucceeded(id, durationMilliseconds: measured)])
            case .failDeployment(let id, let reason):
                try self.text(reason, field: "reason", max: self.reasonBytesMax, required: true)
                _ = try self.deployment(id, in: state, mustBe: [.started], to: "fail")
                return .applied([.deploymentFailed(id, reason: reason)])
            case .rollBackDeployment(let id, let version, let reason):
                try self.text(version, field: "to_version", max: 64, required: true)
                try self.text(reason, field: "reason", max: self.reasonBytesMax, required: true)
                _ = try self.deployment(id, in: state, mustBe: [.succeeded, .failed], to: "roll back")
                return .applied([.deploymentRolledBack(id, toVersion: version, reason: reason)])
            case .scaleService(let service, let environment, let from, let to):
                guard from <= self.replicasMax, to <= self.replicasMax else {
                    throw Rejection(.invalidField, "replicas must be 0 to \(self.replicasMax); got \(from) → \(to)")
                }
                guard from != to else { throw Rejection(.invalidTransition, "scaling \(service) from \(from) to \(to) changes nothing") }
                if let current = state.replicas[OperationsState.serviceKey(service, environment)], current != from {
                    throw Rejection(
                        .invalidTransition, "\(service) in \(environment) runs \(current) replicas, not \(from); scale from \(current)")
                }
                return .applied([.serviceScaled(service: service, environment: environment, from: from, to: to)])
            case .changeConfig(let service, let environment, let key, let old, let new):
                try self.text(key, field: "key", max: 128, required: true)
                for (name, digest) in [("old_digest", old), ("new_digest", new)] where !self.isDigest(digest) {
                    throw Rejection(.invalidField, "\(name) must be a SHA-256 digest: 64 lowercase hex digits (values are never stored)")
                }
                guard old != new else { throw Rejection(.invalidTransition, "config \(key) of \(service): old and new values are equal") }
                return .applied([.configChanged(service: service, environment: environment, key: key, oldDigest: old, newDigest: new)])
            case .applyMigration(let service, let migration):
                if state.migrations[service]?.contains(migration) == true {
                    throw Rejection(.migrationAlreadyApplied, "migration \(migration) was already applied to \(service)")
                }
                return .applied([.migrationApplied(service: service, migration: migration)])
            case .reportHealth(let check):
                guard check.latencyMilliseconds <= self.latencyMillisecondsMax else {
                    throw Rejection(.invalidField, "latency_ms must be at most \(self.latencyMillisecondsMax); got \(check.latencyMilliseconds)")
                }
                try FreeText.validate(check.detail, field: "detail", max: self.detailBytesMax)
                return .applied([.healthChecked(check)])
            }
        } catch {
            return .rejected(error)
        }
    }

    /// Folds `event` into `state`; throws when the event contradicts it (replay stops there).
    public static func evolve(_ event: OperationsEvent, state: inout OperationsState) throws(Rejection) {
        switch event {
        case .deploymentStarted(let deployment):
            guard state.deployments[deployment.id] == nil else { throw self.inconsistent(event) }
            state.deployments[deployment.id] = deployment
        case .deploymentSucceeded(let id, let duration):
            guard var deployment = state.deployments[id], deployment.state == .started else { throw self.inconsistent(event) }
            deployment.state = .succeeded
            deployment.durationMilliseconds = duration
            state.deployments[id] = deployment
        case .deploymentFailed(let id, let reason):
            guard var deployment = state.deployments[id], deployment.state == .started else { throw self.inconsistent(event) }
            deployment.state = .failed
            deployment.failureReason = reason
            state.deployments[id] = deployment
        case .deploymentRolledBack(let id, let version, _):
            guard var deployment = state.deployments[id], deployment.state == .succeeded || deployment.state == .failed else {
                throw self.inconsistent(event)
            }
            deployment.state = .rolledBack
            deployment.rolledBackTo = version
            state.deployments[id] = deployment
        case .serviceScaled(let service, let environment, _, let to):
            state.replicas[OperationsState.serviceKey(service, environment)] = to
        case .configChanged:
            break
        case .migrationApplied(let service, let migration):
            guard state.migrations[service, default: []].insert(migration).inserted else { throw self.inconsistent(event) }
        case .healthChecked(let check):
            state.health[check.component] = check
        }
    }

    private static func deployment(
        _ id: DomainID, in state: borrowing OperationsState, mustBe allowed: [Deployment.State], to action: String
    ) throws(Rejection) -> Deployment {
        guard let deployment = state.deployments[id] else {
            throw Rejection(.deploymentNotFound, "no deployment has id \(id); start it with `tally deploy start`")
        }
        guard allowed.contains(deployment.state) else {
            throw Rejection(.invalidTransition, "deployment \(id) is \(deployment.state.rawValue); it cannot \(action) now")
        }
        return deployment
    }

    private static func text(_ value: String, field: String, max: Int, required: Bool) throws(Rejection) {
        if required && value.isEmpty { throw Rejection(.invalidField, "\(field) must not be empty") }
        try FreeText.validate(value, field: field, max: max)
    }

    private static func isDigest(_ value: String) -> Bool {
        value.utf8.count == 64 && value.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    private static func inconsistent(_ event: OperationsEvent) -> Rejection {
        Rejection(.invalidField, "\(event.type) on \(event.streamID) contradicts the state before it")
    }
}
