import Foundation
import HTTPTypes
import Hummingbird
import Tally

/// Events: append to a stream, append to several atomically, read a stream, read the log,
/// get one event by id.
extension APIRoutes {
    func addEventRoutes() {
        let api = self.api
        self.add(.post, "/v1/streams/{stream}/events", .write) { request, context in
            let stream = try context.parameter("stream")
            let (body, source) = try await api.bodyObject(request, unparsedKey: "payload")
            try body.allowOnly(["expected_version", "events"])
            let append = try TallyAPI.streamAppend(stream: stream, body, source: source, base: api.metadata(context))
            return try await api.respond(to: api.ledger.log.append([append]))
        }
        self.add(.post, "/v1/events", .write) { request, context in
            let (body, source) = try await api.bodyObject(request, unparsedKey: "payload")
            let appends = try TallyAPI.appends(body, source: source, base: api.metadata(context))
            return try await api.respond(to: api.ledger.log.append(appends))
        }
        self.add(.get, "/v1/streams/{stream}/events", .read) { request, context in
            let stream = try context.parameter("stream")
            let direction: ReadDirection
            switch request.query("direction") ?? "forward" {
            case "forward": direction = .forward
            case "backward": direction = .backward
            case let other:
                throw APIProblem.malformed("direction must be forward or backward, not \(other)", at: "query.direction")
            }
            let events = try api.ledger.log.read(
                stream: stream, fromVersion: request.query(uint64: "from_version"), direction: direction, limit: request.limit())
            return api.json { out in
                out.objectStart()
                out.field("stream", stream)
                out.key("events")
                out.arrayStart()
                for event in events { out.event(event) }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/events", .read) { request, _ in
            let from = max(1, try request.query(uint64: "from_position") ?? 1)
            let limit = try request.limit()
            let type = request.query("type")
            var events: [RecordedEvent]
            if let category = request.query("category") {
                events = try api.ledger.log.read(category: category, fromPosition: from, limit: limit)
            } else {
                events = try api.ledger.log.read(fromPosition: from, limit: limit)
            }
            let scannedTo = events.last?.position
            if let type { events.removeAll { $0.type != type } }
            return api.json { out in
                out.objectStart()
                out.key("events")
                out.arrayStart()
                for event in events { out.event(event) }
                out.arrayEnd()
                // Where the next page starts (the type filter applies within a page).
                if let scannedTo { out.field("next_position", scannedTo + 1) }
                out.field("head_position", api.ledger.log.headPosition)
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/events/{id}", .read) { _, context in
            let text = try context.parameter("id")
            guard let id = UUID(uuidString: text) else {
                throw APIProblem.malformed("an event id is a UUID like 1b4e28ba-2fa1-11d2-883f-0016d3cca427, not \(text)", at: "path.id")
            }
            guard let event = try api.ledger.log.event(id: id) else { throw APIProblem.notFound("no event has the id \(text)") }
            return api.json { $0.event(event) }
        }
    }
}

extension TallyAPI {
    /// The appends of a `POST /v1/events` body: `{"appends": [{"stream", "expected_version", "events"}]}`.
    static func appends(_ body: JSONObject, source: [UInt8], base: EventMetadata) throws -> [StreamAppend] {
        try body.allowOnly(["appends"])
        let items = try body.requiredArray("appends")
        guard !items.isEmpty else { throw APIProblem.malformed("$.appends must hold at least one append", at: "$.appends") }
        return try items.enumerated().map { index, item in
            let object = try JSONObject(item, path: "$.appends[\(index)]")
            try object.allowOnly(["stream", "expected_version", "events"])
            return try Self.streamAppend(stream: object.requiredString("stream"), object, source: source, base: base)
        }
    }

    /// A stream append from `{"expected_version": …, "events": [{"id", "type", "payload", "metadata"}]}`;
    /// `base` is the caller's metadata (``metadata(_:)``), `source` the bytes `body` was parsed from.
    static func streamAppend(stream: String, _ body: JSONObject, source: [UInt8], base: EventMetadata) throws -> StreamAppend {
        var expected = ExpectedVersion.any
        if let value = body.value("expected_version") {
            let text: String
            switch value.kind {
            case .string(let given): text = given
            case .number(let given): text = given
            default: throw APIProblem.malformed("expected_version must be \"any\", \"no_stream\" or a version number", at: body.pointer("expected_version"))
            }
            guard let parsed = ExpectedVersion(parsing: text) else {
                throw APIProblem.malformed(
                    "expected_version must be \"any\", \"no_stream\" or a version number, not \(text)", at: body.pointer("expected_version"))
            }
            expected = parsed
        }
        let items = try body.requiredArray("events")
        guard !items.isEmpty else { throw APIProblem.malformed("\(body.pointer("events")) must hold at least one event", at: body.pointer("events")) }
        let events = try items.enumerated().map { index, item -> ProposedEvent in
            let object = try JSONObject(item, path: "\(body.pointer("events"))[\(index)]")
            try object.allowOnly(["id", "type", "payload", "metadata"])
            var id = UUID.timeOrdered()
            if let text = try object.string("id") {
                guard let parsed = UUID(uuidString: text) else {
                    throw APIProblem.malformed("\(object.pointer("id")) must be a UUID, not \(text)", at: object.pointer("id"))
                }
                id = parsed
            }
            guard let payload = object.fields["payload"] else {
                throw APIProblem.malformed("\(object.pointer("payload")) is required (a JSON value)", at: object.pointer("payload"))
            }
            var metadata = base
            if let extra = try object.object("metadata") {
                for (key, value) in extra.fields {
                    guard case .string(let text) = value.kind else {
                        throw APIProblem.malformed("\(extra.pointer(key)) must be a string", at: extra.pointer(key))
                    }
                    switch key {
                    case "actor":
                        guard text == base.actor else {
                            throw APIProblem(
                                .forbidden, "actor_mismatch",
                                "the actor of an event is the name of the key that sent it (\(base.actor ?? "none")); leave metadata.actor out",
                                pointer: extra.pointer(key))
                        }
                    case "correlation_id": metadata.correlationID = text
                    case "causation_id": metadata.causationID = text
                    default: metadata.extra[key] = text
                    }
                }
            }
            return ProposedEvent(id: id, type: try object.requiredString("type"), payload: Array(source[payload.range]), metadata: metadata)
        }
        return StreamAppend(streamID: stream, expectedVersion: expected, events: events)
    }

    /// 201 with the positions (200 when the whole append was a retry of one that committed).
    func respond(to result: AppendResult) -> Response {
        self.json(result.wasDuplicate ? .ok : .created) { out in
            out.objectStart()
            out.key("positions")
            out.arrayStart()
            for position in result.positions { out.number(position) }
            out.arrayEnd()
            out.key("stream_versions")
            out.arrayStart()
            for version in result.streamVersions { out.number(version) }
            out.arrayEnd()
            out.field("first_position", result.firstPosition)
            out.field("last_position", result.lastPosition)
            out.field("duplicate", result.wasDuplicate)
            out.objectEnd()
        }
    }
}
