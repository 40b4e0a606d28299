import ArgumentParser
import Foundation
import Tally

struct BalanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "balance",
        abstract: "An account's balance now or as of a position, from the balances projection.",
        discussion: """
              tally balance --account wallet-7              now
              tally balance --account wallet-7 --at 1200    as of log position 1200
            Brings the projections in <data>/views up to the log head first.
            """)

    @OptionGroup var options: CommonOptions
    @Option(help: "Account id.") var account: String
    @Option(help: "A log position: the balance right after it.") var at: UInt64?

    func run() async throws {
        try await runReporting(json: self.options.json) {
            try await withLedger(self.options) { ledger in
                let (views, _) = try await ledger.catchUpProjections()
                defer { views.close() }
                guard let current = try views.balance(of: self.account) else {
                    throw Rejection(.accountNotFound, "no account has id \(self.account)")
                }
                var object: [String: Any] = ["account": self.account, "currency": current.currency]
                if let position = self.at {
                    let line = try views.statementLine(of: self.account, atPosition: position)
                    object["position"] = position
                    object["debits_posted"] = String(line?.debitsPosted ?? 0)
                    object["credits_posted"] = String(line?.creditsPosted ?? 0)
                    object["balance"] = String(line?.balanceAfter ?? 0)
                } else {
                    object["position"] = ledger.log.headPosition
                    object["debits_posted"] = String(current.debitsPosted)
                    object["credits_posted"] = String(current.creditsPosted)
                    object["debits_pending"] = String(current.debitsPending)
                    object["credits_pending"] = String(current.creditsPending)
                    object["balance"] = String(current.balance)
                }
                let balance = object["balance"] as? String ?? "0"
                let position = object["position"] as? UInt64 ?? 0
                Output.print(json: self.options.json, object, text: "\(self.account)  \(balance) \(current.currency)  as of position \(position)")
            }
        }
    }
}

struct StatementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statement",
        abstract: "An account's postings with the balance after each, paged by position.")

    @OptionGroup var options: CommonOptions
    @Option(help: "Account id.") var account: String
    @Option(help: "From this log position.") var fromPosition: UInt64 = 1
    @Option(help: "At most this many lines.") var limit = 100

    func run() async throws {
        try await runReporting(json: self.options.json) {
            try await withLedger(self.options) { ledger in
                let (views, _) = try await ledger.catchUpProjections()
                defer { views.close() }
                for line in try views.statement(of: self.account, fromPosition: self.fromPosition, limit: self.limit) {
                    let object: [String: Any] = [
                        "position": line.position, "transfer": line.transfer, "side": line.isDebit ? "debit" : "credit",
                        "amount": String(line.amount), "balance_after": String(line.balanceAfter),
                        "recorded_at": Output.rfc3339(nanoseconds: line.recordedAt),
                    ]
                    Output.print(
                        json: self.options.json, object,
                        text: "\(line.position)  \(Output.rfc3339(nanoseconds: line.recordedAt))  \(line.transfer)  \(line.isDebit ? "-" : "+")\(line.amount)  balance \(line.balanceAfter)")
                }
            }
        }
    }
}

struct ProjectionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "projections",
        abstract: "Bring the projections up to the log head and show their status and lag.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await runReporting(json: self.options.json) {
            try await withLedger(self.options) { ledger in
                let (views, status) = try await ledger.catchUpProjections()
                views.close()
                for entry in status {
                    var object: [String: Any] = [
                        "name": entry.name, "version": entry.version, "checkpoint": entry.checkpoint, "head": entry.head, "lag_events": entry.lagEvents,
                        "lag_seconds": entry.lagSeconds,
                    ]
                    object["failure"] = entry.failure
                    Output.print(
                        json: self.options.json, object,
                        text: "\(entry.name) v\(entry.version)  checkpoint \(entry.checkpoint) of \(entry.head)  lag \(entry.lagEvents)\(entry.failure.map { "  STOPPED: \($0)" } ?? "")")
                }
            }
        }
    }
}

struct ReplayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Rebuild the projections: all from the newest matching snapshot plus the log after it, or one from position 1.",
        discussion: """
              tally replay
                  every projection, from the newest snapshot that matches the log
              tally replay --from-scratch           every projection, from position 1
              tally replay --projection balances
                  one projection from position 1 (balances, health, deployments, audit,
                  metrics)
            A snapshot whose checksums do not match the log at its positions is never used.
            Stop the server first.
            """)

    @OptionGroup var options: CommonOptions
    @Option(help: "Rebuild only this projection, from position 1.") var projection: String?
    @Flag(help: "Ignore snapshots and rebuild every projection from position 1.") var fromScratch = false

    func run() async throws {
        try await runReporting(json: self.options.json) {
            try await withLedger(self.options) { ledger in
                let start = ContinuousClock.now
                if let projection = self.projection {
                    let status = try await ledger.replayProjection(named: projection)
                    let seconds = (ContinuousClock.now - start).secondsDouble
                    Output.print(
                        json: self.options.json,
                        ["projection": status.name, "checkpoint": status.checkpoint, "seconds": seconds, "events_per_second": Double(status.checkpoint) / max(seconds, 1e-9)],
                        text: "rebuilt \(status.name) up to position \(status.checkpoint) in \(String(format: "%.2f", seconds)) s")
                    return
                }
                let bar = ProgressBar(label: "replay", json: self.options.json)
                let (snapshot, status) = try await ledger.replayAll(fromScratch: self.fromScratch) { done, last in bar.update(done, of: last) }
                bar.finish()
                let seconds = (ContinuousClock.now - start).secondsDouble
                let from = snapshot.map { "snapshot \($0)" } ?? "position 1"
                Output.print(
                    json: self.options.json,
                    [
                        "snapshot": snapshot ?? NSNull(), "seconds": seconds,
                        "projections": Dictionary(uniqueKeysWithValues: status.map { ($0.name, $0.checkpoint) }),
                    ],
                    text: "rebuilt \(status.map { "\($0.name) at \($0.checkpoint)" }.joined(separator: ", ")) from \(from) in \(String(format: "%.2f", seconds)) s")
            }
        }
    }
}
