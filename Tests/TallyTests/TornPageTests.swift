import Foundation
import Tally
import TallyTesting
import Testing

/// Torn, misdirected and lost writes simulated on a copy of a closed data file: a record
/// page zeroed, half of it zeroed (a torn write), another page's bytes written over it (a
/// misdirected write), and the file cut short. `tally verify` (a real process that scans in
/// a child of its own) must report each one as damage, exit non-zero, and never report the
/// damaged copy clean.
@Suite struct TornPageTests {
    enum Damage: String, CaseIterable, Sendable {
        case zeroedPage, tornHalfPage, misdirectedPage, truncatedFile
    }

    static let pageSize = 4_096
    static let events = 3_000

    @Test(arguments: Damage.allCases)
    func verifyReportsTheDamage(damage: Damage) async throws {
        try await withTemporaryDirectory(prefix: "tally-torn") { dir in
            let pristine = dir.path + "/pristine"
            let ledger = try await Ledger.open(at: pristine, configuration: LogConfiguration(createIfMissing: true))
            // One append: every record is on exactly one live page (see CorruptionTests).
            let events = (0..<Self.events).map { index in
                ProposedEvent(type: "test.marked", payload: Array(String(format: "{\"marker\":\"M%06d\",\"pad\":\"%@\"}", index, String(repeating: "p", count: 120)).utf8))
            }
            _ = try await ledger.log.append(to: "torn", events: events)
            await ledger.close()
            let original = try Data(contentsOf: URL(fileURLWithPath: pristine + "/log/data.mdb"))
            // Two record pages far apart: the pages holding the markers of two records.
            func page(of index: Int) throws -> Int {
                let found = try #require(original.range(of: Data(String(format: "M%06d", index).utf8)))
                return found.lowerBound / Self.pageSize
            }
            let victim = try page(of: Int.random(in: 100..<1_400))
            let donor = try page(of: Int.random(in: 1_600..<2_900))
            #expect(victim != donor)

            var damaged = original
            let start = victim * Self.pageSize
            switch damage {
            case .zeroedPage:
                damaged.replaceSubrange(start..<start + Self.pageSize, with: Data(count: Self.pageSize))
            case .tornHalfPage:
                let half = Self.pageSize / 2
                damaged.replaceSubrange(start + half..<start + Self.pageSize, with: Data(count: half))
            case .misdirectedPage:
                let from = donor * Self.pageSize
                damaged.replaceSubrange(start..<start + Self.pageSize, with: original[from..<from + Self.pageSize])
            case .truncatedFile:
                damaged = original.prefix(start)
            }
            #expect(damaged != original)
            let copy = dir.path + "/damaged"
            try FileManager.default.createDirectory(atPath: copy + "/log", withIntermediateDirectories: true)
            try damaged.write(to: URL(fileURLWithPath: copy + "/log/data.mdb"))

            let result = try await runProcess(BuiltProducts.executable("tally"), ["verify", "--data", copy, "--json"])
            #expect(result.status != 0, "\(damage): verify exited 0 on a damaged copy: \(result.standardOutput)")
            let said = result.standardOutput + result.standardError
            let report = (try? JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))) as? [String: Any]
            #expect(report?["clean"] as? Bool != true, "\(damage): reported clean")
            #expect(!said.isEmpty, "\(damage): verify said nothing")
            #expect(
                said.contains("position") || said.contains("crashed") || said.contains("corrupt") || said.contains("CORRUPT")
                    || said.contains("MDB_") || said.contains("storage_error"),
                "\(damage): verify did not name the damage: \(said)")
        }
    }
}
