import ArgumentParser
import Foundation
import Tally

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Fill a data directory with a small agent fleet's events, read them back and verify.",
        discussion: """
            Appends account, transfer, deployment and health events with fixed event ids, so
            running it again appends nothing new (a retry returns the original positions).
            """)

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await runReporting(json: self.options.json) {
            let ledger = try await Ledger.open(
                at: self.options.data, configuration: self.options.configuration(readOnly: false, create: true))
            do {
                var written = 0
                var repeated = 0
                for append in DemoFleet.appends() {
                    let result = try await ledger.log.append([append])
                    if result.wasDuplicate { repeated += result.positions.count } else { written += result.positions.count }
                }
                let stats = try ledger.log.stats()
                let report = try ledger.log.verify()
                let sample = try ledger.log.read(stream: "account-agent-007")
                await ledger.close()
                if self.options.json {
                    print(Output.json(["written": written, "already_present": repeated, "head_position": stats.headPosition, "verified_clean": report.isClean]))
                    return
                }
                print("data directory   \(self.options.data)")
                print("appended         \(written) events (\(repeated) were already there: retries are idempotent)")
                print("log head         position \(stats.headPosition), \(stats.streams) streams, chain head \(stats.chainHead)")
                print("verify           \(report.isClean ? "clean" : "CORRUPT: \(report.reason ?? "")") (\(report.recordsChecked) records, \(report.sealsChecked) seals)")
                print("\nstream account-agent-007:")
                for event in sample { print("  " + Output.line(event)) }
                print("\nnext: tally read --data \(self.options.data) --from-position 1   |   tally stats --data \(self.options.data)")
            } catch {
                await ledger.close()
                throw error
            }
        }
    }
}

/// A small, fixed fleet: a treasury, agents paid by payroll and paying each other,
/// one deployment and health checks.
enum DemoFleet {
    static func appends() -> [StreamAppend] {
        var appends: [StreamAppend] = []
        var counter: UInt64 = 0
        func event(_ type: String, _ payload: String, actor: String) -> ProposedEvent {
            counter += 1
            return ProposedEvent(id: self.id(counter), type: type, payload: Array(payload.utf8), metadata: EventMetadata(actor: actor))
        }
        appends.append(StreamAppend(streamID: "account-treasury", expectedVersion: .any, events: [
            event("account.opened", #"{"currency":"APX","flags":[]}"#, actor: "ops"),
        ]))
        for agent in 1...12 {
            let name = String(format: "agent-%03d", agent)
            appends.append(StreamAppend(streamID: "account-\(name)", expectedVersion: .any, events: [
                event("account.opened", #"{"currency":"APX","flags":["debits_must_not_exceed_credits"]}"#, actor: "ops"),
            ]))
            appends.append(StreamAppend(streamID: "transfer-payroll-\(name)", expectedVersion: .any, events: [
                event("transfer.posted", #"{"from":"treasury","to":"\#(name)","amount":"5000","currency":"APX","memo":"payroll"}"#, actor: "payroll"),
            ]))
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
