import Foundation
import Tally
@testable import TallyServer
import Testing

/// The events routes parse a body leaving each `payload` value unbuilt
/// (``JSONValue/Kind/unparsed``). That must accept exactly the bodies the full parse accepts,
/// refuse the others with the same code and message, and hand on the payload's exact bytes.
@Suite struct UnparsedPayloadTests {
    static let payloads = [
        #"{"amount":"2500","currency":"APX","memo":"café \"quoted\" \\ /"}"#, "[1, 2.5e3, -0, true, false, null]", "\"text\"", "0", " {} ",
        // Refused, or accepted only by the full parse's rules: each must come out the same.
        "01", "1.", "-", "truex", "{\"a\":1,}", "[1 2]", "\"\\uD800\"", "\"\\uD83D\\uDE00\"", "\"\\u00e9\"", "\"tab\tinside\"",
        "\"\\x\"", "{\"a\" 1}", "nul", "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
        String(repeating: "[", count: 28) + "1" + String(repeating: "]", count: 28),
        String(repeating: "[", count: 29) + "1" + String(repeating: "]", count: 29),
        String(repeating: "[", count: 30) + "1" + String(repeating: "]", count: 30),
    ]

    static func body(_ payload: String) -> [UInt8] {
        Array(#"{"events":[{"type":"sample.made","payload":"#.utf8) + Array(payload.utf8) + Array("}]}".utf8)
    }

    @Test(arguments: Self.payloads)
    func theQuickParseAcceptsAndRefusesAsTheFullParse(payload: String) throws {
        let bytes = Self.body(payload)
        let full = Result { () throws(APIProblem) -> JSONValue in try JSONValue.parse(bytes, depthMax: 32) }
        let quick = Result { () throws(APIProblem) -> JSONValue in try JSONValue.parse(bytes, depthMax: 32, unparsedKey: "payload") }
        switch (full, quick) {
        case (.success(let built), .success(let kept)):
            let builtPayload = try #require(try Self.payloadValue(built))
            let keptPayload = try #require(try Self.payloadValue(kept))
            guard case .unparsed = keptPayload.kind else {
                // Only a payload holding a \u escape, or whose scalars lie one level past the
                // deepest container allowed (the quick check counts them), is parsed in full.
                #expect(payload.contains("\\u") || payload.hasPrefix(String(repeating: "[", count: 29)), "\(payload) was built, not kept as bytes")
                return
            }
            #expect(keptPayload.range == builtPayload.range)
            let append = try TallyAPI.streamAppend(stream: "s", try JSONObject(kept), source: bytes, base: EventMetadata())
            #expect(append.events.first?.payload == Array(bytes[builtPayload.range]))
        case (.failure(let expected), .failure(let got)):
            #expect(got.code == expected.code && got.detail == expected.detail, "\(payload)")
        case (.success, .failure(let got)):
            Issue.record("\(payload): the quick parse refused what the full parse accepts: \(got.detail)")
        case (.failure(let expected), .success):
            Issue.record("\(payload): the quick parse accepted what the full parse refuses: \(expected.detail)")
        }
    }

    static func payloadValue(_ body: JSONValue) throws -> JSONValue? {
        let events = try JSONObject(body).requiredArray("events")
        return try events.first.map { try JSONObject($0).fields["payload"] } ?? nil
    }
}
