import Foundation

/// The non-empty lines of a JSONL file (`-`: standard input), each with its 1-based number.
enum JSONLines {
    static func read(path: String) throws -> [(number: Int, text: String)] {
        let data: Data
        if path == "-" {
            data = FileHandle.standardInput.readDataToEndOfFile()
        } else {
            guard let contents = FileManager.default.contents(atPath: path) else {
                throw CLIError(code: "invalid_argument", message: "cannot read \(path)")
            }
            data = contents
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .compactMap { index, line in
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                return trimmed.isEmpty ? nil : (index + 1, trimmed)
            }
    }
}
