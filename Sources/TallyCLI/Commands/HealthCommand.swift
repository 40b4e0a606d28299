import ArgumentParser
import Foundation
import Tally

struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Report health checks, or show each component's last status.",
        discussion: """
              tally health report --component api --status degraded --latency-ms 840 \\
                  [--detail "p99 over 800 ms"]
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
        static let configuration = CommandConfiguration(
            abstract: "Each component's status and since when, uptime over 1 h, 24 h, 7 d and 30 d, incidents and mean time to restore.")
        @OptionGroup var options: CommonOptions
        @Flag(help: "List each component's incidents too.") var incidents = false

        func run() async throws {
            try await runReporting(json: self.options.json) {
                try await withLedger(self.options) { ledger in
                    let (views, _) = try await ledger.catchUpProjections()
                    defer { views.close() }
                    let now = UInt64(Date().timeIntervalSince1970 * 1e9)
                    for (name, health) in try views.components() {
                        let incidents = try views.incidents(of: name)
                        let closed = incidents.compactMap { incident in incident.end.map { $0 - incident.start } }
                        let mttr = closed.isEmpty ? nil : Double(closed.reduce(0, +)) / Double(closed.count) / 1e9
                        var object: [String: Any] = [
                            "component": name, "status": health.status.rawValue, "since": Output.rfc3339(nanoseconds: health.since),
                            "last_latency_ms": health.lastLatencyMilliseconds, "incidents": incidents.count,
                        ]
                        var uptimeText: [String] = []
                        for (label, window) in [("1h", 3_600), ("24h", 86_400), ("7d", 604_800), ("30d", 2_592_000)] {
                            if let uptime = try views.uptime(of: name, window: .seconds(window), now: now) {
                                object["uptime_\(label)"] = uptime
                                uptimeText.append("\(label) \(String(format: "%.2f", uptime * 100))%")
                            }
                        }
                        object["mttr_seconds"] = mttr
                        Output.print(
                            json: self.options.json, object,
                            text: "\(name)  \(health.status.rawValue) since \(Output.rfc3339(nanoseconds: health.since))  uptime \(uptimeText.joined(separator: ", "))  incidents \(incidents.count)"
                                + (mttr.map { String(format: "  MTTR %.1f s", $0) } ?? ""))
                        if self.incidents && !self.options.json {
                            for incident in incidents {
                                print("    \(Output.rfc3339(nanoseconds: incident.start)) → \(incident.end.map { Output.rfc3339(nanoseconds: $0) } ?? "ongoing")  worst \(incident.worst.rawValue)")
                            }
                        }
                    }
                }
            }
        }
    }
}
