import Foundation
import Tally

/// A realistic fleet for `tally demo`: 200 agents paid by three payroll runs and paying each
/// other for tasks (some escrowed, some refused for lack of funds, a few reversed), a dozen
/// services deployed with failures and rollbacks, and components checked over a few seconds
/// with incidents. Every id is fixed and the random choices are seeded, so a second run
/// writes nothing new.
enum DemoFleet {
    static let agents = (1...200).map { String(format: "agent-%03d", $0) }
    static let services = ["api", "worker", "scheduler", "billing", "search", "gateway", "auth", "ingest", "notifier", "reports", "ledger-sync", "vector-store"]

    /// SplitMix64, seeded: the same fleet every run.
    struct Random: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func wallet(_ agent: String) -> DomainID { DomainID(stringLiteral: "wallet-\(agent)") }

    static func accounts() -> [PaymentCommand] {
        [.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))]
            + self.agents.map { agent in
                .openAccount(Account(id: self.wallet(agent), agent: DomainID(stringLiteral: agent), currency: "APX", flags: .debitsMustNotExceedCredits))
            }
    }

    /// Payroll run `month`: one linked batch, treasury → every wallet.
    static func payroll(month: Int) -> [PaymentCommand] {
        self.agents.enumerated().map { index, agent in
            .transfer(
                TransferRequest(
                    id: DomainID(stringLiteral: "payroll-2026-\(String(format: "%02d", month))-\(agent)"), debitAccount: "treasury",
                    creditAccount: self.wallet(agent), amount: UInt64(4_000 + (index % 5) * 500), currency: "APX", memo: "payroll"))
        }
    }

    /// Task payments between agents after payroll `month`: posted, escrowed then committed
    /// or voided, some too large for the payer (refused), a few reversed.
    static func tasks(month: Int) -> [[PaymentCommand]] {
        var random = Random(state: UInt64(month) &* 7_919)
        var rounds: [[PaymentCommand]] = []
        var posted: [DomainID] = []
        for round in 0..<5 {
            var commands: [PaymentCommand] = []
            for index in 0..<80 {
                let payer = self.agents[Int.random(in: 0..<self.agents.count, using: &random)]
                var payee = self.agents[Int.random(in: 0..<self.agents.count, using: &random)]
                if payee == payer { payee = self.agents[(self.agents.firstIndex(of: payer) ?? 0 + 1) % self.agents.count] }
                let id = DomainID(stringLiteral: "task-\(month)-\(round)-\(index)")
                let amount = UInt64.random(in: 50...(index % 17 == 0 ? 20_000 : 1_500), using: &random)
                let escrow = index % 6 == 0
                commands.append(
                    .transfer(
                        TransferRequest(
                            id: id, debitAccount: self.wallet(payer), creditAccount: self.wallet(payee), amount: amount, currency: "APX",
                            memo: escrow ? "escrow for task" : "task payment", timeoutNanoseconds: escrow ? 3_600_000_000_000 : nil)))
                if escrow {
                    commands.append(index % 12 == 0 ? .voidPending(id) : .commitPending(id, amount: amount * 9 / 10))
                } else {
                    posted.append(id)
                }
            }
            rounds.append(commands)
        }
        rounds.append(posted.prefix(6).enumerated().map { index, original in
            .reverse(DomainID(stringLiteral: "refund-\(month)-\(index)"), of: original, amount: nil, memo: "disputed task")
        })
        return rounds
    }

    /// Deployments of every service, some failing and rolled back, scaling, config, migrations.
    static func deployments() -> [OperationsCommand] {
        var random = Random(state: 42)
        var commands: [OperationsCommand] = []
        for (serviceIndex, service) in self.services.enumerated() {
            let name = DomainID(stringLiteral: service)
            for release in 1...Int.random(in: 2...4, using: &random) {
                let id = DomainID(stringLiteral: "\(service)-v\(release)")
                let actor = DomainID(stringLiteral: self.agents[(serviceIndex * 7 + release) % self.agents.count])
                commands.append(
                    .startDeployment(
                        Deployment(
                            id: id, service: name, version: "\(release)", environment: "prod",
                            strategy: Deployment.Strategy.allCases[release % Deployment.Strategy.allCases.count], actor: actor,
                            reason: "release \(release)")))
                if Int.random(in: 0..<5, using: &random) == 0 {
                    commands.append(.failDeployment(id, reason: "health check failed after rollout"))
                    commands.append(.rollBackDeployment(id, toVersion: "\(release - 1)", reason: "automatic rollback"))
                } else {
                    commands.append(.succeedDeployment(id, durationMilliseconds: UInt64.random(in: 30_000...600_000, using: &random)))
                }
            }
            commands.append(.scaleService(service: name, environment: "prod", from: 2, to: UInt64(3 + serviceIndex % 4)))
            commands.append(.applyMigration(service: name, migration: "2026-11-01-initial"))
            commands.append(
                .changeConfig(
                    service: name, environment: "prod", key: "max_connections", oldDigest: Ledger.configDigest(of: "100"),
                    newDigest: Ledger.configDigest(of: "\(200 + serviceIndex)")))
        }
        return commands
    }

    /// Health check round `round` of every service's component: a few incidents.
    static func healthRound(_ round: Int) -> [OperationsCommand] {
        self.services.enumerated().map { index, service in
            let sick = (index == 1 && (3...5).contains(round)) || (index == 4 && round == 6) || (index == 7 && (2...3).contains(round))
            let status: HealthStatus = sick ? (round % 2 == 0 ? .unhealthy : .degraded) : .healthy
            return .reportHealth(
                HealthCheck(
                    component: DomainID(stringLiteral: service), status: status,
                    latencyMilliseconds: UInt64(sick ? 800 + index * 10 : 10 + index), detail: sick ? "p99 latency over 800 ms" : nil))
        }
    }
}
