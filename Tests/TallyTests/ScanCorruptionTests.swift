import Foundation
import Tally
import TallyTesting
import Testing

/// A scan that checks checksums on a second thread (``EventLog/forEachRecord(fromPosition:through:pageSize:releasingPages:checksumsAside:progress:_:)``,
/// the audit export's) names the same first bad position as the scan that checks each record
/// itself, for bits flipped anywhere in a record, and hands `body` nothing past the page
/// that holds it.
@Suite struct ScanCorruptionTests {
    static let events = 3_000
    static let pageSize = 512

    @Test func checksumsAsideNameTheSamePositionAsTheInlineCheck() async throws {
        try await withTemporaryDirectory(prefix: "tally-scan-corrupt") { dir in
            let pristine = dir.path + "/pristine"
            let ledger = try await Ledger.open(at: pristine, configuration: LogConfiguration(createIfMissing: true))
            // One append: every record on exactly one live page (see CorruptionTests).
            let events = (0..<Self.events).map { index in
                ProposedEvent(type: "test.marked", payload: Array(String(format: "{\"marker\":\"M%06d\"}", index).utf8))
            }
            _ = try await ledger.log.append(to: "corrupt-me", events: events)
            try await ledger.log.checkpointIndex()
            await ledger.close()
            let original = try Data(contentsOf: URL(fileURLWithPath: pristine + "/log/data.mdb"))

            for trial in 0..<12 {
                let index = Int.random(in: 0..<Self.events)
                let found = try #require(original.range(of: Data(String(format: "M%06d", index).utf8)))
                // Record layout (docs/format.md): header 64, stream id, type, no metadata, payload, trailer 16.
                let payloadStart = found.lowerBound - "{\"marker\":\"".utf8.count
                let recordStart = payloadStart - 64 - "corrupt-me".utf8.count - "test.marked".utf8.count
                // Past the header's lengths (a changed length can make it another record's
                // neighbour's problem): the position and everything after it.
                let offset = Int.random(in: (recordStart + 8)..<(payloadStart + events[index].payload.count + 16))
                var damaged = original
                damaged[offset] ^= UInt8(1) << UInt8.random(in: 0...7)
                let copy = dir.path + "/trial-\(trial)"
                try FileManager.default.createDirectory(atPath: copy + "/log", withIntermediateDirectories: true)
                try damaged.write(to: URL(fileURLWithPath: copy + "/log/data.mdb"))

                let log = try await EventLog.open(at: copy, configuration: LogConfiguration(readOnly: true))
                var positions: [Bool: UInt64] = [:]
                for aside in [false, true] {
                    var seen: UInt64 = 0
                    do {
                        try log.forEachRecord(fromPosition: 1, through: log.headPosition, pageSize: Self.pageSize, checksumsAside: aside) { view in
                            seen = view.position
                        }
                        Issue.record("trial \(trial): the scan (aside: \(aside)) found nothing wrong with byte \(offset - recordStart) of position \(index + 1)")
                    } catch let error as LogError {
                        #expect(error.code == .corruption, "\(error)")
                        positions[aside] = error.position
                    }
                    let pageEnd = (UInt64(index) / UInt64(Self.pageSize) + 1) * UInt64(Self.pageSize)
                    #expect(seen <= pageEnd, "trial \(trial): body saw position \(seen), past the bad record's page")
                }
                #expect(positions[false] == UInt64(index + 1), "trial \(trial): flipped byte \(offset - recordStart) of position \(index + 1): \(positions)")
                #expect(positions[true] == positions[false], "trial \(trial): \(positions)")
                await log.close()
                try? FileManager.default.removeItem(atPath: copy)
            }
        }
    }
}
