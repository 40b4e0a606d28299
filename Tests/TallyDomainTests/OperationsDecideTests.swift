import Testing
@testable import TallyDomain

@Suite struct OperationsDecideTests {
    private func apply(_ commands: [OperationsCommand], to state: inout OperationsState, now: UInt64 = 1_000_000_000) -> [String] {
        commands.map { command in
            let outcome = Operations.decide(command, state: state, now: now)
            if case .applied(let events) = outcome {
                for event in events { try? Operations.evolve(event, state: &state) }
            }
            return outcome.code
        }
    }

    private let deployment = Deployment(id: "d1", service: "api", version: "42", environment: "prod", actor: "a7")

    @Test func deploymentTransitions() {
        var state = OperationsState()
        #expect(self.apply([.succeedDeployment("d1", durationMilliseconds: 5)], to: &state) == ["deployment_not_found"])
        #expect(self.apply([.startDeployment(self.deployment), .startDeployment(self.deployment)], to: &state) == ["ok", "deployment_exists"])
        var other = self.deployment
        other.version = "43"
        #expect(self.apply([.startDeployment(other)], to: &state) == ["deployment_exists"])
        #expect(self.apply([.rollBackDeployment("d1", toVersion: "41", reason: "r")], to: &state) == ["invalid_transition"])
        #expect(self.apply([.failDeployment("d1", reason: "boom"), .succeedDeployment("d1", durationMilliseconds: nil)], to: &state)
            == ["ok", "invalid_transition"])
        #expect(self.apply([.rollBackDeployment("d1", toVersion: "41", reason: "r"), .rollBackDeployment("d1", toVersion: "40", reason: "r")], to: &state)
            == ["ok", "invalid_transition"])
        #expect(state.deployments["d1"]?.state == .rolledBack)
        #expect(state.deployments["d1"]?.rolledBackTo == "41")
    }

    @Test func durationIsMeasuredFromTheStartWhenNotGiven() {
        var state = OperationsState()
        _ = self.apply([.startDeployment(self.deployment)], to: &state, now: 1_000_000_000)
        _ = self.apply([.succeedDeployment("d1", durationMilliseconds: nil)], to: &state, now: 3_500_000_000)
        #expect(state.deployments["d1"]?.durationMilliseconds == 2_500)
    }

    @Test func servicesMigrationsAndHealthAreChecked() {
        var state = OperationsState()
        let digestA = String(repeating: "a", count: 64), digestB = String(repeating: "b", count: 64)
        #expect(self.apply([
            .scaleService(service: "api", environment: "prod", from: 2, to: 4),
            .scaleService(service: "api", environment: "prod", from: 2, to: 6),
            .scaleService(service: "api", environment: "prod", from: 4, to: 10_001),
            .scaleService(service: "api", environment: "prod", from: 4, to: 4),
            .changeConfig(service: "api", environment: "prod", key: "k", oldDigest: digestA, newDigest: digestB),
            .changeConfig(service: "api", environment: "prod", key: "k", oldDigest: "plain-value", newDigest: digestB),
            .applyMigration(service: "api", migration: "m1"),
            .applyMigration(service: "api", migration: "m1"),
            .applyMigration(service: "worker", migration: "m1"),
            .reportHealth(HealthCheck(component: "api", status: .degraded, latencyMilliseconds: 900, detail: String(repeating: "x", count: 1_025))),
            .reportHealth(HealthCheck(component: "api", status: .degraded, latencyMilliseconds: 900, detail: "slow")),
        ], to: &state) == [
            "ok", "invalid_transition", "invalid_field", "invalid_transition", "ok", "invalid_field", "ok",
            "migration_already_applied", "ok", "invalid_field", "ok",
        ])
        #expect(state.replicas["api/prod"] == 4)
        #expect(state.health["api"]?.status == .degraded)
        #expect(throws: Rejection.self) { try OperationsEvent(type: "health.checked", payload: Array(#"{"component":"api","status":"sick","latency_ms":"1"}"#.utf8)) }
    }

    @Test func payloadsRoundTrip() throws {
        let events: [OperationsEvent] = [
            .deploymentStarted(Deployment(id: "d1", service: "api", version: "42", environment: "prod", strategy: .blueGreen, actor: "a7", reason: "r", startedAt: 7)),
            .deploymentSucceeded("d1", durationMilliseconds: 9), .deploymentFailed("d1", reason: "x"),
            .deploymentRolledBack("d1", toVersion: "41", reason: "y"),
            .serviceScaled(service: "api", environment: "prod", from: 1, to: 2),
            .configChanged(service: "api", environment: "prod", key: "k", oldDigest: String(repeating: "a", count: 64), newDigest: String(repeating: "b", count: 64)),
            .migrationApplied(service: "api", migration: "m1"),
            .healthChecked(HealthCheck(component: "db", status: .unhealthy, latencyMilliseconds: 5, detail: "down")),
        ]
        for event in events { #expect(try OperationsEvent(type: event.type, payload: event.payload) == event) }
    }
}
