import ArgumentParser
import Foundation
import Tally

struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Who did what and when: query the audit projection, export verifiable files, verify them.",
        subcommands: [Query.self, Export.self, Verify.self],
        defaultSubcommand: Query.self)

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write events to a JSONL or CSV file with a manifest (checksums, seals, file hashes).",
            discussion: """
                  tally audit export --format jsonl --output fy2026.jsonl --with-proof
                  tally audit export --format csv --output payments.csv --category transfer \\
                      --since 2026-11-01T00:00:00Z
                Beside FILE: FILE.manifest.json, FILE.xxh3 (xxhsum -c) and FILE.sha256
                (sha256sum -c). With only a position range the export is chain-complete: `tally
                audit verify` then checks the checksum chain from the first line to the last.
                --with-proof (JSONL) adds each record's stored bytes (base64) so anyone can
                recompute its checksum and compare every field; see docs/format.md.
                """)
        @OptionGroup var options: CommonOptions
        @Option(help: "jsonl or csv.") var format: String = "jsonl"
        @Option(help: "The file to write.") var output: String
        @Option(help: "First position.") var fromPosition: UInt64 = 1
        @Option(help: "Last position.") var toPosition: UInt64?
        @Option(help: "From this time (RFC 3339).") var since: String?
        @Option(help: "Up to this time (RFC 3339).") var until: String?
        @Option(help: "One stream.") var stream: String?
        @Option(help: "One category.") var category: String?
        @Option(help: "One actor.") var actor: String?
        @Option(help: "An event type (repeatable).") var type: [String] = []
        @Flag(help: "JSONL only: include each record's bytes (base64) as proof.") var withProof = false

        func run() async throws {
            try await runReporting(json: self.options.json) {
                guard let format = AuditFormat(rawValue: self.format) else {
                    throw CLIError(code: "invalid_argument", message: "--format must be jsonl or csv")
                }
                var filter = AuditFilter()
                filter.fromPosition = max(1, self.fromPosition)
                filter.toPosition = self.toPosition
                filter.since = try self.since.map { try parseTime($0, option: "--since") }
                filter.until = try self.until.map { try parseTime($0, option: "--until") }
                filter.stream = self.stream
                filter.category = self.category
                filter.actor = self.actor
                filter.types = Set(self.type)
                let showProgress = isatty(STDERR_FILENO) == 1 && !self.options.json
                try await withLedger(self.options, readOnly: true, writeModels: false) { ledger in
                    let manifest = try ledger.exportAudit(to: self.output, format: format, filter: filter, withProof: self.withProof) { done, last in
                        if showProgress && last > 0 {
                            let width = 30
                            let filled = Int(Double(done) / Double(last) * Double(width))
                            FileHandle.standardError.write(Data("\r[\(String(repeating: "#", count: filled))\(String(repeating: ".", count: width - filled))] \(done)/\(last)".utf8))
                        }
                    }
                    if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
                    Output.print(
                        json: self.options.json,
                        ["file": self.output, "count": manifest.count, "first_position": manifest.firstPosition ?? 0,
                         "last_position": manifest.lastPosition ?? 0, "chain_complete": manifest.chainComplete, "xxh3": manifest.xxh3, "sha256": manifest.sha256],
                        text: "wrote \(manifest.count) events to \(self.output) (positions \(manifest.firstPosition ?? 0)...\(manifest.lastPosition ?? 0))\n"
                            + "manifest \(self.output).manifest.json; check with: tally audit verify \(self.output)   or   xxhsum -c \(self.output).xxh3; sha256sum -c \(self.output).sha256")
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check an export: manifest, hashes, every line, the chain; with --data also against the ledger.",
            discussion: "Exit 0: valid. 1: invalid (each problem named with its line).\n2: usage or I/O error.")
        @Argument(help: "The export file.") var file: String
        @Option(help: "Also check against this data directory's log and seals.") var data: String?
        @Flag(help: "Print the result as JSON.") var json = false

        func run() async throws {
            try await runReporting(json: self.json) {
                var report: AuditVerification
                if let data = self.data {
                    let log = try await EventLog.open(at: data, configuration: LogConfiguration(readOnly: true))
                    do { report = try Ledger.verifyAuditExport(at: self.file, against: log) } catch {
                        await log.close()
                        throw error
                    }
                    await log.close()
                } else {
                    report = try Ledger.verifyAuditExport(at: self.file)
                }
                Output.print(
                    json: self.json,
                    ["valid": report.isValid, "lines_checked": report.linesChecked, "problems": report.problems.map(\.description)],
                    text: report.isValid
                        ? "valid: \(report.linesChecked) lines, manifest and hashes match\(self.data == nil ? "" : ", and the ledger agrees")"
                        : "INVALID:\n" + report.problems.map { "  \($0)" }.joined(separator: "\n"))
                if !report.isValid { throw ExitCode(1) }
            }
        }
    }

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
    guard let nanoseconds = RFC3339.parse(text) else {
        throw CLIError(code: "invalid_argument", message: "\(option) \"\(text)\" is not an RFC 3339 time like 2026-11-22T08:00:00Z")
    }
    return nanoseconds
}
