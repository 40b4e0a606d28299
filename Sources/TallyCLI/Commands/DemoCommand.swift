import ArgumentParser
import Foundation
import Tally

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fill a data directory with a small agent fleet's events, read them back and verify.",
        discussion: """
            A fleet of 200 agents: three linked payroll runs from the treasury, task
            payments between agents (escrowed, committed, voided, refused for lack of
            funds, reversed), a dozen services deployed with failures and rollbacks, and
            health checks over a few seconds with incidents. Fixed ids and seeded choices:
            running it again appends nothing new. Then the projections catch up and it
            verifies the log.
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
                var refused = 0
                func count(_ outcomes: [PaymentOutcome]) {
                    for outcome in outcomes {
                        switch outcome {
                        case .applied(let events): written += events.count
                        case .exists: repeated += 1
                        case .rejected: refused += 1
                        }
                    }
                }
                count(try await ledger.execute(DemoFleet.accounts()))
                // A refused task payment could succeed on a rerun (balances changed), so the
                // payments run once; a rerun only retries the idempotent account opens.
                if ledger.transfer("payroll-2026-01-agent-001") == nil {
                    for month in 1...3 {
                        count(try await ledger.execute(DemoFleet.payroll(month: month), linked: true))
                        for round in DemoFleet.tasks(month: month) { count(try await ledger.execute(round)) }
                    }
                }
                // Operations events are facts, not idempotent commands: write them once.
                if ledger.deployment("api-v1") == nil {
                    for outcome in try await ledger.execute(DemoFleet.deployments()) {
                        if case .applied(let events) = outcome { written += events.count }
                    }
                    for round in 0..<10 {
                        for outcome in try await ledger.execute(DemoFleet.healthRound(round)) {
                            if case .applied(let events) = outcome { written += events.count }
                        }
                        try await Task.sleep(for: .milliseconds(150))
                    }
                } else {
                    repeated += 1
                }
                let (views, projections) = try await ledger.catchUpProjections()
                views.close()
                let stats = try ledger.log.stats()
                let report = try ledger.log.verify()
                let wallets = ledger.accounts().filter { $0.agent.rawValue.hasPrefix("agent-") }.sorted { $0.balance > $1.balance }
                await ledger.close()
                if self.options.json {
                    print(Output.json(["written": written, "already_present": repeated, "head_position": stats.headPosition, "verified_clean": report.isClean]))
                    return
                }
                print("data directory   \(self.options.data)")
                print("appended         \(written) events (\(repeated) commands were retries: nothing new; \(refused) refused, e.g. exceeds_credits)")
                print("log head         position \(stats.headPosition), \(stats.streams) streams, chain head \(stats.chainHead)")
                print("verify           \(report.isClean ? "clean" : "CORRUPT: \(report.reason ?? "")") (\(report.recordsChecked) records, \(report.sealsChecked) seals)")
                print("projections      " + projections.map { "\($0.name) at \($0.checkpoint)" }.joined(separator: ", "))
                print("\nrichest agent wallets (\(wallets.count) in all):")
                for wallet in wallets.prefix(3) { print("  \(wallet.id)  balance \(wallet.balance) \(wallet.currency)") }
                let data = self.options.data
                print("""

                    look around:
                      tally accounts show --data \(data) --id wallet-agent-007
                      tally statement --data \(data) --account treasury
                      tally deployments --data \(data) --history
                      tally health --data \(data) --incidents
                      tally audit query --data \(data) --type transfer.reversed
                      tally read --data \(data) --from-position 1 --limit 20
                      tally serve --data \(data)      the HTTP API on 127.0.0.1:8080
                    """)
            } catch {
                await ledger.close()
                throw error
            }
        }
    }
}

/// A small, fixed fleet: a treasury, agents paid by payroll and paying each other,
/// one deployment and health checks. Fixed ids: running it twice writes nothing new.
