import ArgumentParser
import Foundation
import Tally
import TallyServer

struct MetricsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metrics",
        abstract: "Print the Prometheus text exposition (what the server's /metrics will serve).",
        discussion: """
            Counters come from the metrics projection (brought up to the log head first):
            events by type, transfers and volume by currency, deployments by service,
            environment and outcome, rollbacks; gauges of the log, accounts, agents,
            projection lag and health status; a histogram of deployment durations.
            """)

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await runReporting(json: false) {
            try await withLedger(self.options) { ledger in
                let (views, status) = try await ledger.catchUpProjections()
                defer { views.close() }
                let text = try MetricsExposition.render(
                    ledger: ledger, views: views, projections: status, now: UInt64(Date().timeIntervalSince1970 * 1e9))
                FileHandle.standardOutput.write(Data(text.utf8))
            }
        }
    }
}
