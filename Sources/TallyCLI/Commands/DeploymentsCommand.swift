import ArgumentParser
import Foundation
import Tally

struct DeploymentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deployments",
        abstract: "Current version per service and environment with the DORA figures, from the deployments projection.",
        discussion: """
              tally deployments
                  every service/environment, DORA over 30 days
              tally deployments --service api --environment prod --window 7d --history
            DORA: deployments per day, lead time (start to success), change failure rate
            (failed or rolled back over finished), time to restore (to the end of the first
            incident of the service's health component after a failed deployment).
            """)

    @OptionGroup var options: CommonOptions
    @Option(help: "Only this service.") var service: String?
    @Option(help: "Only this environment.") var environment: String?
    @Option(help: "The DORA window (e.g. 24h, 7d, 30d).") var window = "30d"
    @Flag(help: "List each deployment too.") var history = false

    func run() async throws {
        try await runReporting(json: self.options.json) {
            let window = Duration.nanoseconds(Int64(try parseDuration(self.window)))
            try await withLedger(self.options) { ledger in
                let (views, _) = try await ledger.catchUpProjections()
                defer { views.close() }
                let now = UInt64(Date().timeIntervalSince1970 * 1e9)
                for current in try views.currentDeployments()
                where (self.service == nil || current.service == self.service) && (self.environment == nil || current.environment == self.environment) {
                    let dora = try views.dora(service: current.service, environment: current.environment, window: window, now: now)
                    var object: [String: Any] = [
                        "service": current.service, "environment": current.environment, "version": current.rolledBackTo ?? current.version,
                        "last_deployment": current.id, "last_outcome": current.state, "deployments": dora.deployments,
                        "deployments_per_day": dora.deploymentsPerDay,
                    ]
                    object["lead_time_seconds"] = dora.leadTimeSeconds
                    object["change_failure_rate"] = dora.changeFailureRate
                    object["time_to_restore_seconds"] = dora.timeToRestoreSeconds
                    func show(_ value: Double?, _ format: String) -> String { value.map { String(format: format, $0) } ?? "-" }
                    Output.print(
                        json: self.options.json, object,
                        text: "\(current.service)/\(current.environment)  version \(current.rolledBackTo ?? current.version)  last \(current.id) \(current.state)"
                            + "  |  \(self.window): \(String(format: "%.2f", dora.deploymentsPerDay))/day, lead \(show(dora.leadTimeSeconds, "%.0f s")),"
                            + " failure rate \(show(dora.changeFailureRate.map { $0 * 100 }, "%.0f%%")), restore \(show(dora.timeToRestoreSeconds, "%.0f s"))")
                    if self.history && !self.options.json {
                        for record in try views.deploymentHistory(service: current.service, environment: current.environment) {
                            print("    \(Output.rfc3339(nanoseconds: record.startedAt))  \(record.id)  \(record.version)  \(record.state)  by \(record.actor)")
                        }
                    }
                }
            }
        }
    }
}
