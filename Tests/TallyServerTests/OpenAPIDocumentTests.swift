import Foundation
import Tally
import TallyServer
import TallyTesting
import Testing

/// docs/openapi.yaml and the server agree: every route the server answers is documented
/// with the permission it enforces, and the document names no route the server lacks.
@Suite struct OpenAPIDocumentTests {
    static var documentURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/openapi.yaml")
    }

    /// (method, path, permission) of every operation in the document.
    static func documentedRoutes() throws -> Set<String> {
        let text = try String(contentsOf: self.documentURL, encoding: .utf8)
        var routes: Set<String> = []
        var path: String?
        var method: String?
        var inPaths = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            if inPaths, !line.hasPrefix(" "), !line.isEmpty { inPaths = false }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":"), !line.hasPrefix("   ") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                method = String(line.dropFirst(4).dropLast()).uppercased()
            } else if line.hasPrefix("      x-tally-permission: "), let path, let method {
                routes.insert("\(method) \(path) \(line.split(separator: " ").last ?? "")")
            }
        }
        return routes
    }

    @Test func documentAndServerNameTheSameRoutes() async throws {
        let test = try await TestAPI.open()
        let served = Set(test.api.routes.map { "\($0.method) \($0.path) \($0.permission.rawValue)" })
        await test.api.close()
        test.directory.remove()
        let documented = try Self.documentedRoutes()
        #expect(documented.count > 40)
        #expect(served.subtracting(documented).sorted() == [], "served but not documented (or with another permission)")
        #expect(documented.subtracting(served).sorted() == [], "documented but not served")
    }
}
