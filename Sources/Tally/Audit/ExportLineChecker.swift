import Foundation
import TallyChecksum

/// The line-by-line half of ``Ledger/verifyAuditExport(at:against:)``: positions, the
/// checksum chain, the proof of each line, and (in batches, one read transaction each) the
/// ledger's checksums. It keeps only the state the chain needs, so a verify runs in constant
/// memory whatever the export's size.
///
/// A line as the export writes it is checked on its bytes: its fields are found without
/// building the object, and with proof the line is compared byte for byte with the one its
/// record formats to. Anything else (an edited line, another writer's spacing) takes the
/// `JSONSerialization` path, which names the field that differs.
struct ExportLineChecker: ~Copyable {
    let manifest: AuditManifest
    let log: EventLog?
    private(set) var count: UInt64 = 0
    private(set) var previousChecksum: String?
    private var previousPosition: UInt64?
    private var ranges = [Range<Int>?](repeating: nil, count: 4)
    private var canonical = LineBuffer()
    /// Lines waiting for their ledger comparison: line number, position, checksum.
    private var pending: [(line: Int, position: UInt64, checksum: String)] = []

    private static let keys: [StaticString] = ["position", "checksum", "previous_checksum", "record"]
    private static let batch = 4_096

    init(manifest: AuditManifest, log: EventLog?) {
        self.manifest = manifest
        self.log = log
        self.previousChecksum = manifest.previousChecksumAtStart
    }

    /// Checks line `number` (without its line end).
    mutating func check(_ line: UnsafeRawBufferPointer, number: Int, into result: inout AuditVerification) throws {
        if self.manifest.format == "csv" {
            guard number > 1 else { return }  // the header
            self.count += 1
            result.linesChecked += 1
            let end = line.firstIndex(of: UInt8(ascii: ",")) ?? line.count
            let position = UInt64(String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<end]), as: UTF8.self)) ?? 0
            if let previousPosition, position <= previousPosition {
                result.fail(number, "position \(position) is out of order (after \(previousPosition))")
            }
            self.previousPosition = position
            return
        }
        self.count += 1
        result.linesChecked += 1
        var object: [String: Any]?
        let fields: (position: UInt64, checksum: String, previous: String)
        if let fast = self.fastFields(line) {
            fields = fast
        } else {
            object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
            guard let object, let position = (object["position"] as? NSNumber)?.uint64Value, let checksum = object["checksum"] as? String,
                let previous = object["previous_checksum"] as? String
            else {
                result.fail(number, "not an export line (position, checksum and previous_checksum are required)")
                return
            }
            fields = (position, checksum, previous)
        }
        if let previousPosition {
            if fields.position <= previousPosition {
                result.fail(number, "position \(fields.position) is duplicated or out of order (after \(previousPosition))")
            } else if self.manifest.chainComplete && fields.position != previousPosition + 1 {
                result.fail(number, "positions jump from \(previousPosition) to \(fields.position): a line is missing")
            }
        } else if self.manifest.chainComplete, let first = self.manifest.firstPosition, fields.position != first {
            result.fail(number, "the first line is position \(fields.position), the manifest says \(first)")
        }
        if self.manifest.chainComplete, let expected = self.previousChecksum, fields.previous != expected {
            result.fail(number, "previous_checksum \(fields.previous) does not chain onto \(expected): a line was changed, dropped, reordered or inserted")
        }
        if self.manifest.withProof, !self.lineIsItsRecord(line) {
            let parsed = object ?? (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any] ?? [:]
            Self.checkProof(parsed, line: number, into: &result)
        }
        if self.log != nil {
            self.pending.append((number, fields.position, fields.checksum))
            if self.pending.count >= Self.batch { try self.compareWithLedger(&result) }
        }
        self.previousChecksum = fields.checksum
        self.previousPosition = fields.position
    }

    /// Compares the lines still waiting with the ledger.
    mutating func finish(into result: inout AuditVerification) throws {
        try self.compareWithLedger(&result)
    }

    /// position (a number), checksum and previous_checksum (strings without escapes) of a
    /// line that is valid JSON; `nil` sends the line to the `JSONSerialization` path.
    private mutating func fastFields(_ line: UnsafeRawBufferPointer) -> (position: UInt64, checksum: String, previous: String)? {
        guard JSONSyntax.isValid(line), PayloadFields.find(Self.keys, in: line, into: &self.ranges),
            let position = self.ranges[0], position.lowerBound > 0, line[position.lowerBound - 1] != UInt8(ascii: "\""),
            let checksum = self.ranges[1], line[checksum.lowerBound - 1] == UInt8(ascii: "\""),
            let previous = self.ranges[2], line[previous.lowerBound - 1] == UInt8(ascii: "\""),
            line[position.lowerBound] != UInt8(ascii: "-"),
            let value = UInt64(String(decoding: UnsafeRawBufferPointer(rebasing: line[position]), as: UTF8.self))
        else { return nil }
        return (value, String(decoding: UnsafeRawBufferPointer(rebasing: line[checksum]), as: UTF8.self),
                String(decoding: UnsafeRawBufferPointer(rebasing: line[previous]), as: UTF8.self))
    }

    /// Whether the line's `record` verifies (XXH3) and formats to exactly this line.
    private mutating func lineIsItsRecord(_ line: UnsafeRawBufferPointer) -> Bool {
        guard let range = self.ranges[3], range.lowerBound > 0, line[range.lowerBound - 1] == UInt8(ascii: "\""),
            let data = Data(base64Encoded: String(decoding: UnsafeRawBufferPointer(rebasing: line[range]), as: UTF8.self))
        else { return false }
        return data.withUnsafeBytes { raw in
            guard let view = try? RecordView(raw), view.computeChecksum() == view.storedChecksum else { return false }
            self.canonical.removeAll()
            guard (try? AuditLine.jsonl(view, withProof: true, into: &self.canonical)) != nil else { return false }
            let bytes = self.canonical.bytes
            return bytes.count == line.count + 1 && UnsafeRawBufferPointer(rebasing: bytes[0..<line.count]).elementsEqual(line)
        }
    }

    private mutating func compareWithLedger(_ result: inout AuditVerification) throws {
        guard let log = self.log, !self.pending.isEmpty else { return }
        let stored = try log.storedChecksums(at: self.pending.map(\.position))
        for (line, checksum) in zip(self.pending, stored) {
            if let checksum {
                if XXH3.hex(checksum) != line.checksum { result.fail(line.line, "checksum differs from the ledger's record \(line.position)") }
            } else {
                result.fail(line.line, "the ledger has no record at position \(line.position)")
            }
        }
        self.pending.removeAll(keepingCapacity: true)
    }

    /// With proof: the record bytes must verify and say what the line says; names each
    /// field that differs.
    static func checkProof(_ object: [String: Any], line: Int, into result: inout AuditVerification) {
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
