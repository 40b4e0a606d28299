import ArgumentParser
import Foundation
import Tally

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fill a data directory with a small agent fleet's events, read them back and verify.",
        discussion: """
            Opens a treasury and 12 agent wallets, pays them in one linked payroll run, and
            records deployments (one rolled back), a scale-up, a config change, a migration and
            health checks, all with fixed ids, so running it again appends nothing new.
            """)

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await runReporting(json: self.options.json) {
            let ledger = try await Ledger.open(
                at: self.options.data, configuration: self.options.configuration(readOnly: false, create: true),
                expiryInterval: nil)
            do {
                var written = 0
                var repeated = 0
                for outcome in try await ledger.execute(DemoFleet.accounts()) + (try await ledger.execute(DemoFleet.payroll(), linked: true)) {
                    switch outcome {
                    case .applied(let events): written += events.count
                    case .exists: repeated += 1
                    case .rejected(let rejection): throw rejection
                    }
                }
                // Operations events are facts, not idempotent commands: write them once.
                if ledger.deployment("api-v42") == nil {
                    for outcome in try await ledger.execute(DemoFleet.operations()) {
                        switch outcome {
                        case .applied(let events): written += events.count
                        case .exists: repeated += 1
                        case .rejected(let rejection): throw rejection
                        }
                    }
                } else {
                    repeated += DemoFleet.operations().count
                }
                let stats = try ledger.log.stats()
                let report = try ledger.log.verify()
                let wallets = ledger.accounts().filter { $0.agent.rawValue.hasPrefix("agent-") }
                await ledger.close()
                if self.options.json {
                    print(Output.json(["written": written, "already_present": repeated, "head_position": stats.headPosition, "verified_clean": report.isClean]))
                    return
                }
                print("data directory   \(self.options.data)")
                print("appended         \(written) events (\(repeated) were already there: retries are idempotent)")
                print("log head         position \(stats.headPosition), \(stats.streams) streams, chain head \(stats.chainHead)")
                print("verify           \(report.isClean ? "clean" : "CORRUPT: \(report.reason ?? "")") (\(report.recordsChecked) records, \(report.sealsChecked) seals)")
                print("\nagent wallets (paid by one linked payroll run from the treasury):")
                for wallet in wallets.prefix(4) { print("  \(wallet.id)  balance \(wallet.balance) \(wallet.currency)") }
                print("  … \(wallets.count) wallets")
                print("\nnext: tally accounts show --data \(self.options.data) --id wallet-agent-007")
                print("      tally read --data \(self.options.data) --from-position 1   |   tally stats --data \(self.options.data)")
            } catch {
                await ledger.close()
                throw error
            }
        }
    }
}

/// A small, fixed fleet: a treasury, agents paid by payroll and paying each other,
/// one deployment and health checks. Fixed ids: running it twice writes nothing new.
enum DemoFleet {
    static let agents = (1...12).map { String(format: "agent-%03d", $0) }

    static func accounts() -> [PaymentCommand] {
        [.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))]
            + self.agents.map { agent in
                .openAccount(
                    Account(
                        id: DomainID(stringLiteral: "wallet-\(agent)"), agent: DomainID(stringLiteral: agent), currency: "APX",
                        flags: .debitsMustNotExceedCredits))
            }
    }

    static func payroll() -> [PaymentCommand] {
        self.agents.map { agent in
            .transfer(
                TransferRequest(
                    id: DomainID(stringLiteral: "payroll-2026-11-\(agent)"), debitAccount: "treasury",
                    creditAccount: DomainID(stringLiteral: "wallet-\(agent)"), amount: 5_000, currency: "APX", memo: "payroll"))
        }
    }

    /// A deployment that succeeds, one that fails and is rolled back, a scale-up, a config
    /// change, a migration, and health checks with a short incident.
    static func operations() -> [OperationsCommand] {
        [
            .startDeployment(Deployment(id: "api-v42", service: "api", version: "42", environment: "prod", strategy: .rolling, actor: "agent-007", reason: "release 42")),
            .succeedDeployment("api-v42", durationMilliseconds: 91_000),
            .startDeployment(Deployment(id: "worker-v7", service: "worker", version: "7", environment: "prod", strategy: .canary, actor: "agent-003")),
            .failDeployment("worker-v7", reason: "canary error rate 4%"),
            .rollBackDeployment("worker-v7", toVersion: "6", reason: "canary failed"),
            .scaleService(service: "api", environment: "prod", from: 3, to: 5),
            .changeConfig(
                service: "api", environment: "prod", key: "max_connections",
                oldDigest: String(repeating: "a", count: 64), newDigest: String(repeating: "b", count: 64)),
            .applyMigration(service: "api", migration: "2026-11-20-add-index"),
        ] + [HealthStatus.healthy, .healthy, .degraded, .unhealthy, .healthy].enumerated().map { index, status in
            .reportHealth(HealthCheck(component: "api", status: status, latencyMilliseconds: UInt64(12 + index * 30)))
        }
    }

}
