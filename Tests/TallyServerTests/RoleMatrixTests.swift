import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Tally
import TallyServer
import Testing

/// Every route × no key, a bad key and each role: only the documented ones get past the
/// authentication and authorization checks.
@Suite struct RoleMatrixTests {
    @Test func everyRouteAdmitsExactlyItsRoles() async throws {
        try await TestAPI.withRouter({ $0.rateLimitPerSecond = 0 }) { test, client in
            let routes = test.api.routes
            #expect(routes.count >= 40)
            for route in routes {
                let uri = Self.concrete(route.path)
                let method = HTTPRequest.Method(rawValue: route.method) ?? .get
                // No key, and a well-formed key that does not exist.
                for headers: HTTPFields in [
                    [.contentType: "application/json"],
                    [.contentType: "application/json", .authorization: "Bearer tally_000000000000_" + String(repeating: "0", count: 64)],
                ] {
                    let status = try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: "{}")) { $0.status }
                    if route.permission == .open {
                        #expect(status != .unauthorized && status != .forbidden, "\(route) refused without a key")
                    } else {
                        #expect(status == .unauthorized, "\(route) without a valid key: \(status)")
                    }
                }
                for role in Role.allCases {
                    let response = try await client.call(test, method, uri, as: role, json: "{}")
                    let code = response.json["code"] as? String
                    let refused = response.status == .forbidden && code == "forbidden" || response.status == .unauthorized
                    #expect(refused == !role.allows(route.permission), "\(route) as \(role.rawValue): \(response.status) \(response.text)")
                }
            }
        }
    }

    /// A path with every `{parameter}` filled in.
    static func concrete(_ path: String) -> String {
        // The event stream would never end: ask for none.
        if path == "/v1/subscribe" { return path + "?max_events=0" }
        return path.split(separator: "/", omittingEmptySubsequences: false).map { part in
            guard part.hasPrefix("{") else { return String(part) }
            return part == "{id}" && path.hasPrefix("/v1/events/") ? UUID().uuidString : "x-1"
        }.joined(separator: "/")
    }
}
