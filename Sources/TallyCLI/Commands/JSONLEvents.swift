import Foundation
import Tally
import TallyServer

/// Parsing of `tally append --file` input.
enum JSONLEvents {
    struct Line {
        let stream: String
        let expected: ExpectedVersion?
        let event: ProposedEvent
    }

    /// Calls `body` with the lines of `path` parsed, `chunk` lines at a time (the whole file
    /// at once without it). Every line is parsed and checked before the first call, so a bad
    /// line anywhere writes nothing; with `chunk` that takes two passes over the (mapped)
    /// file, so memory holds one chunk, not the file's events (a 1 M-line import took
    /// ~0.9 KB a line when all were kept).
    static func forEachChunk(path: String, chunk: Int?, actor: String?, _ body: ([Line]) async throws -> Void) async throws {
        let data = try JSONLines.contents(path)
        guard let chunk else {
            var cursor = JSONLines.Cursor(data)
            var lines: [Line] = []
            while let line = cursor.next() { lines.append(try self.parse(line.bytes, line: line.number, actor: actor)) }
            guard !lines.isEmpty else { throw CLIError(code: "invalid_batch", message: "\(path) holds no events") }
            try await body(lines)
            return
        }
        var check = JSONLines.Cursor(data)
        var any = false
        while let batch = try self.nextChunk(&check, size: chunk, actor: actor) {
            _ = try self.group(batch)
            any = true
        }
        guard any else { throw CLIError(code: "invalid_batch", message: "\(path) holds no events") }
        var cursor = JSONLines.Cursor(data)
        while let batch = try self.nextChunk(&cursor, size: chunk, actor: actor) { try await body(batch) }
    }

    private static func nextChunk(_ cursor: inout JSONLines.Cursor, size: Int, actor: String?) throws -> [Line]? {
        var lines: [Line] = []
        lines.reserveCapacity(min(size, 10_000))
        while lines.count < size, let line = cursor.next() { lines.append(try self.parse(line.bytes, line: line.number, actor: actor)) }
        return lines.isEmpty ? nil : lines
    }

    /// The keys a line may have; any other is refused (a misspelt `expected_version` must not
    /// be ignored).
    static let keys: Set<String> = ["stream", "type", "payload", "id", "expected_version", "metadata"]

    /// One line as an event. The payload is stored as the line spells it (validated, not
    /// re-encoded), as the HTTP API stores it: re-encoding every payload through Foundation
    /// (sorted keys) held `--file` imports at ~15 k lines/s.
    static func parse(_ bytes: [UInt8], line: Int, actor: String?) throws -> Line {
        let parsed: (stream: String, expected: ExpectedVersion?, event: ProposedEvent, id: String?)
        do throws(APIProblem) {
            let object = try JSONObject(try JSONValue.parse(bytes, depthMax: Self.depthMax, subject: "the line", unparsedKey: "payload"))
            try object.allowOnly(Self.keys)
            let stream = try object.requiredString("stream")
            let type = try object.requiredString("type")
            guard let payload = object.fields["payload"] else { throw APIProblem.malformed("$.payload is required (a JSON value)", at: "$.payload") }
            var expected: ExpectedVersion?
            if let value = object.value("expected_version") {
                let given: String? =
                    switch value.kind {
                    case .string(let text), .number(let text): text
                    default: nil
                    }
                guard let given, let parsed = ExpectedVersion(parsing: given) else {
                    throw APIProblem.malformed("expected_version must be \"any\", \"no-stream\" or a number", at: "$.expected_version")
                }
                expected = parsed
            }
            var metadata = EventMetadata(actor: actor)
            if let map = try object.object("metadata") {
                var entries: [(key: String, value: String)] = []
                for (key, value) in Self.pairs(of: object.fields["metadata"]) {
                    guard case .string(let text) = value.kind else {
                        throw APIProblem.malformed("metadata must be an object of strings (\(map.pointer(key)) is \(value.kindName))", at: map.pointer(key))
                    }
                    entries.append((key, text))
                }
                metadata = EventMetadata(entries: entries)
                if metadata.actor == nil { metadata.actor = actor }
            }
            let event = ProposedEvent(id: .timeOrdered(), type: type, payload: Array(bytes[payload.range]), metadata: metadata)
            parsed = (stream, expected, event, try object.string("id"))
        } catch {
            throw CLIError(code: "invalid_json", message: "line \(line): \(error.detail)")
        }
        var event = parsed.event
        if let id = parsed.id { event.id = try self.parseID(id, line: line) }
        return Line(stream: parsed.stream, expected: parsed.expected, event: event)
    }

    /// Deeper payloads are refused (the parser recurses).
    static let depthMax = 128

    /// An object's pairs in the order the line writes them.
    private static func pairs(of value: JSONValue?) -> [(key: String, value: JSONValue)] {
        guard let value, case .object(let pairs) = value.kind else { return [] }
        return pairs
    }

    static func parseID(_ text: String?, line: Int? = nil) throws -> UUID {
        guard let text else { return .timeOrdered() }
        guard let id = UUID(uuidString: text) else {
            let place = line.map { "line \($0): " } ?? ""
            throw CLIError(code: "invalid_argument", message: "\(place)event id '\(text)' is not a UUID")
        }
        return id
    }

    static func jsonPayload(_ text: String, line: Int?) throws -> [UInt8] {
        guard (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil else {
            throw CLIError(code: "invalid_json", message: "the payload is not valid JSON: \(text.prefix(80))")
        }
        return Array(text.utf8)
    }

    /// Merges lines into one stream append per stream, in first-appearance order.
    static func group(_ lines: [Line]) throws -> [StreamAppend] {
        var order: [String] = []
        var byStream: [String: StreamAppend] = [:]
        for line in lines {
            if var existing = byStream[line.stream] {
                if let expected = line.expected, expected != existing.expectedVersion {
                    throw CLIError(
                        code: "invalid_batch",
                        message: "stream \(line.stream): only its first line in an append may set expected_version")
                }
                existing.events.append(line.event)
                byStream[line.stream] = existing
            } else {
                order.append(line.stream)
                byStream[line.stream] = StreamAppend(streamID: line.stream, expectedVersion: line.expected ?? .any, events: [line.event])
            }
        }
        return order.compactMap { byStream[$0] }
    }
}
