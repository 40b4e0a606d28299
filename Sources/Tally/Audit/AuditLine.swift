import Foundation
import TallyChecksum

/// One event as a line of an audit export.
enum AuditLine {
    static let csvColumns = [
        "position", "recorded_at", "stream", "type", "actor", "amount", "currency", "debit_account", "credit_account",
        "service", "version", "environment", "component", "status", "payload",
    ]

    static var csvHeader: [UInt8] { Array((Self.csvColumns.joined(separator: ",") + "\r\n").utf8) }

    /// JSONL: position, stream, stream_version, event_id, type, recorded_at, metadata,
    /// payload (the JSON value as stored; a string if the payload is not JSON), checksum
    /// and previous_checksum (XXH3-64 hex), and with proof the record bytes in base64.
    /// Keys in sorted order, written by hand: `JSONSerialization` with sorted keys spent
    /// 80% of an export sorting them through locale-aware string comparison.
    static func jsonl(_ event: RecordedEvent, record: [UInt8]?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256 + event.payload.count + (record?.count ?? 0) * 4 / 3)
        func key(_ name: String, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            self.quote(name, into: &out)
            out.append(UInt8(ascii: ":"))
        }
        out.append(UInt8(ascii: "{"))
        key("checksum", first: true)
        self.quote(XXH3.hex(event.checksum), into: &out)
        key("event_id")
        self.quote(event.id.uuidString.lowercased(), into: &out)
        key("metadata")
        out.append(UInt8(ascii: "{"))
        for (index, entry) in self.metadata(event).sorted(by: { $0.key < $1.key }).enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            self.quote(entry.key, into: &out)
            out.append(UInt8(ascii: ":"))
            self.quote(entry.value, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        key("payload")
        if JSONSyntax.isValid(event.payload) {
            out.append(contentsOf: event.payload)
        } else {
            self.quote(String(decoding: event.payload, as: UTF8.self), into: &out)
        }
        key("position")
        out.append(contentsOf: String(event.position).utf8)
        key("previous_checksum")
        self.quote(XXH3.hex(event.previousChecksum), into: &out)
        if let record {
            key("record")
            self.quote(Data(record).base64EncodedString(), into: &out)
        }
        key("recorded_at")
        self.quote(self.rfc3339(event.recordedAtNanoseconds), into: &out)
        key("stream")
        self.quote(event.streamID, into: &out)
        key("stream_version")
        out.append(contentsOf: String(event.streamVersion).utf8)
        key("type")
        self.quote(event.type, into: &out)
        out.append(contentsOf: [UInt8(ascii: "}"), UInt8(ascii: "\n")])
        return out
    }

    /// A JSON string: quotes, backslashes and control characters escaped. Runs that need no
    /// escape (nearly everything) are copied whole.
    static func quote(_ value: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { bytes in
            var start = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                out.append(UInt8(ascii: "\\"))
                if byte < 0x20 {
                    out.append(contentsOf: [UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), Self.hex[Int(byte >> 4)], Self.hex[Int(byte & 0xF)]])
                } else {
                    out.append(byte)
                }
                start = index + 1
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static let hex = Array("0123456789abcdef".utf8)

    /// CSV (RFC 4180): the common columns, flattened domain fields, the payload as JSON.
    static func csv(_ event: RecordedEvent) -> [UInt8] {
        let fields = (try? JSONSerialization.jsonObject(with: Data(event.payload))) as? [String: Any] ?? [:]
        func field(_ key: String) -> String { (fields[key] as? String) ?? (fields[key] as? NSNumber)?.stringValue ?? "" }
        let cells = [
            String(event.position), self.rfc3339(event.recordedAtNanoseconds), event.streamID, event.type, event.metadata.actor ?? "",
            field("amount"), field("currency"), field("debit_account"), field("credit_account"),
            field("service"), field("version"), field("environment"), field("component"), field("status"),
            String(decoding: event.payload, as: UTF8.self),
        ]
        return Array((cells.map(self.csvCell).joined(separator: ",") + "\r\n").utf8)
    }

    /// Quotes a cell when needed, and neutralises one a spreadsheet would run as a formula
    /// (starting with = + - @, tab or CR) by prefixing a single quote.
    static func csvCell(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r"].contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func payload(_ event: RecordedEvent) -> Any {
        (try? JSONSerialization.jsonObject(with: Data(event.payload), options: [.fragmentsAllowed])) ?? String(decoding: event.payload, as: UTF8.self)
    }

    static func metadata(_ event: RecordedEvent) -> [String: String] {
        var metadata: [String: String] = [:]
        for (key, value) in event.metadata.entries { metadata[key] = value }
        return metadata
    }

    static func rfc3339(_ nanoseconds: UInt64) -> String { RFC3339.format(nanoseconds: nanoseconds) }
}
