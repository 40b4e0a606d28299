import Foundation
@testable import Tally
import Testing

/// The hand-written parts of the audit export's line writer agree with Foundation: the JSON
/// syntax check with `JSONSerialization` (but strict RFC 8259: no trailing commas), the time format with `ISO8601DateFormatter`, and
/// quoting produces strings JSON parsers read back unchanged.
@Suite struct AuditLineTests {
    static let samples: [String] = [
        "{}", "[]", "0", "-0", "1.5e10", "-12.25E-3", "\"text\"", "true", "false", "null", " {\"a\" : [1, 2, {\"b\": null}]} ",
        #"{"amount":"500","memo":"caf\u00e9 \"quoted\" \\ / \n"}"#, "{\"é\":\"ü\"}", "[1,2,3,]", "{\"a\":}", "{\"a\" 1}", "01", "1.", ".5", "1e",
        "-", "tru", "nul", "\"unterminated", "\"bad \\x escape\"", "\"\\u12G4\"", "{\"a\":1}}", "[", "{", "\"tab\tinside\"", "", "   ",
        "{\"a\":1,}", "[1 2]", "+1", "NaN", "{\"nested\":[[[[[]]]]]}",
    ]

    @Test func theSyntaxCheckAgreesWithJSONSerialization() {
        // Foundation also takes a trailing comma; RFC 8259 (and this check) does not.
        let lenientInFoundation: Set = ["[1,2,3,]", "{\"a\":1,}"]
        for sample in Self.samples {
            let bytes = Array(sample.utf8)
            let foundation = (try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed])) != nil
            let expected = lenientInFoundation.contains(sample) ? false : foundation
            #expect(JSONSyntax.isValid(bytes) == expected, "\(sample): expected \(expected)")
        }
        // Invalid UTF-8 inside a string is not JSON text.
        #expect(!JSONSyntax.isValid([UInt8(ascii: "\""), 0xFF, 0xFE, UInt8(ascii: "\"")]))
    }

    @Test func timesMatchISO8601AndQuotedStringsReadBack() throws {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for nanoseconds: UInt64 in [0, 1, 999_999_999, 1_764_547_201_123_456_789, 4_102_444_799_999_999_999, 951_782_400_000_000_000] {
            let text = RFC3339.format(nanoseconds: nanoseconds)
            #expect(text.count == 30 && text.hasSuffix("Z"), "\(text)")
            let parsed = try #require(formatter.date(from: text), "\(text)")
            #expect(abs(parsed.timeIntervalSince1970 - Double(nanoseconds) / 1e9) < 0.002, "\(text)")
        }
        for value in ["plain", "with \"quotes\" and \\ backslash", "line\nbreak\ttab\u{01}", "ünïcødé ✓", ""] {
            var out = LineBuffer(capacity: 1)
            out.putQuoted(value)
            let back = try JSONSerialization.jsonObject(with: Data(Array(out.bytes)), options: [.fragmentsAllowed]) as? String
            #expect(back == value)
        }
    }

    /// A record written before the payload flag existed (fixtures/record-v1-transfer-unflagged.bin)
    /// has its payload checked by the export itself and written as JSON, like a flagged one.
    @Test func unflaggedAndFlaggedRecordsExportTheSamePayload() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures")
        var payloads: [NSDictionary] = []
        for name in ["record-v1-transfer-unflagged.bin", "record-v1-transfer.bin"] {
            let record = try Data(contentsOf: fixtures.appendingPathComponent(name))
            let line = try record.withUnsafeBytes { bytes -> [UInt8] in
                let view = try RecordView(bytes)
                #expect(view.payloadIsCheckedJSON == (name == "record-v1-transfer.bin"), "\(name)")
                var out = LineBuffer(capacity: 1)
                try AuditLine.jsonl(view, withProof: false, into: &out)
                return Array(out.bytes)
            }
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any])
            payloads.append(try #require(object["payload"] as? NSDictionary, "\(name): the payload is not a JSON object"))
        }
        #expect(payloads[0] == payloads[1])
        #expect(payloads[0]["amount"] as? String == "2500")
    }
}
