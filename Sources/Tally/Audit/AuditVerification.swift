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
        guard let data = FileManager.default.contents(atPath: path) else { throw LogError(.invalidArgument, "cannot read \(path)") }
        let bytes = Array(data)
        if XXH3.hex(bytes.withUnsafeBytes { XXH3.hash($0) }) != manifest.xxh3 { result.fail(0, "the file's XXH3 differs from the manifest's") }
        var sha = SHA256Stream()
        sha.update(bytes)
        if sha.hex() != manifest.sha256 { result.fail(0, "the file's SHA-256 differs from the manifest's") }

        var lines = String(decoding: bytes, as: UTF8.self).components(separatedBy: manifest.format == "csv" ? "\r\n" : "\n")
        if lines.last == "" { lines.removeLast() }
        var previousChecksum = manifest.previousChecksumAtStart
        var previousPosition: UInt64?
        var count: UInt64 = 0
        for (index, text) in lines.enumerated() {
            let number = index + 1
            if manifest.format == "csv" {
                if index == 0 { continue }
                count += 1
                result.linesChecked += 1
                let position = UInt64(text.prefix { $0 != "," }) ?? 0
                if let previousPosition, position <= previousPosition { result.fail(number, "position \(position) is out of order (after \(previousPosition))") }
                previousPosition = position
                continue
            }
            count += 1
            result.linesChecked += 1
            guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
                let position = (object["position"] as? NSNumber)?.uint64Value, let checksum = object["checksum"] as? String,
                let previous = object["previous_checksum"] as? String
            else {
                result.fail(number, "not an export line (position, checksum and previous_checksum are required)")
                continue
            }
            if let previousPosition {
                if position <= previousPosition {
                    result.fail(number, "position \(position) is duplicated or out of order (after \(previousPosition))")
                } else if manifest.chainComplete && position != previousPosition + 1 {
                    result.fail(number, "positions jump from \(previousPosition) to \(position): a line is missing")
                }
            } else if manifest.chainComplete, let first = manifest.firstPosition, position != first {
                result.fail(number, "the first line is position \(position), the manifest says \(first)")
            }
            if manifest.chainComplete, let expected = previousChecksum, previous != expected {
                result.fail(number, "previous_checksum \(previous) does not chain onto \(expected): a line was changed, dropped, reordered or inserted")
            }
            if manifest.withProof {
                Self.checkProof(object, line: number, into: &result)
            }
            if let log {
                if let stored = try log.read(fromPosition: position, limit: 1).first, stored.position == position {
                    if XXH3.hex(stored.checksum) != checksum { result.fail(number, "checksum differs from the ledger's record \(position)") }
                } else {
                    result.fail(number, "the ledger has no record at position \(position)")
                }
            }
            previousChecksum = checksum
            previousPosition = position
        }
        if count != manifest.count { result.fail(0, "the file holds \(count) events, the manifest says \(manifest.count)") }
        if manifest.chainComplete, manifest.count > 0, previousChecksum != manifest.checksumAtEnd {
            result.fail(lines.count, "the last checksum is not the manifest's checksum_at_end: the end was cut or extended")
        }
        if let log, let first = manifest.firstPosition, let last = manifest.lastPosition {
            let seals = try log.seals(covering: first...last).map { AuditManifest.Seal(first: $0.first, last: $0.last, seal: $0.seal) }
            if seals != manifest.seals { result.fail(0, "the manifest's seals differ from the ledger's over positions \(first)...\(last)") }
        }
        return result
    }

    /// With proof: the record bytes must verify and say what the line says.
    private static func checkProof(
        _ object: [String: Any], line: Int, into result: inout AuditVerification
    ) {
        guard let encoded = object["record"] as? String, let data = Data(base64Encoded: encoded) else {
            result.fail(line, "the record (proof) is missing or not base64")
            return
        }
        let bytes = Array(data)
        let expected: [UInt8]
        do {
            _ = try EventLog.decodeRecord(bytes)
            expected = try bytes.withUnsafeBytes { raw in
                var out = LineBuffer()
                try AuditLine.jsonl(try RecordView(raw), withProof: true, into: &out)
                return Array(out.bytes)
            }
        } catch {
            result.fail(line, "the record does not verify: \(error)")
            return
        }
        guard let canonical = (try? JSONSerialization.jsonObject(with: Data(expected))) as? [String: Any] else { return }
        for key in ["position", "stream", "stream_version", "event_id", "type", "recorded_at", "metadata", "payload", "checksum", "previous_checksum"] {
            if !Self.same(object[key], canonical[key]) {
                let mine = object[key].map { "\($0)" } ?? "absent"
                let theirs = canonical[key].map { "\($0)" } ?? "absent"
                result.fail(line, "field \(key) differs from the record's (\(mine) vs \(theirs))")
            }
        }
    }

    private static func same(_ lhs: Any?, _ rhs: Any?) -> Bool {
        guard let lhs, let rhs else { return lhs == nil && rhs == nil }
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .fragmentsAllowed]
        return (try? JSONSerialization.data(withJSONObject: lhs, options: options)) == (try? JSONSerialization.data(withJSONObject: rhs, options: options))
    }
}

extension Ledger {
    /// How an export writes a CSV cell: RFC 4180 quoting, and a leading `'` for a cell a
    /// spreadsheet would run as a formula (= + - @, tab, CR).
    public static func csvCell(_ value: String) -> String { AuditLine.csvCell(value) }
}
