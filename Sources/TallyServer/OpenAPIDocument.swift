import Foundation

/// docs/openapi.yaml, installed beside the executable as a SwiftPM resource
/// (`tally_TallyServer.resources/openapi.yaml`).
enum OpenAPIDocument {
    /// The document, or a short YAML comment saying where it went missing.
    static let yaml: String = {
        for url in Self.candidates {
            if let text = try? String(contentsOf: url, encoding: .utf8) { return text }
        }
        return "# openapi.yaml was not installed beside the tally executable; read docs/openapi.yaml in the source tree\n"
    }()

    private static var candidates: [URL] {
        let executable = URL(fileURLWithPath: CommandLine.arguments.first ?? "tally").resolvingSymlinksInPath().deletingLastPathComponent()
        let bundle = "tally_TallyServer.resources/openapi.yaml"
        return [
            Bundle.main.bundleURL.appendingPathComponent(bundle),
            executable.appendingPathComponent(bundle),
            Bundle.main.resourceURL?.appendingPathComponent("openapi.yaml"),
        ].compactMap { $0 }
    }
}
