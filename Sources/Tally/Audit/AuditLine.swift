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
    /// payload (the JSON value as stored, unparsed when its record says it was checked at
    /// append (``RecordView/payloadIsCheckedJSON``); a string if it is not JSON), checksum
    /// and previous_checksum (XXH3-64 hex), and with proof the record bytes in base64.
    ///
    /// Keys in sorted order, written straight from the record's bytes into `out`: no
    /// decoded event, no `String`s, no `JSONSerialization` (which, with sorted keys, spent
    /// 80% of an export comparing keys through locale-aware string comparison).
    ///
    /// - Throws: ``LogError`` `corruption` when the stream, type or metadata is not UTF-8
    ///   or the metadata is malformed (the append path never writes such a record).
    static func jsonl(_ view: RecordView, withProof: Bool, into out: inout LineBuffer) throws(LogError) {
        out.put("{\"checksum\":\"")
        out.putHex(view.storedChecksum)
        out.put("\",\"event_id\":\"")
        out.putUUID(view.eventIDBytes)
        out.put("\",\"metadata\":{")
        var separator = false
        var text = true
        let wellFormed = view.forEachMetadataEntry { key, value in
            if separator { out.put(UInt8(ascii: ",")) }
            separator = true
            text = out.putQuoted(key) && text
            out.put(UInt8(ascii: ":"))
            text = out.putQuoted(value) && text
        }
        guard wellFormed, text else { throw Self.malformed(view, "its metadata is malformed or not UTF-8") }
        out.put("},\"payload\":")
        let payload = view.payloadBytes
        if view.payloadIsCheckedJSON || JSONSyntax.isValid(payload) {
            out.put(payload)
        } else {
            let start = out.count
            if !out.putQuoted(payload) {  // not UTF-8: replacement characters, as `String(decoding:)` makes them
                out.truncate(to: start)
                out.putQuoted(String(decoding: payload, as: UTF8.self))
            }
        }
        out.put(",\"position\":")
        out.putDecimal(view.position)
        out.put(",\"previous_checksum\":\"")
        out.putHex(view.previousChecksum)
        if withProof {
            out.put("\",\"record\":\"")
            out.putBase64(view.bytes)
        }
        out.put("\",\"recorded_at\":\"")
        out.putRFC3339(view.recordedAtNanoseconds)
        out.put("\",\"stream\":")
        guard out.putQuoted(view.streamIDBytes) else { throw Self.malformed(view, "its stream id is not UTF-8") }
        out.put(",\"stream_version\":")
        out.putDecimal(view.streamVersion)
        out.put(",\"type\":")
        guard out.putQuoted(view.typeBytes) else { throw Self.malformed(view, "its type is not UTF-8") }
        out.put("}\n")
    }

    private static func malformed(_ view: RecordView, _ reason: String) -> LogError {
        LogError(.corruption, "record \(view.position) cannot be exported: \(reason)", position: view.position)
    }

    /// CSV (RFC 4180): the common columns, flattened domain fields, the payload as JSON,
    /// written from the record's bytes; `fields` is scratch space kept between lines. A
    /// payload whose wanted fields ``PayloadFields`` cannot read exactly goes through
    /// ``csv(_:)`` (Foundation) instead.
    static func csv(_ view: RecordView, fields: inout [Range<Int>?], into out: inout LineBuffer) throws(LogError) {
        let payload = view.payloadBytes
        let json = view.payloadIsCheckedJSON || JSONSyntax.isValid(payload)
        if json {
            guard PayloadFields.find(in: payload, into: &fields) else {
                out.put(Self.csv(try EventLog.decoded(view)))
                return
            }
        } else {
            for index in fields.indices { fields[index] = nil }
        }
        out.putDecimal(view.position)
        out.put(UInt8(ascii: ","))
        out.putRFC3339(view.recordedAtNanoseconds)
        out.put(UInt8(ascii: ","))
        guard JSONSyntax.isUTF8(view.streamIDBytes), JSONSyntax.isUTF8(view.typeBytes) else {
            throw Self.malformed(view, "its stream id or type is not UTF-8")
        }
        out.putCSVCell(view.streamIDBytes)
        out.put(UInt8(ascii: ","))
        out.putCSVCell(view.typeBytes)
        out.put(UInt8(ascii: ","))
        var text = true
        let wellFormed = view.forEachMetadataEntry { key, value in
            if "actor".utf8.elementsEqual(key) { out.putCSVCell(value) }
            text = text && JSONSyntax.isUTF8(key) && JSONSyntax.isUTF8(value)
        }
        guard wellFormed, text else { throw Self.malformed(view, "its metadata is malformed or not UTF-8") }
        for range in fields {
            out.put(UInt8(ascii: ","))
            if let range { out.putCSVCell(UnsafeRawBufferPointer(rebasing: payload[range])) }
        }
        out.put(UInt8(ascii: ","))
        if json || !payload.contains(where: { $0 >= 0x80 }) {
            out.putCSVCell(payload)  // valid JSON is valid UTF-8
        } else {
            var decoded = String(decoding: payload, as: UTF8.self)
            decoded.withUTF8 { out.putCSVCell(UnsafeRawBufferPointer($0)) }
        }
        out.put("\r\n")
    }

    /// CSV (RFC 4180) through Foundation: the common columns, flattened domain fields, the payload as JSON.
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
        var out = LineBuffer(capacity: value.utf8.count * 2 + 3)
        var value = value
        value.withUTF8 { out.putCSVCell(UnsafeRawBufferPointer($0)) }
        return String(decoding: out.bytes, as: UTF8.self)
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
