import ArgumentParser
import Foundation
import Tally

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Who did what and when: query the audit projection.",
        subcommands: [Query.self],
        defaultSubcommand: Query.self)

    struct Query: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Events by actor, type, category and time range, paged by position.",
            discussion: """
                  tally audit query --actor agent-007 --since 2026-11-22T00:00:00Z
                  tally audit query --category transfer --type transfer.reversed --limit 20
                  tally audit query --actor ops --after 1200          (the next page)
                Prints one event per line (JSON with --json), oldest first.
                """)
        @OptionGroup var options: CommonOptions
        @Option(help: "Who (metadata actor).") var actor: String?
        @Option(help: "Event type, e.g. transfer.posted.") var type: String?
        @Option(help: "Stream category, e.g. transfer.") var category: String?
        @Option(help: "From this time (RFC 3339).") var since: String?
        @Option(help: "Up to this time (RFC 3339).") var until: String?
        @Option(help: "Only positions after this one (paging).") var after: UInt64 = 0
        @Option(help: "At most this many events.") var limit = 100

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let since = try self.since.map { try parseTime($0, option: "--since") }
                let until = try self.until.map { try parseTime($0, option: "--until") }
                try await withLedger(self.options) { ledger in
                    let (views, _) = try await ledger.catchUpProjections()
                    defer { views.close() }
                    let positions = try views.audit(
                        AuditQuery(actor: self.actor, type: self.type, category: self.category, since: since, until: until,
                                   afterPosition: self.after, limit: min(max(self.limit, 1), Limits.readEventsMax)))
                    for position in positions {
                        guard let event = try ledger.log.read(fromPosition: position, limit: 1).first else { continue }
                        Output.print(json: self.options.json, Output.object(event), text: Output.line(event))
                    }
                }
            }
        }
    }
}

/// RFC 3339 (with or without fractional seconds) → nanoseconds since 1970.
func parseTime(_ text: String, option: String) throws -> UInt64 {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    let date = formatter.date(from: text) ?? {
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }()
    guard let date, date.timeIntervalSince1970 >= 0 else {
        throw CLIError(code: "invalid_argument", message: "\(option) \"\(text)\" is not an RFC 3339 time like 2026-11-22T08:00:00Z")
    }
    return UInt64(date.timeIntervalSince1970 * 1e9)
}
