import ArgumentParser
import Foundation
import Tally

struct AppendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append an event to a stream, or the events of a JSONL file.",
        discussion: """
            One event:
              tally append --stream account-42 --type account.opened \\
                  --payload '{"currency":"APX"}' --expected-version no-stream
            A file, one JSON object per line with keys stream, type, payload and optional
            id, expected_version ("any", "no-stream" or a number) and metadata (string map;
            actor, correlation_id and causation_id are the well-known keys); any other key
            is refused, naming the line. Payloads are stored byte for byte as written
            (checked to be JSON, not re-encoded), as the HTTP API stores them:
              tally append --file events.jsonl
            The whole file is one atomic append (at most 10,000 events) unless --chunk N
            splits it into atomic appends of N lines. Retrying with the same ids is safe:
            events that exist with the same content return their original positions.
            """)

    @OptionGroup var options: CommonOptions
    @Option(help: "The stream id, e.g. account-42.") var stream: String?
    @Option(help: "The event type, dotted lowercase, e.g. transfer.posted.") var type: String?
    @Option(help: "The payload, a JSON value.") var payload: String?
    @Option(help: "The event id (UUID); a random one when omitted.") var id: String?
    @Option(help: "any, no-stream, or the stream's current version.") var expectedVersion: String = "any"
    @Option(help: "Who is appending (stored as metadata actor).") var actor: String?
    @Option(help: "A JSONL file of events, '-' for standard input.") var file: String?
    @Option(help: "With --file: lines per atomic append (default: the whole file).") var chunk: Int?

    func validate() throws {
        if self.file == nil {
            guard self.stream != nil, self.type != nil, self.payload != nil else {
                throw ValidationError("give --stream, --type and --payload, or --file")
            }
        } else if self.stream != nil || self.type != nil || self.payload != nil {
            throw ValidationError("--file cannot be combined with --stream, --type or --payload")
        }
        if let chunk = self.chunk, chunk < 1 || chunk > Limits.appendEventsMax {
            throw ValidationError("--chunk must be 1 to \(Limits.appendEventsMax)")
        }
    }

    func run() async throws {
        try await runReporting(json: self.options.json) {
            // The ledger is opened first, so a wrong --data fails before a long file is read;
            // every line is then parsed before the first append, so a bad line writes nothing.
            let ledger = try await Ledger.open(at: self.options.data, configuration: self.options.configuration(readOnly: false))
            do {
                let append = { (batch: [JSONLEvents.Line]) async throws in
                    let result = try await ledger.log.append(JSONLEvents.group(batch))
                    Output.print(
                        json: self.options.json,
                        [
                            "positions": result.positions, "stream_versions": result.streamVersions,
                            "duplicate": result.wasDuplicate,
                        ],
                        text: result.positions.map(String.init).joined(separator: "\n")
                            + (result.wasDuplicate ? "\t(already appended; nothing written)" : ""))
                }
                if let file = self.file {
                    try await JSONLEvents.forEachChunk(path: file, chunk: self.chunk, actor: self.actor, append)
                } else {
                    try await append([try self.singleEvent()])
                }
            } catch {
                await ledger.close()
                throw error
            }
            await ledger.close()
        }
    }

    private func singleEvent() throws -> JSONLEvents.Line {
        guard let stream = self.stream, let type = self.type, let payload = self.payload else {
            throw CLIError(code: "invalid_argument", message: "give --stream, --type and --payload")
        }
        guard let expected = ExpectedVersion(parsing: self.expectedVersion) else {
            throw CLIError(code: "invalid_argument", message: "--expected-version must be any, no-stream or a number")
        }
        return JSONLEvents.Line(
            stream: stream, expected: expected,
            event: ProposedEvent(
                id: try JSONLEvents.parseID(self.id), type: type, payload: try JSONLEvents.jsonPayload(payload, line: nil),
                metadata: EventMetadata(actor: self.actor)))
    }
}
