import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Tally

/// The outermost middleware: gives every request an id (the client's `X-Request-Id` or a new
/// one) that every log line of the request carries, resolves the bearer key, turns every
/// error into an RFC 9457 problem, and writes one access-log line per request.
struct RequestMiddleware: RouterMiddleware {
    typealias Context = TallyRequestContext
    let keys: KeyStore
    let signing: RequestSigning
    let bodyLimitBytes: Int
    /// The documented paths: a router miss on one of them with another method is a 405.
    let table: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        let started = ContinuousClock.now
        // The client's id, else Hummingbird's (a random prefix and a counter: no system call).
        let requestID = request.headers[.xRequestID].flatMap { $0.utf8.count <= 128 ? $0 : nil } ?? context.id
        context.requestID = requestID
        context.logger[metadataKey: "hb.request.id"] = nil
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var request = request
        if let signature = request.headers[.xTallySignature], !signature.isEmpty {
            do {
                context.key = try await self.verifySigned(&request, signature: signature)
                context.logger[metadataKey: "key"] = .string(context.key?.name ?? "")
            } catch let problem as APIProblem {
                context.authenticationFailure = problem
            }
        } else if let authorization = request.headers[.authorization] {
            if authorization.hasPrefix("Bearer "), let key = self.keys.authenticate(String(authorization.dropFirst(7))) {
                context.key = key
                context.logger[metadataKey: "key"] = .string(key.name)
            } else {
                var problem = APIProblem(
                    .unauthorized, "invalid_key",
                    "the Authorization header does not hold a live key; send `Authorization: Bearer tally_…` with a key from `tally keys create`")
                problem.headers[.wwwAuthenticate] = "Bearer"
                context.authenticationFailure = problem
            }
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let problem as APIProblem {
            response = try problem.response(from: request, context: context)
        } catch let error as LogError {
            response = try APIProblem.log(error).response(from: request, context: context)
        } catch let rejection as Rejection {
            response = try APIProblem.rejection(rejection).response(from: request, context: context)
        } catch let error as HTTPError {
            var problem = APIProblem(error.status, Self.code(for: error.status), error.body ?? error.status.reasonPhrase)
            if error.status == .notFound, let allowed = self.table.methods(for: request.uri.path) {
                // The path exists; the method does not.
                let allow = allowed.joined(separator: ", ")
                problem = APIProblem(.methodNotAllowed, "method_not_allowed", "\(request.uri.path) takes \(allow), not \(request.method.rawValue)")
                problem.headers[.allow] = allow
            }
            response = try problem.response(from: request, context: context)
        } catch {
            context.logger.error("request failed", metadata: ["error": "\(error)"])
            let problem = APIProblem(.internalServerError, "internal_error", "the server failed to answer; the log has the details (request \(requestID))")
            response = try problem.response(from: request, context: context)
        }
        response.headers[.xRequestID] = requestID
        let elapsed = ContinuousClock.now - started
        let milliseconds = Double(elapsed.components.seconds) * 1e3 + Double(elapsed.components.attoseconds) / 1e15
        context.logger.info(
            "access",
            metadata: [
                "method": .string(request.method.rawValue), "path": .string(request.uri.path),
                "status": .stringConvertible(response.status.code), "duration_ms": .string(String(format: "%.3f", milliseconds)),
            ])
        return response
    }

    /// The key of a correctly signed request; the body is collected (up to the limit) to
    /// check its hash and stays readable by the route.
    private func verifySigned(_ request: inout Request, signature: String) async throws -> APIKey {
        func refused(_ code: String, _ detail: String) -> APIProblem {
            var problem = APIProblem(.unauthorized, code, detail)
            problem.headers[.wwwAuthenticate] = "Bearer"
            return problem
        }
        guard let keyID = request.headers[.xTallyKey], let timestamp = request.headers[.xTallyTimestamp].flatMap({ Int64($0) }) else {
            throw refused("invalid_signature", "a signed request needs X-Tally-Key (the key id) and X-Tally-Timestamp (Unix seconds) beside X-Tally-Signature")
        }
        guard let key = self.keys.live(id: keyID) else {
            throw refused("invalid_key", "X-Tally-Key \(keyID) names no live key; `tally keys list` shows them")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: self.bodyLimitBytes)
        } catch {
            throw APIProblem(.contentTooLarge, "body_too_large", "the body is larger than \(self.bodyLimitBytes) bytes")
        }
        let path = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        let now = Int64(Date().timeIntervalSince1970)
        if let failure = self.signing.check(
            keyID: keyID, method: request.method.rawValue, path: path, timestamp: timestamp, signature: signature,
            body: Array(buffer.readableBytesView), now: now)
        {
            throw refused(failure.code, failure.detail)
        }
        return key
    }

    static func code(for status: HTTPResponse.Status) -> String {
        switch status.code {
        case 404: "not_found"
        case 405: "method_not_allowed"
        case 413: "body_too_large"
        default: "http_\(status.code)"
        }
    }
}

extension HTTPField.Name {
    static let xTallyKey = Self.named("X-Tally-Key")
    static let xTallyTimestamp = Self.named("X-Tally-Timestamp")
    static let xTallySignature = Self.named("X-Tally-Signature")

    private static func named(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("a valid header name") }
        return field
    }

    static let xRequestID: HTTPField.Name = {
        guard let name = HTTPField.Name("X-Request-Id") else { preconditionFailure("a valid header name") }
        return name
    }()
}
