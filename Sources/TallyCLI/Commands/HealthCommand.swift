import ArgumentParser
import Foundation
import Tally

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Report health checks, or show each component's last status.",
        discussion: """
              tally health report --component api --status degraded --latency-ms 840 [--detail "p99 over 800 ms"]
              tally health                       (each component's last check)
            Status is healthy, degraded or unhealthy; detail is at most 1 KiB.
            """,
        subcommands: [Show.self, Report.self],
        defaultSubcommand: Show.self)

    struct Report: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Record one health check.")
        @OptionGroup var options: CommonOptions
        @Option(help: "The component checked.") var component: String
        @Option(help: "healthy, degraded or unhealthy.") var status: String
        @Option(help: "How long the check took, in milliseconds.") var latencyMs: UInt64
        @Option(help: "What was seen (at most 1 KiB).") var detail: String?

        func run() async throws {
            try await runReporting(json: self.options.json) {
                guard let status = HealthStatus(rawValue: self.status) else {
                    throw Rejection(.invalidStatus, "status \"\(self.status)\" must be healthy, degraded or unhealthy")
                }
                let check = HealthCheck(
                    component: try DomainID(self.component, field: "--component"), status: status, latencyMilliseconds: self.latencyMs,
                    detail: self.detail)
                try await runOperation(.reportHealth(check), options: self.options, subject: "component \(self.component)")
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Each component's last health check.")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            try await runReporting(json: self.options.json) {
                try await withLedger(self.options, readOnly: true) { ledger in
                    for check in ledger.health() {
                        var object: [String: Any] = [
                            "component": check.component.rawValue, "status": check.status.rawValue, "latency_ms": check.latencyMilliseconds,
                        ]
                        object["detail"] = check.detail
                        Output.print(
                            json: self.options.json, object,
                            text: "\(check.component)  \(check.status.rawValue)  \(check.latencyMilliseconds) ms\(check.detail.map { "  \($0)" } ?? "")")
                    }
                }
            }
        }
    }
}
