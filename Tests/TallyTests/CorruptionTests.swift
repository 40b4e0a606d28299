import Foundation
import Tally
import TallyTesting
import Testing

/// Flips single bits inside record bytes of a closed data file and checks that `tally
/// verify` (a real process, which scans in a child process of its own) names the damaged
/// position every time, and that nothing crashes the parent.
@Suite struct CorruptionTests {
    static let events = 2_000

    @Test func verifyNamesThePositionOfEveryFlippedBit() async throws {
        try await withTemporaryDirectory(prefix: "tally-corrupt") { dir in
            let pristine = dir.path + "/pristine"
            let ledger = try await Ledger.open(at: pristine, configuration: LogConfiguration(createIfMissing: true))
            // One append: one write transaction, so every record is on exactly one live page
            // (later commits would leave stale copies of the last leaf in free pages).
            let events = (0..<Self.events).map { index in
                ProposedEvent(type: "test.marked", payload: Array(String(format: "{\"marker\":\"M%06d\"}", index).utf8))
            }
            _ = try await ledger.log.append(to: "corrupt-me", events: events)
            await ledger.close()
            let original = try Data(contentsOf: URL(fileURLWithPath: pristine + "/log/data.mdb"))
            let tally = BuiltProducts.executable("tally")

            for trial in 0..<20 {
                let index = Int.random(in: 0..<Self.events)
                let marker = Data(String(format: "M%06d", index).utf8)
                let found = try #require(original.range(of: marker))
                #expect(original.range(of: marker, in: found.upperBound..<original.endIndex) == nil, "marker appears twice")
                // Record layout (docs/format.md): header 64, stream id, type, no metadata, payload, trailer 16.
                let payloadStart = found.lowerBound - "{\"marker\":\"".utf8.count
                let recordStart = payloadStart - 64 - "corrupt-me".utf8.count - "test.marked".utf8.count
                let recordEnd = payloadStart + events[index].payload.count + 16
                let offset = Int.random(in: recordStart..<recordEnd)
                var damaged = original
                damaged[offset] ^= UInt8(1) << UInt8.random(in: 0...7)

                let copy = dir.path + "/trial-\(trial)"
                try FileManager.default.createDirectory(atPath: copy + "/log", withIntermediateDirectories: true)
                try damaged.write(to: URL(fileURLWithPath: copy + "/log/data.mdb"))
                let result = try await runProcess(tally, ["verify", "--data", copy, "--json"])
                #expect(result.status == 1, "trial \(trial): verify exited \(result.status): \(result.standardError)")
                let report = try #require(
                    try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
                #expect(report["clean"] as? Bool == false)
                #expect(
                    report["first_bad_position"] as? Int == index + 1,
                    "trial \(trial): flipped byte \(offset - recordStart) of position \(index + 1), verify said \(report)")
                try? FileManager.default.removeItem(atPath: copy)
            }
        }
    }

    @Test func cleanLogVerifiesWithExitZero() async throws {
        try await withTemporaryDirectory(prefix: "tally-clean") { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true))
            _ = try await ledger.log.append(to: "s", events: [ProposedEvent(type: "a.b", payload: Array("{}".utf8))])
            await ledger.close()
            let result = try await runProcess(BuiltProducts.executable("tally"), ["verify", "--data", dir.path])
            #expect(result.status == 0)
            #expect(result.standardOutput.hasPrefix("clean: 1 records"))
        }
    }
}
