public import Hummingbird
public import HTTPTypes
import TallyDomain
import Tally

/// An RFC 9457 problem: every refusal of the HTTP API, with a stable `code` (the same codes as
/// docs/rejections.md), a `detail` a person can act on and, for a malformed field, its JSON path.
public struct APIProblem: HTTPResponseError, Sendable, CustomStringConvertible {
    public var status: HTTPResponse.Status
    /// The stable snake_case code.
    public var code: String
    /// What went wrong and what to do.
    public var detail: String
    /// The JSON path of the malformed field (`$.events[0].type`), when one is to blame.
    public var pointer: String?
    /// Extra response headers (`Retry-After`, `WWW-Authenticate`).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ detail: String, pointer: String? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.pointer = pointer
    }

    public var description: String { "\(self.status.code) \(self.code): \(self.detail)" }

    /// 400 `malformed_request` naming the field.
    package static func malformed(_ detail: String, at pointer: String?) -> APIProblem {
        APIProblem(.badRequest, "malformed_request", detail, pointer: pointer)
    }

    /// 400 `invalid_field` for a field whose value the domain refuses.
    static func invalidField(_ detail: String, at pointer: String) -> APIProblem {
        APIProblem(.badRequest, RejectionCode.invalidField.rawValue, detail, pointer: pointer)
    }

    /// 404 `not_found`.
    static func notFound(_ detail: String) -> APIProblem {
        APIProblem(.notFound, "not_found", detail)
    }

    /// A domain rejection: 409 for id conflicts, 422 otherwise.
    static func rejection(_ rejection: Rejection) -> APIProblem {
        let conflicts: Set<RejectionCode> = [
            .accountExistsWithDifferentFields, .transferExistsWithDifferentFields, .deploymentExists,
        ]
        if rejection.code == .invalidField {
            return APIProblem(.badRequest, rejection.code.rawValue, rejection.message)
        }
        return APIProblem(conflicts.contains(rejection.code) ? .conflict : .unprocessableContent, rejection.code.rawValue, rejection.message)
    }

    /// A log error mapped to its status: 409 version and id conflicts, 503 when the ledger
    /// cannot write (read-only, unhealthy, full, closed), 400 for bad input.
    static func log(_ error: LogError) -> APIProblem {
        let status: HTTPResponse.Status
        switch error.code {
        case .wrongExpectedVersion, .eventIDConflict: status = .conflict
        case .payloadTooLarge: status = .contentTooLarge
        case .readOnly, .unhealthy, .ledgerFull, .closed, .storage, .locked: status = .serviceUnavailable
        case .corruption: status = .internalServerError
        case .notInitialized: status = .notFound
        default: status = .badRequest
        }
        var problem = APIProblem(status, error.code.rawValue, error.message)
        if status == .serviceUnavailable { problem.headers[.retryAfter] = "5" }
        return problem
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var writer = JSONOutput()
        writer.objectStart()
        writer.field("type", "https://tally.dev/problems/\(self.code)")
        writer.field("title", self.status.reasonPhrase)
        writer.field("status", UInt64(self.status.code))
        writer.field("code", self.code)
        writer.field("detail", self.detail)
        if let pointer = self.pointer { writer.field("pointer", pointer) }
        writer.field("instance", request.uri.path)
        writer.objectEnd()
        var headers = self.headers
        headers[.contentType] = "application/problem+json"
        return Response(status: self.status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: writer.bytes)))
    }
}
