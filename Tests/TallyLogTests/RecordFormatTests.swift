import Foundation
import Testing
@testable import TallyLog

@Suite struct RecordFormatTests {
    static var fixtures: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures")
    }

    /// The event behind fixtures/record-v1-*.bin, fixed in every field.
    static func goldenRecord() throws -> [UInt8] {
        let id = try #require(UUID(uuidString: "0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f0"))
        let proposed = ProposedEvent(
            id: id, type: "transfer.posted",
            payload: Array(#"{"amount":"2500","currency":"APX","from":"treasury","to":"agent-007"}"#.utf8),
            metadata: EventMetadata(actor: "payroll", correlationID: "run-2026-11", extra: ["region": "eu"]))
        let prepared = try Validation.event(proposed)
        return RecordEncoder.encode(
            position: 42, streamVersion: 3, recordedAt: 1_795_000_000_123_456_789, streamID: "transfer-payroll-007",
            event: prepared, previousChecksum: 0x0123_4567_89ab_cdef)
    }

    @Test func goldenRecordDecodesAndReencodesByteForByte() throws {
        let path = Self.fixtures.appendingPathComponent("record-v1-transfer.bin")
        if ProcessInfo.processInfo.environment["TALLY_WRITE_FIXTURES"] == "1" {
            // Only when the format version changes on purpose: regenerate, review, commit.
            try Data(try Self.goldenRecord()).write(to: path)
        }
        let golden = try Data(contentsOf: Self.fixtures.appendingPathComponent("record-v1-transfer.bin"))
        let encoded = try Self.goldenRecord()
        #expect(Array(golden) == encoded, "encoding changed: format v1 is frozen; bump the format version instead")
        try golden.withUnsafeBytes { bytes in
            let view = try RecordView(bytes)
            #expect(view.computeChecksum() == view.storedChecksum)
            let event = try view.decode()
            #expect(event.position == 42)
            #expect(event.streamID == "transfer-payroll-007")
            #expect(event.streamVersion == 3)
            #expect(event.type == "transfer.posted")
            #expect(event.recordedAtNanoseconds == 1_795_000_000_123_456_789)
            #expect(event.metadata.actor == "payroll")
            #expect(event.metadata.correlationID == "run-2026-11")
            #expect(event.metadata.extra == ["region": "eu"])
            #expect(event.previousChecksum == 0x0123_4567_89ab_cdef)
            #expect(event.id.uuidString == "0F1E2D3C-4B5A-4978-8695-A4B3C2D1E0F0")
        }
    }

    @Test func headerFieldsSitWhereFormatMdSays() throws {
        let bytes = try Self.goldenRecord()
        func le<T: FixedWidthInteger>(_ offset: Int, _: T.Type) -> T {
            bytes[offset..<(offset + MemoryLayout<T>.size)].reversed().reduce(T(0)) { $0 << 8 | T($1) }
        }
        #expect(le(0, UInt32.self) == UInt32(bytes.count))
        #expect(le(4, UInt16.self) == 1)
        #expect(le(6, UInt16.self) == RecordLayout.payloadIsJSONFlag, "the payload is JSON: flag bit 0")
        #expect(le(8, UInt64.self) == 42)
        #expect(le(16, UInt64.self) == 3)
        #expect(le(48, UInt16.self) == UInt16("transfer-payroll-007".utf8.count))
        #expect(le(50, UInt16.self) == UInt16("transfer.posted".utf8.count))
        #expect(Array(bytes[64..<84]) == Array("transfer-payroll-007".utf8))
        #expect(le(bytes.count - 16, UInt64.self) == 0x0123_4567_89ab_cdef)
    }

    /// fixtures/record-v1-transfer-unflagged.bin is the golden record as it was written before
    /// flag bit 0 existed: it still decodes, its checksum holds, and it differs from today's
    /// encoding only in the flags and the checksum.
    @Test func aRecordWrittenBeforeThePayloadFlagStillReads() throws {
        let old = Array(try Data(contentsOf: Self.fixtures.appendingPathComponent("record-v1-transfer-unflagged.bin")))
        let current = try Self.goldenRecord()
        #expect(old.count == current.count)
        let differing = Set(zip(old, current).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset))
        #expect(differing.isSubset(of: Set([6]).union(Set((old.count - 8)..<old.count))), "\(differing.sorted())")
        try old.withUnsafeBytes { bytes in
            let view = try RecordView(bytes)
            #expect(view.computeChecksum() == view.storedChecksum)
            #expect(view.flags == 0 && !view.payloadIsCheckedJSON)
            #expect(try view.decode().type == "transfer.posted")
        }
    }

    @Test func onlyAJSONPayloadIsFlagged() throws {
        for (payload, json) in [("{\"a\":1}", true), (" [1, 2] ", true), ("\"text\"", true), ("plain text", false), ("{\"a\":}", false), ("", false)] {
            let prepared = try Validation.event(ProposedEvent(type: "sample.made", payload: Array(payload.utf8)))
            let record = RecordEncoder.encode(position: 1, streamVersion: 0, recordedAt: 1, streamID: "s", event: prepared, previousChecksum: 0)
            let flagged = try record.withUnsafeBytes { bytes throws -> Bool in try RecordView(bytes).payloadIsCheckedJSON }
            #expect(flagged == json, "\(payload)")
        }
        let notUTF8 = try Validation.event(ProposedEvent(type: "sample.made", payload: [UInt8(ascii: "\""), 0xFF, UInt8(ascii: "\"")]))
        #expect(notUTF8.flags == 0)
    }

    @Test func everySingleBitFlipIsDetected() throws {
        let bytes = try Self.goldenRecord()
        for offset in 0..<bytes.count {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[offset] ^= UInt8(1) << bit
                let detected = damaged.withUnsafeBytes { raw -> Bool in
                    guard let view = try? RecordView(raw) else { return true }
                    return view.computeChecksum() != view.storedChecksum
                }
                #expect(detected, "flip at byte \(offset) bit \(bit) went unnoticed")
            }
        }
    }

    @Test func truncatedAndGarbageRecordsAreMalformedNotCrashes() throws {
        let bytes = try Self.goldenRecord()
        for length in [0, 1, 15, 63, 79, bytes.count - 1] {
            let prefix = Array(bytes.prefix(length))
            #expect(throws: RecordView.Malformed.self) { try prefix.withUnsafeBytes { _ = try RecordView($0) } }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2_000 {
            var garbage = (0..<Int.random(in: 80...400, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let length = UInt32(garbage.count)
            garbage.withUnsafeMutableBytes { $0.storeBytes(of: length.littleEndian, as: UInt32.self) }
            garbage.withUnsafeBytes { raw in
                if let view = try? RecordView(raw) { _ = try? view.decode() }
            }
        }
    }
}
