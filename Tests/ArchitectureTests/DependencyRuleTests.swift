import Foundation
import Testing

/// Enforces the dependency rule of docs/architecture.md by reading every import in Sources/.
///
/// The compiler does not catch an import of a module that is only a transitive dependency,
/// so the rule is checked here, against the table of allowed imports.
@Suite struct DependencyRuleTests {
    static let system: Set<String> = ["Foundation", "Synchronization", "Glibc", "Dispatch", "FoundationEssentials"]

    /// Module → the project and third-party modules it may import (besides `system`).
    static let allowed: [String: Set<String>] = [
        "TallyLMDB": ["CLMDB", "NIOConcurrencyHelpers"],
        "TallyChecksum": ["CXXHash", "Crypto"],
        "TallyLog": ["TallyLMDB", "TallyChecksum", "Logging", "NIOConcurrencyHelpers"],
        "TallyDomain": [],
        "TallyProjections": ["TallyLog", "TallyDomain", "TallyLMDB", "Logging", "ServiceLifecycle", "NIOConcurrencyHelpers"],
        "Tally": ["TallyLog", "TallyDomain", "TallyProjections", "TallyChecksum", "Logging", "NIOConcurrencyHelpers"],
        "TallyServer": [
            "Tally", "TallyDomain", "TallyChecksum", "Prometheus", "Logging", "ServiceLifecycle", "UnixSignals", "Hummingbird",
            "HummingbirdCore", "HummingbirdTLS", "HTTPTypes", "NIOConcurrencyHelpers",
        ],
        "TallyCLI": ["Tally", "TallyDomain", "TallyServer", "ArgumentParser", "Logging", "NIOConcurrencyHelpers"],
        "TallyCrashChild": ["Tally", "TallyLMDB"],
        "TallyTesting": ["Tally"],
        "TallyFuzz": ["Tally", "TallyDomain", "TallyLog", "TallyServer"],
    ]

    static var sourcesURL: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources")
    }

    static func imports(of module: String) throws -> [(file: String, module: String)] {
        let directory = self.sourcesURL.appendingPathComponent(module)
        guard let files = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        var found: [(String, String)] = []
        for case let file as String in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ").filter { !$0.hasPrefix("@") }
                let keywords: Set<Substring> = ["public", "internal", "package", "private", "fileprivate"]
                let rest = words.drop { keywords.contains($0) }
                guard rest.first == "import", rest.count >= 2 else { continue }
                found.append((file, String(rest[rest.index(after: rest.startIndex)])))
            }
        }
        return found
    }

    @Test func everyModuleImportsOnlyWhatTheRuleAllows() throws {
        let modules = try FileManager.default.contentsOfDirectory(atPath: Self.sourcesURL.path)
            .filter { !$0.hasPrefix("C") && !$0.hasPrefix(".") }
        #expect(Set(modules) == Set(Self.allowed.keys), "a module was added or removed: update the table")
        for module in modules {
            let allowed = Self.allowed[module, default: []].union(Self.system)
            for (file, imported) in try Self.imports(of: module) {
                #expect(allowed.contains(imported), "\(module)/\(file) imports \(imported), which the dependency rule forbids")
            }
        }
    }

    @Test func cModulesAreImportedInternallyByTheirWrapperOnly() throws {
        for module in Self.allowed.keys {
            let directory = Self.sourcesURL.appendingPathComponent(module)
            guard let files = FileManager.default.enumerator(atPath: directory.path) else { continue }
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                for line in text.split(separator: "\n") where line.contains("import CLMDB") || line.contains("import CXXHash") {
                    #expect(line.hasPrefix("internal import"), "\(module)/\(file): C modules must be `internal import`")
                }
            }
        }
    }

    @Test func theCheckerSeesImports() throws {
        // Guards against a checker that silently finds nothing.
        let imports = try Self.imports(of: "TallyLog").map(\.module)
        #expect(imports.contains("TallyLMDB"))
        #expect(try Self.imports(of: "TallyLMDB").map(\.module).contains("CLMDB"))
    }

    /// Every lock in Sources/ is one ThreadSanitizer can see. Swift's `Synchronization.Mutex`
    /// on Linux hands a contended lock over in the kernel (`FUTEX_LOCK_PI`), so TSan reports
    /// the next holder's access as a race (CI failed on one); `NIOLockedValueBox` (pthread)
    /// and `NSLock` are seen.
    @Test func noLockIsInvisibleToThreadSanitizer() throws {
        let sources = Self.sourcesURL
        guard let files = FileManager.default.enumerator(atPath: sources.path) else { return }
        var checked = 0
        for case let file as String in files where file.hasSuffix(".swift") {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            checked += 1
            for line in text.split(separator: "\n") where !line.trimmingCharacters(in: .whitespaces).hasPrefix("//") {
                #expect(!line.contains("Mutex<") && !line.contains("Mutex("), "\(file): \(line.trimmingCharacters(in: .whitespaces)) (use NIOLockedValueBox)")
            }
        }
        #expect(checked > 100)
    }
}
