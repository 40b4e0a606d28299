import Foundation
import TallyChecksum

/// What `tally audit verify` found: nothing (valid) or the problems, each with its line.
public struct AuditVerification: Sendable {
    public struct Problem: Sendable, CustomStringConvertible {
        /// 1-based line of the export (0: the file or its manifest as a whole).
        public var line: Int
        public var message: String
        public var description: String { self.line == 0 ? self.message : "line \(self.line): \(self.message)" }
    }

    public var problems: [Problem] = []
    public var linesChecked = 0
    public var isValid: Bool { self.problems.isEmpty }

    mutating func fail(_ line: Int, _ message: String) {
        if self.problems.count < 100 { self.problems.append(Problem(line: line, message: message)) }
    }
}

extension Ledger {
    /// Checks an export against its manifest: the file's XXH3 and SHA-256 and count; every
    /// line's fields against its record bytes (with proof) and the record's checksum; for a
    /// chain-complete export, the chain from the manifest's anchor to its end, so an edited,
    /// dropped, reordered, duplicated or inserted line is named. With `log`, every line's
    /// checksum is also compared with the ledger's record and the manifest's seals with the
    /// ledger's.
    public static func verifyAuditExport(at path: String, against log: EventLog? = nil) throws -> AuditVerification {
        var result = AuditVerification()
        guard let manifestData = FileManager.default.contents(atPath: path + ".manifest.json") else {
            throw LogError(.invalidArgument, "\(path).manifest.json is missing; an export is checked against its manifest")
        }
        let manifest: AuditManifest
        do { manifest = try JSONDecoder().decode(AuditManifest.self, from: manifestData) } catch {
            result.fail(0, "the manifest does not parse: \(error)")
            return result
        }
        var checker = ExportLineChecker(manifest: manifest, log: log)
        let lines = try Self.forEachLine(of: path, csv: manifest.format == "csv") { line, number in
            try checker.check(line, number: number, into: &result)
        }
        try checker.finish(into: &result)
        var whole = AuditVerification()
        if lines.xxh3 != manifest.xxh3 { whole.fail(0, "the file's XXH3 differs from the manifest's") }
        if lines.sha256 != manifest.sha256 { whole.fail(0, "the file's SHA-256 differs from the manifest's") }
        result.problems.insert(contentsOf: whole.problems, at: 0)
        if checker.count != manifest.count { result.fail(0, "the file holds \(checker.count) events, the manifest says \(manifest.count)") }
        // CSV lines carry no checksums: the file's hashes and the positions guard them.
        if manifest.format != "csv", manifest.chainComplete, manifest.count > 0, checker.previousChecksum != manifest.checksumAtEnd {
            result.fail(lines.count, "the last checksum is not the manifest's checksum_at_end: the end was cut or extended")
        }
        if let log, let first = manifest.firstPosition, let last = manifest.lastPosition {
            // The ledger's seals compared as they are read, not gathered (one per commit).
            var index = 0
            var same = true
            try log.forEachSeal(covering: first...last) { sealFirst, sealLast, seal in
                guard same else { return }
                if index < manifest.seals.count, manifest.seals[index].first == sealFirst, manifest.seals[index].last == sealLast,
                    manifest.seals[index].seal == SHA256Stream.hex(seal)
                {
                    index += 1
                } else {
                    same = false
                }
            }
            if !same || index != manifest.seals.count {
                result.fail(0, "the manifest's seals differ from the ledger's over positions \(first)...\(last)")
            }
        }
        return result
    }

    /// Reads `path` once in 1 MiB chunks, hashing it, and hands `body` each line without its
    /// line end (LF; CRLF for CSV, where a line end inside a quoted cell belongs to the cell)
    /// and its 1-based number. Returns the line count and the file's checksums.
    private static func forEachLine(
        of path: String, csv: Bool, _ body: (UnsafeRawBufferPointer, Int) throws -> Void
    ) throws -> (count: Int, xxh3: String, sha256: String) {
        let input = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else { throw LogError(.invalidArgument, "cannot read \(path): \(String(cString: strerror(errno)))") }
        defer { Glibc.close(input) }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        var xxh3 = XXH3Stream()
        var sha256 = SHA256Stream()
        var carry = LineBuffer()  // the start of a line that runs into the next chunk
        var number = 0
        func emit(_ line: UnsafeRawBufferPointer) throws {
            var line = line
            if csv, line.last == 0x0D { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
            number += 1
            try body(line, number)
        }
        while true {
            let n = read(input, chunk.baseAddress, chunk.count)
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { throw LogError(.invalidArgument, "cannot read \(path): \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            let bytes = UnsafeRawBufferPointer(rebasing: chunk[0..<n])
            xxh3.update(bytes)
            sha256.update(bytes)
            var start = 0
            while start < n, let base = bytes.baseAddress, let found = memchr(base + start, 0x0A, n - start) {
                let end = base.distance(to: UnsafeRawPointer(found))
                let piece = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                start = end + 1
                if csv && (carry.bytes.count(where: { $0 == UInt8(ascii: "\"") }) + piece.count(where: { $0 == UInt8(ascii: "\"") })) % 2 == 1 {
                    carry.put(piece)  // inside a quoted cell: the line goes on
                    carry.put(0x0A)
                    continue
                }
                if carry.count > 0 {
                    carry.put(piece)
                    try emit(carry.bytes)
                    carry.removeAll()
                } else {
                    try emit(piece)
                }
            }
            carry.put(UnsafeRawBufferPointer(rebasing: bytes[start...]))
        }
        if carry.count > 0 { try emit(carry.bytes) }
        return (number, XXH3.hex(xxh3.digest()), sha256.hex())
    }
}

extension Ledger {
    /// How an export writes a CSV cell: RFC 4180 quoting, and a leading `'` for a cell a
    /// spreadsheet would run as a formula (= + - @, tab, CR).
    public static func csvCell(_ value: String) -> String { AuditLine.csvCell(value) }
}
