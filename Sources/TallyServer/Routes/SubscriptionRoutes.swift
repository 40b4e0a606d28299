import Foundation
import HTTPTypes
import Hummingbird
import Tally

/// `GET /v1/subscribe`: the log as server-sent events from a position, resumable with
/// `Last-Event-ID` (each event's SSE id is its position).
extension APIRoutes {
    func addSubscriptionRoutes() {
        let api = self.api
        self.add(.get, "/v1/subscribe", .read, streaming: true) { request, _ in
            var from = max(1, try request.query(uint64: "from_position") ?? 1)
            if let last = request.headers[.lastEventID], !last.isEmpty {
                guard let position = UInt64(last) else {
                    throw APIProblem.malformed("Last-Event-ID must be the position of the last event received, not \(last)", at: "header.Last-Event-ID")
                }
                from = position == .max ? position : position + 1
            }
            let start = from
            // Ends the stream after this many events (for clients that poll in bounded pieces).
            let maxEvents = try request.query(uint64: "max_events") ?? .max
            let category = request.query("category")
            let type = request.query("type")
            guard api.subscribers.enter() else {
                var problem = APIProblem(
                    .serviceUnavailable, "too_many_subscribers",
                    "the server already streams to \(api.subscribers.max) subscribers (or is shutting down); retry later")
                problem.headers[.retryAfter] = "5"
                throw problem
            }
            let body = ResponseBody { writer in
                defer { api.subscribers.leave() }
                try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                var next = start
                var sent: UInt64 = 0
                while sent < maxEvents {
                    switch try await api.nextStreamStep(from: next) {
                    case .closed:
                        try await writer.finish(nil)
                        return
                    case .heartbeat:
                        try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                    case .events(let events):
                        var chunk: [UInt8] = []
                        for event in events where (category.map { event.category == $0 } ?? true) && (type.map { event.type == $0 } ?? true) {
                            guard sent < maxEvents else { break }
                            sent += 1
                            var json = JSONOutput()
                            json.event(event)
                            chunk.append(contentsOf: "id: \(event.position)\nevent: \(event.type)\ndata: ".utf8)
                            chunk.append(contentsOf: json.bytes)
                            chunk.append(contentsOf: "\n\n".utf8)
                        }
                        next = (events.last?.position ?? next - 1) + 1
                        if !chunk.isEmpty { try await writer.write(ByteBuffer(bytes: chunk)) }
                    }
                }
                try await writer.finish(nil)
            }
            return Response(
                status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: body)
        }
    }
}

/// One step of an event stream.
enum StreamStep: Sendable {
    case events([RecordedEvent])
    /// Nothing new for a while: send a comment so proxies keep the connection.
    case heartbeat
    /// The server is shutting down or the log closed.
    case closed
}

extension TallyAPI {
    /// Waits for the events from `position` on (at most 500), a heartbeat after 15 s of
    /// silence, or the end of the stream on shutdown.
    func nextStreamStep(from position: UInt64) async throws -> StreamStep {
        let log = self.ledger.log
        let subscribers = self.subscribers
        return try await withThrowingTaskGroup(of: StreamStep.self) { group in
            group.addTask {
                var iterator = log.subscribe(fromPosition: position).makeAsyncIterator()
                guard let batch = try await iterator.nextBatch(max: 500) else { return .closed }
                return .events(batch)
            }
            group.addTask {
                for _ in 0..<75 {
                    if subscribers.isClosed { return .closed }
                    try await Task.sleep(for: .milliseconds(200))
                }
                return .heartbeat
            }
            defer { group.cancelAll() }
            return try await group.next() ?? .closed
        }
    }
}

extension HTTPField.Name {
    static let lastEventID: HTTPField.Name = {
        guard let name = HTTPField.Name("Last-Event-ID") else { preconditionFailure("a valid header name") }
        return name
    }()
}
