import ArgumentParser
import Foundation
import Tally

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fill a data directory with a small agent fleet's events, read them back and verify.",
        discussion: """
            Opens a treasury and 12 agent wallets, pays them in one linked payroll run, and
            appends deployment and health events, all with fixed ids, so running it again
            appends nothing new (retries are idempotent).
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
                for append in DemoFleet.appends() {
                    let result = try await ledger.log.append([append])
                    if result.wasDuplicate { repeated += result.positions.count } else { written += result.positions.count }
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

    static func appends() -> [StreamAppend] {
        var appends: [StreamAppend] = []
        var counter: UInt64 = 0
        func event(_ type: String, _ payload: String, actor: String) -> ProposedEvent {
            counter += 1
            return ProposedEvent(id: self.id(counter), type: type, payload: Array(payload.utf8), metadata: EventMetadata(actor: actor))
        }
        appends.append(StreamAppend(streamID: "deployment-api-v42", expectedVersion: .any, events: [
            event("deployment.started", #"{"service":"api","version":"42","environment":"prod"}"#, actor: "agent-007"),
            event("deployment.succeeded", #"{"duration_ms":91000}"#, actor: "agent-007"),
        ]))
        for check in 0..<5 {
            let status = check == 2 ? "degraded" : "healthy"
            appends.append(StreamAppend(streamID: "health-api", expectedVersion: .any, events: [
                event("health.checked", #"{"status":"\#(status)","latency_ms":\#(12 + check * 3)}"#, actor: "prober"),
            ]))
        }
        return appends
    }

    private static func id(_ counter: UInt64) -> UUID {
        UUID(uuidString: String(format: "00000000-0000-4000-8000-%012llx", counter)) ?? UUID()
    }
}
