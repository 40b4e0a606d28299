import Foundation
@testable import Tally
import TallyChecksum
import TallyTesting
import Testing

/// The export's line writer works from record bytes, not decoded events: every field of
/// every line, read back by `JSONSerialization`, equals the decoded event, for the awkward
/// content an export meets (escapes, control characters, non-ASCII text, payloads that are
/// not JSON or not UTF-8, no metadata).
@Suite struct AuditLineFieldsTests {
    @Test func everyFieldOfALineEqualsTheDecodedEvent() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            let payloads: [[UInt8]] = [
                Array(#"{"amount":"500","memo":"caf\u00e9 \"q\" \\ / \n"}"#.utf8), Array("not json, \"quoted\"\n\u{01}".utf8),
                [0x7B, 0xFF, 0xFE, 0x7D], [], Array("ünïcødé ✓".utf8), Array("[1, 2.5e3, null, true]".utf8),
            ]
            let metadata: [EventMetadata] = [
                .empty, EventMetadata(actor: "agent \"7\"\t", correlationID: "c-1", extra: ["zeta": "ž", "alpha": "line\nbreak"]),
            ]
            for (index, payload) in payloads.enumerated() {
                _ = try await ledger.log.append(
                    to: "odd-\"stream\"-\(index)-é",
                    events: [ProposedEvent(type: "note.added", payload: payload, metadata: metadata[index % metadata.count])])
            }
            let path = dir.path + "/odd.jsonl"
            _ = try ledger.exportAudit(to: path, format: .jsonl, filter: AuditFilter(), withProof: true)
            let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
            let events = try ledger.log.read(fromPosition: 1, limit: 100)
            #expect(lines.count == events.count)
            for (line, event) in zip(lines, events) {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
                #expect(object["position"] as? Int == Int(event.position))
                #expect(object["stream"] as? String == event.streamID)
                #expect(object["stream_version"] as? Int == Int(event.streamVersion))
                #expect(object["event_id"] as? String == event.id.uuidString.lowercased())
                #expect(object["type"] as? String == event.type)
                #expect(object["recorded_at"] as? String == RFC3339.format(nanoseconds: event.recordedAtNanoseconds))
                #expect(object["checksum"] as? String == XXH3.hex(event.checksum))
                #expect(object["previous_checksum"] as? String == XXH3.hex(event.previousChecksum))
                var expectedMetadata: [String: String] = [:]
                for entry in event.metadata.entries { expectedMetadata[entry.key] = entry.value }
                #expect(object["metadata"] as? [String: String] == expectedMetadata)
                let payload = object["payload"].flatMap { try? JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed, .sortedKeys]) }
                let expected = (try? JSONSerialization.jsonObject(with: Data(event.payload), options: [.fragmentsAllowed]))
                    ?? String(decoding: event.payload, as: UTF8.self)
                #expect(payload == (try? JSONSerialization.data(withJSONObject: expected, options: [.fragmentsAllowed, .sortedKeys])), "\(line)")
                let record = try #require((object["record"] as? String).flatMap { Data(base64Encoded: $0) })
                #expect(try EventLog.decodeRecord(Array(record)) == event)
            }
            #expect(try Ledger.verifyAuditExport(at: path, against: ledger.log).isValid)
        }
    }

    @Test func numbersHashesIDsTimesAndBase64MatchFoundation() throws {
        var out = LineBuffer(capacity: 1)
        var powers: [UInt64] = []
        var power: UInt64 = 1
        for _ in 0..<20 {
            powers += [power - 1, power, power + 1]
            power = power.multipliedReportingOverflow(by: 10).partialValue
        }
        var random = SystemRandomNumberGenerator()
        for value: UInt64 in [0, 9, 10, 99, 100, 1_234_567_890, UInt64.max] + powers + (0..<200).map({ _ in UInt64.random(in: 0...UInt64.max, using: &random) }) {
            out.removeAll()
            out.putDecimal(value)
            #expect(String(decoding: out.bytes, as: UTF8.self) == String(value))
            out.removeAll()
            out.putHex(value)
            #expect(String(decoding: out.bytes, as: UTF8.self) == XXH3.hex(value))
        }
        for _ in 0..<20 {
            let id = UUID()
            out.removeAll()
            withUnsafeBytes(of: id.uuid) { out.putUUID($0) }
            #expect(String(decoding: out.bytes, as: UTF8.self) == id.uuidString.lowercased())
        }
        for length in 0..<12 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 250) }
            out.removeAll()
            bytes.withUnsafeBytes { out.putBase64($0) }
            #expect(String(decoding: out.bytes, as: UTF8.self) == Data(bytes).base64EncodedString())
        }
        // Civil dates from the day count agree with the C library, leap days and centuries included.
        var generator = SystemRandomNumberGenerator()
        let samples: [UInt64] = [0, 951_782_400, 951_868_799, 4_102_444_799, 1_709_164_800, 16_725_225_600] + (0..<2_000).map { _ in UInt64.random(in: 0..<(1 << 34), using: &generator) }
        for seconds in samples {
            var time = time_t(seconds)
            var parts = tm()
            gmtime_r(&time, &parts)
            let expected = String(
                format: "%04d-%02d-%02dT%02d:%02d:%02d.000000007Z", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec)
            #expect(RFC3339.format(nanoseconds: seconds * 1_000_000_000 + 7) == expected)
        }
        // The line writer keeps the second it wrote last and formats only the fraction of
        // the next time in that second.
        for nanoseconds: UInt64 in [1_764_547_201_000_000_000, 1_764_547_201_000_000_001, 1_764_547_201_999_999_999, 1_764_547_202_123_456_789, 1_764_547_202_5] {
            out.removeAll()
            out.putRFC3339(nanoseconds)
            #expect(String(decoding: out.bytes, as: UTF8.self) == RFC3339.format(nanoseconds: nanoseconds))
        }
    }

    /// The word-at-a-time scans (eight bytes per step) miss no byte that needs a look,
    /// wherever it falls in the word.
    @Test func quotingAndTheSyntaxCheckSeeEveryByteOfALongString() throws {
        let alphabet: [String] = ["a", "Z", "0", " ", "\"", "\\", "\n", "\t", "\u{01}", "\u{1F}", "é", "✓", "/", "~", "\u{7F}"]
        var generator = SystemRandomNumberGenerator()
        for round in 0..<1_000 {
            // Half of them: a long plain run with at most one character that needs a look, so
            // the 16- and 8-byte steps and every tail length meet it at every offset.
            let value = round % 2 == 0
                ? (0..<Int.random(in: 0..<40, using: &generator)).map { _ in alphabet.randomElement(using: &generator) ?? "a" }.joined()
                : String(repeating: "x", count: Int.random(in: 0..<40, using: &generator)) + (alphabet.randomElement(using: &generator) ?? "a")
                    + String(repeating: "y", count: Int.random(in: 0..<40, using: &generator))
            var out = LineBuffer(capacity: 1)
            out.putQuoted(value)
            let bytes = Array(out.bytes)
            #expect(try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? String == value)
            #expect(JSONSyntax.isValid(bytes))
            // The same text with one raw control character or quote inside is not a JSON string.
            if bytes.count > 2 {
                for bad: UInt8 in [0x0A, 0x01, UInt8(ascii: "\"")] {
                    var broken = bytes
                    broken.insert(bad, at: Int.random(in: 1..<(bytes.count - 1), using: &generator))
                    let foundation = (try? JSONSerialization.jsonObject(with: Data(broken), options: [.fragmentsAllowed])) != nil
                    #expect(JSONSyntax.isValid(broken) == foundation, "\(String(decoding: broken, as: UTF8.self))")
                }
            }
        }
    }

    /// The CSV line written from record bytes equals the one Foundation's parser builds, for
    /// every payload shape: flattened fields as strings, integers, escapes, fractions,
    /// booleans, nulls and nesting, whitespace, non-objects, non-JSON and non-UTF-8 bytes.
    @Test func csvFromBytesEqualsCSVThroughFoundation() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            let payloads: [String] = [
                #"{"transfer":"t1","debit_account":"a","credit_account":"b","amount":"500","currency":"APX","memo":"x, \"y\""}"#,
                #"{ "amount" : 500 , "currency" : "APX" }"#, #"{"amount":-42,"status":"healthy"}"#, #"{"amount":1.5}"#,
                #"{"amount":true,"service":"api"}"#, #"{"amount":null,"version":{"a":[1,2,{"b":"}"}]},"environment":"prod"}"#,
                #"{"service":"caf\u00e9","component":"db"}"#, #"{"status":"=cmd|' /C calc'!A0","component":"-1+2"}"#,
                #"{"service":"line\nbreak"}"#, #"{"nested":{"amount":"9"},"amount":"1"}"#, #"[1,2]"#, #""text""#, "12",
                "not json", #"{"service":"a\r\nb"}"#, "raw\r\nCRLF", "{\"amount\":\"1\",\"amount\":\"2\"}", #"{"a":"\"}","service":"s"}"#,
                #"{"amount":123456789012345678901234}"#, "{}", "",
            ]
            var all: [[UInt8]] = payloads.map { Array($0.utf8) }
            all.append([0x7B, 0xFF, 0x7D])
            for (index, payload) in all.enumerated() {
                _ = try await ledger.log.append(
                    to: index % 2 == 0 ? "note-\(index)" : "=odd,\"stream\"-\(index)",
                    events: [ProposedEvent(type: "note.added", payload: payload, metadata: EventMetadata(actor: index % 3 == 0 ? "+agent,\"1\"" : "ops"))])
            }
            var fields = [Range<Int>?](repeating: nil, count: PayloadFields.keys.count)
            var lines: [(fast: String, foundation: String)] = []
            try ledger.log.forEachRecord(fromPosition: 1, through: ledger.log.headPosition) { view in
                var out = LineBuffer(capacity: 1)
                try AuditLine.csv(view, fields: &fields, into: &out)
                lines.append((String(decoding: out.bytes, as: UTF8.self), String(decoding: AuditLine.csv(try EventLog.decoded(view)), as: UTF8.self)))
            }
            #expect(lines.count == all.count)
            for line in lines { #expect(line.fast == line.foundation) }
            // Verify reads a line end inside a quoted cell (the raw CRLF payload) as part of the cell.
            _ = try ledger.exportAudit(to: dir.path + "/odd.csv", format: .csv, filter: AuditFilter())
            let csv = try Ledger.verifyAuditExport(at: dir.path + "/odd.csv", against: ledger.log)
            #expect(csv.isValid && csv.linesChecked == all.count, "\(csv.problems)")
            _ = try ledger.exportAudit(to: dir.path + "/odd.jsonl", format: .jsonl, filter: AuditFilter(), withProof: true)
            let jsonl = try Ledger.verifyAuditExport(at: dir.path + "/odd.jsonl", against: ledger.log)
            #expect(jsonl.isValid && jsonl.linesChecked == all.count, "\(jsonl.problems)")
        }
    }
}
