import Hummingbird
import HTTPTypes
import Foundation
import Tally

/// One route of the API as documented in docs/openapi.yaml: method, path template and what
/// the caller needs.
public struct RouteSpec: Sendable, Hashable, CustomStringConvertible {
    public var method: String
    /// The path with `{name}` parameters, as OpenAPI writes it.
    public var path: String
    public var permission: Permission

    public var description: String { "\(self.method) \(self.path)" }
}

/// Registers routes on the router and records each one's ``RouteSpec``. Every handler runs
/// behind the same checks: the caller's key and role, the key's rate limit, and the request
/// timeout.
final class APIRoutes {
    let router: Router<TallyRequestContext>
    let api: TallyAPI
    private(set) var specs: [RouteSpec] = []
    /// The paths and their methods, for 405 answers (filled as routes are added).
    let table = RouteTable()

    init(api: TallyAPI) {
        self.api = api
        self.router = Router(context: TallyRequestContext.self)
        self.router.add(
            middleware: RequestMiddleware(keys: api.keys, signing: api.signing, bodyLimitBytes: api.configuration.bodyLimitBytes, table: self.table))
    }

    typealias Handler = @Sendable (Request, TallyRequestContext) async throws -> Response

    /// Adds a route. `streaming` routes (server-sent events, exports) are not timed out.
    func add(_ method: HTTPRequest.Method, _ path: String, _ permission: Permission, streaming: Bool = false, _ handler: @escaping Handler) {
        self.specs.append(RouteSpec(method: method.rawValue, path: path, permission: permission))
        self.table.add(method: method.rawValue, path: path)
        let api = self.api
        let effective = (path == "/metrics" && api.configuration.publicMetrics) ? Permission.open : permission
        self.router.on(RouterPath(path), method: method) { request, context in
            try Self.authorize(effective, context: context, api: api)
            if streaming { return try await handler(request, context) }
            return try await api.deadlines.run { try await handler(request, context) }
        }
    }

    private static func authorize(_ permission: Permission, context: TallyRequestContext, api: TallyAPI) throws {
        guard permission != .open else { return }
        if let failure = context.authenticationFailure { throw failure }
        guard let key = context.key else {
            var problem = APIProblem(
                .unauthorized, "unauthenticated",
                "this route needs an API key: send `Authorization: Bearer tally_…` (create one with `tally keys create --role reader --name NAME`)")
            problem.headers[.wwwAuthenticate] = "Bearer"
            throw problem
        }
        guard key.role.allows(permission) else {
            let roles = Role.allCases.filter { $0.allows(permission) }.map(\.rawValue).joined(separator: " or ")
            throw APIProblem(.forbidden, "forbidden", "the key \(key.name) has the role \(key.role.rawValue); this route needs \(roles)")
        }
        if let wait = api.limiter.admit(key.id) {
            var problem = APIProblem(
                .tooManyRequests, "rate_limited",
                "the key \(key.name) sent more than \(api.configuration.rateLimitPerSecond) requests a second; retry after \(wait) s")
            problem.headers[.retryAfter] = String(wait)
            throw problem
        }
    }
}

// MARK: Request and response helpers

extension TallyAPI {
    /// The body as bytes: at most the configured limit (413 beyond), JSON only (415).
    func bodyBytes(_ request: Request) async throws -> [UInt8] {
        let limit = self.configuration.bodyLimitBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIProblem(.contentTooLarge, "body_too_large", "the body has \(length) bytes; the limit is \(limit)")
        }
        let buffer: ByteBuffer
        do { buffer = try await request.body.collect(upTo: limit) } catch {
            throw APIProblem(.contentTooLarge, "body_too_large", "the body is larger than the limit of \(limit) bytes")
        }
        let bytes = Array(buffer.readableBytesView)
        if !bytes.isEmpty, let type = request.headers[.contentType],
            !type.lowercased().hasPrefix("application/json")
        {
            throw APIProblem(.unsupportedMediaType, "unsupported_media_type", "send the body as application/json, not \(type)")
        }
        return bytes
    }

    /// The body as a JSON object (an empty body is an empty object); the values of members
    /// named `unparsedKey` are only checked, and kept as their bytes (``JSONValue/Kind/unparsed``).
    func bodyObject(_ request: Request, unparsedKey: String? = nil) async throws -> (object: JSONObject, bytes: [UInt8]) {
        let bytes = try await self.bodyBytes(request)
        if bytes.isEmpty { return (try JSONObject(JSONValue(kind: .object([]), range: 0..<0)), bytes) }
        let value = try JSONValue.parse(bytes, depthMax: self.configuration.jsonDepthMax, unparsedKey: unparsedKey)
        return (try JSONObject(value), bytes)
    }

    /// A JSON response.
    func json(_ status: HTTPResponse.Status = .ok, _ write: (inout JSONOutput) -> Void) -> Response {
        var output = JSONOutput()
        write(&output)
        return Response(
            status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: output.bytes)))
    }

    /// The metadata every event appended for this caller carries: the key's name as actor
    /// (nothing per request, so a retry with the same event ids is recognised as one).
    func metadata(_ context: TallyRequestContext) -> EventMetadata {
        EventMetadata(actor: context.key?.name)
    }
}

extension Request {
    /// A query parameter as a whole number, or a 400 naming it.
    func query(uint64 name: String) throws -> UInt64? {
        guard let text = self.uri.queryParameters.get(name) else { return nil }
        guard let value = UInt64(text) else {
            throw APIProblem.malformed("the query parameter \(name) must be a whole number, not \(text)", at: "query.\(name)")
        }
        return value
    }

    /// A text query parameter; an empty one (`?service=`) counts as absent. (A number or a
    /// time given empty is refused: see the typed forms.)
    func query(_ name: String) -> String? {
        guard let value = self.uri.queryParameters.get(name), !value.isEmpty else { return nil }
        return value
    }

    /// `limit`: 1…max, default `default`.
    func limit(default value: Int = 100, max: Int = 1_000) throws -> Int {
        guard let limit = try self.query(uint64: "limit") else { return value }
        guard limit >= 1, limit <= UInt64(max) else {
            throw APIProblem.malformed("limit must be from 1 to \(max), not \(limit)", at: "query.limit")
        }
        return Int(limit)
    }

    /// An RFC 3339 time query parameter as nanoseconds.
    func query(time name: String) throws -> UInt64? {
        guard let text = self.uri.queryParameters.get(name) else { return nil }
        guard let nanoseconds = RFC3339.parse(text) else {
            throw APIProblem.malformed("\(name) must be an RFC 3339 time like 2026-11-22T08:00:00Z, not \(text)", at: "query.\(name)")
        }
        return nanoseconds
    }
}

extension TallyRequestContext {
    /// A path parameter (always present: the router matched it), percent-decoded
    /// (`/v1/transfers/pay%3A1` names the transfer `pay:1`).
    func parameter(_ name: String) throws -> String {
        guard let value = self.parameters.get(name) else { throw APIProblem.malformed("missing path parameter \(name)", at: "path.\(name)") }
        return value.removingPercentEncoding ?? value
    }

    /// A path parameter that must be a domain id.
    func id(_ name: String) throws -> DomainID {
        let text = try self.parameter(name)
        do throws(Rejection) { return try DomainID(text, field: name) } catch { throw APIProblem.invalidField(error.message, at: "path.\(name)") }
    }
}
