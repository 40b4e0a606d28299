import ArgumentParser
import Tally

struct ReadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "read",
        abstract: "Read events: one stream (--stream), one category (--category) or the log from a position.",
        discussion: """
              tally read --stream account-42                 the stream from version 0
              tally read --stream account-42 --backward      newest first
              tally read --from-position 1 --limit 50        the whole log, paged
              tally read --category account                  streams named account-…
            Opens the data directory read-only, so it works while another process writes.
            """)

    @OptionGroup var options: CommonOptions
    @Option(help: "Read this stream.") var stream: String?
    @Option(help: "Read streams of this category (the stream id's prefix before '-').") var category: String?
    @Option(help: "With --stream: the first version to read (default 0, or the last with --backward).") var fromVersion: UInt64?
    @Flag(help: "With --stream: newest first.") var backward = false
    @Option(help: "Read the log (or category) from this position.") var fromPosition: UInt64?
    @Option(help: "The most events to print (at most 10,000).") var limit = 100

    func validate() throws {
        if self.stream != nil && (self.fromPosition != nil || self.category != nil) {
            throw ValidationError("--stream reads by version; do not combine it with --from-position or --category")
        }
        if self.stream == nil && (self.backward || self.fromVersion != nil) {
            throw ValidationError("--backward and --from-version need --stream")
        }
        if self.limit < 1 || self.limit > Limits.readEventsMax {
            throw ValidationError("--limit must be 1 to \(Limits.readEventsMax)")
        }
    }

    func run() async throws {
        try await runReporting(json: self.options.json) {
            let ledger = try await Ledger.open(
                at: self.options.data, configuration: self.options.configuration(readOnly: true), replayingWriteModels: false)
            defer { Task { await ledger.close() } }
            let events: [RecordedEvent]
            if let stream = self.stream {
                events = try ledger.log.read(
                    stream: stream, fromVersion: self.fromVersion, direction: self.backward ? .backward : .forward,
                    limit: self.limit)
            } else if let category = self.category {
                events = try ledger.log.read(category: category, fromPosition: self.fromPosition ?? 1, limit: self.limit)
            } else {
                events = try ledger.log.read(fromPosition: self.fromPosition ?? 1, limit: self.limit)
            }
            for event in events {
                print(self.options.json ? Output.json(Output.object(event)) : Output.line(event))
            }
            await ledger.close()
        }
    }
}
