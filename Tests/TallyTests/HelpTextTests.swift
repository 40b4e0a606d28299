import Foundation
import TallyTesting
import Testing

/// `--help` of every command reads as written in an 80-column terminal: the examples and
/// tables of a discussion are laid out by hand, and swift-argument-parser rewraps any line
/// wider than 79 columns, which breaks them in the middle.
@Suite struct HelpTextTests {
    let tally = BuiltProducts.executable("tally")

    @Test func everyDiscussionFitsEightyColumns() async throws {
        var pending: [[String]] = [[]]
        var checked = 0
        var rewrapped: [String] = []
        while let path = pending.popLast() {
            let narrow = try await self.help(path, columns: 80)
            let wide = try await self.help(path, columns: 1_000)
            if Self.discussion(narrow) != Self.discussion(wide) {
                let long = Self.discussion(wide).split(separator: "\n").filter { $0.count > 79 }
                rewrapped.append("tally \(path.joined(separator: " ")): \(long.joined(separator: " | "))")
            }
            pending += Self.subcommands(wide).map { path + [$0] }
            checked += 1
        }
        #expect(checked > 30, "found only \(checked) commands")
        #expect(rewrapped.isEmpty, "help rewrapped at 80 columns:\n\(rewrapped.joined(separator: "\n"))")
    }

    private func help(_ path: [String], columns: Int) async throws -> String {
        let result = try await runProcess("/usr/bin/env", ["COLUMNS=\(columns)", self.tally] + path + ["--help"])
        try #require(result.status == 0, "tally \(path.joined(separator: " ")) --help: \(result.standardError)")
        return result.standardOutput
    }

    /// The text between the overview paragraph and USAGE.
    private static func discussion(_ help: String) -> String {
        let head = help.components(separatedBy: "\nUSAGE:")[0]
        guard let gap = head.range(of: "\n\n") else { return "" }
        return String(head[gap.upperBound...])
    }

    /// The names listed under SUBCOMMANDS (without `help`).
    private static func subcommands(_ help: String) -> [String] {
        guard let section = help.components(separatedBy: "SUBCOMMANDS:\n").dropFirst().first else { return [] }
        return section.components(separatedBy: "\n\n")[0].split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("  "), let first = line.dropFirst(2).first, first.isLetter else { return nil }
            let name = String(line.dropFirst(2).prefix { !$0.isWhitespace })
            return name == "help" ? nil : name
        }
    }
}
