import Foundation
import HTTPTypes
import Hummingbird
import Logging
import HummingbirdTesting
import Tally
import TallyServer
import TallyTesting
import Testing

/// A server over a fresh data directory with one key per role.
struct TestAPI {
    let api: TallyAPI
    let directory: TemporaryDirectory
    /// Role → key string.
    let keys: [Role: String]

    static func open(_ configure: (inout ServerConfiguration) -> Void = { _ in }) async throws -> TestAPI {
        let directory = try TemporaryDirectory()
        var configuration = ServerConfiguration()
        configuration.data = directory.path
        configuration.listen = "127.0.0.1:0"
        configuration.mapSizeGiB = 1
        // The full parallel test run can starve the cooperative pool for a minute; a request
        // timing out then is not what these tests are about (RequestTimeoutTests is).
        configuration.requestTimeoutSeconds = 600
        configure(&configuration)
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let api = try await TallyAPI.open(configuration: configuration, logger: logger)
        var keys: [Role: String] = [:]
        for role in Role.allCases {
            keys[role] = try await api.keys.create(name: "\(role.rawValue)-key", role: role, in: api.ledger, actor: "test").secret
        }
        return TestAPI(api: api, directory: directory, keys: keys)
    }

    /// Runs `body` against the router (projection workers running), then closes everything.
    static func withRouter(
        _ configure: (inout ServerConfiguration) -> Void = { _ in },
        _ body: @Sendable (TestAPI, any TestClientProtocol) async throws -> Void
    ) async throws {
        let test = try await TestAPI.open(configure)
        do {
            let app = try test.api.makeApplication(services: test.api.workers)
            try await app.test(.router) { client in try await body(test, client) }
        } catch {
            await test.api.close()
            test.directory.remove()
            throw error
        }
        await test.api.close()
        test.directory.remove()
    }

    func headers(_ role: Role?) -> HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let role, let key = self.keys[role] { headers[.authorization] = "Bearer \(key)" }
        return headers
    }
}

extension TestClientProtocol {
    /// Sends `body` (JSON text) with `role`'s key and returns status and parsed JSON.
    @discardableResult
    func call(_ test: TestAPI, _ method: HTTPRequest.Method, _ uri: String, as role: Role? = .admin, json body: String? = nil)
        async throws -> (status: HTTPResponse.Status, json: [String: Any], text: String)
    {
        try await self.execute(uri: uri, method: method, headers: test.headers(role), body: body.map { ByteBuffer(string: $0) }) { response in
            let text = String(buffer: response.body)
            let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
            return (response.status, object, text)
        }
    }
}
