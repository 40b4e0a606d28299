import Foundation

/// The non-empty lines of a JSONL file (`-`: standard input), each with its 1-based number.
enum JSONLines {
    static func read(path: String) throws -> [(number: Int, text: String)] {
        var cursor = Cursor(try Self.contents(path))
        var lines: [(number: Int, text: String)] = []
        while let line = cursor.next() { lines.append((line.number, String(decoding: line.bytes, as: UTF8.self))) }
        return lines
    }

    /// The file's bytes: mapped, not read, so a large file costs no memory of its own
    /// beyond the pages being parsed (standard input is read whole).
    static func contents(_ path: String) throws -> Data {
        if path == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
        guard FileManager.default.isReadableFile(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "it is not readable" : "no such file"
            throw CLIError(code: "invalid_argument", message: "cannot read \(path): \(reason)")
        }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw CLIError(code: "invalid_argument", message: "cannot read \(path): \(error.localizedDescription)")
        }
    }

    /// The lines of `data` one at a time: split at LF, trimmed of spaces, tabs and CR, empty
    /// ones left out. Done on the bytes: through `String` and `trimmingCharacters` it was a
    /// quarter of `tally append --file` on a large file.
    struct Cursor {
        private let data: Data
        private var offset = 0
        private var number = 0

        init(_ data: Data) {
            self.data = data
        }

        /// The next non-empty line and its number; `nil` at the end.
        mutating func next() -> (number: Int, bytes: [UInt8])? {
            var offset = self.offset
            var number = self.number
            let line: (number: Int, bytes: [UInt8])? = self.data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
                while offset < bytes.count {
                    let end = bytes[offset...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                    number += 1
                    var first = offset
                    var last = end
                    offset = end + 1
                    while first < last, JSONLines.isBlank(bytes[first]) { first += 1 }
                    while last > first, JSONLines.isBlank(bytes[last - 1]) { last -= 1 }
                    if first < last { return (number, Array(bytes[first..<last])) }
                }
                return nil
            }
            self.offset = offset
            self.number = number
            return line
        }
    }

    fileprivate static func isBlank(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
    }
}
