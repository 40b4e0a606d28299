import Foundation
import Tally

/// Parsing of `tally append --file` input.
enum JSONLEvents {
    struct Line {
        let stream: String
        let expected: ExpectedVersion?
        let event: ProposedEvent
    }

    static func read(path: String, chunk: Int?, actor: String?) throws -> [[Line]] {
        let lines = try JSONLines.read(path: path).map { line in try self.parse(line.text, line: line.number, actor: actor) }
        guard !lines.isEmpty else { throw CLIError(code: "invalid_batch", message: "\(path) holds no events") }
        let size = chunk ?? lines.count
        return stride(from: 0, to: lines.count, by: size).map { Array(lines[$0..<min($0 + size, lines.count)]) }
    }

    static func parse(_ text: String, line: Int, actor: String?) throws -> Line {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw CLIError(code: "invalid_json", message: "line \(line) is not a JSON object")
        }
        guard let stream = object["stream"] as? String else {
            throw CLIError(code: "invalid_json", message: "line \(line): \"stream\" (a string) is missing")
        }
        guard let type = object["type"] as? String else {
            throw CLIError(code: "invalid_json", message: "line \(line): \"type\" (a string) is missing")
        }
        guard let payloadValue = object["payload"] else {
            throw CLIError(code: "invalid_json", message: "line \(line): \"payload\" is missing")
        }
        let payload = try JSONSerialization.data(withJSONObject: payloadValue, options: [.fragmentsAllowed, .sortedKeys])
        var expected: ExpectedVersion?
        if let raw = object["expected_version"] {
            guard let parsed = ExpectedVersion(parsing: "\(raw)") else {
                throw CLIError(code: "invalid_json", message: "line \(line): expected_version must be \"any\", \"no-stream\" or a number")
            }
            expected = parsed
        }
        var metadata = EventMetadata(actor: actor)
        if let raw = object["metadata"] {
            guard let map = raw as? [String: String] else {
                throw CLIError(code: "invalid_json", message: "line \(line): metadata must be an object of strings")
            }
            metadata = EventMetadata(entries: map.map { (key: $0.key, value: $0.value) })
            if metadata.actor == nil { metadata.actor = actor }
        }
        return Line(
            stream: stream, expected: expected,
            event: ProposedEvent(id: try self.parseID(object["id"] as? String, line: line), type: type, payload: Array(payload), metadata: metadata))
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
