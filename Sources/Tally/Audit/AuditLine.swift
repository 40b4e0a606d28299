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
    /// payload (the JSON value, or a string if the payload is not JSON), checksum and
    /// previous_checksum (XXH3-64 hex), and with proof the record bytes in base64.
    static func jsonl(_ event: RecordedEvent, record: [UInt8]?) -> [UInt8] {
        var object: [String: Any] = [
            "position": event.position, "stream": event.streamID, "stream_version": event.streamVersion,
            "event_id": event.id.uuidString.lowercased(), "type": event.type, "recorded_at": self.rfc3339(event.recordedAtNanoseconds),
            "metadata": self.metadata(event), "payload": self.payload(event),
            "checksum": XXH3.hex(event.checksum), "previous_checksum": XXH3.hex(event.previousChecksum),
        ]
        if let record { object["record"] = Data(record).base64EncodedString() }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Array(data) + [UInt8(ascii: "\n")]
    }

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

    static func rfc3339(_ nanoseconds: UInt64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let fraction = String(nanoseconds % 1_000_000_000)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%@Z", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
            Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), String(repeating: "0", count: 9 - fraction.count) + fraction)
    }
}
