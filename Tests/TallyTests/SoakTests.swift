import Foundation
import Tally
import TallyTesting
import Testing

/// `tally soak` as a user runs it: the fleet workload killed and restarted at random, the
/// invariants checked after each restart. CI runs it for 8 s; `TALLY_SOAK_SECONDS` runs it
/// longer (`TALLY_SOAK_SECONDS=1800 scripts/test.sh`).
@Suite struct SoakTests {
    @Test func aShortSoakSurvivesEveryKillWithNothingLost() async throws {
        let seconds = Int(ProcessInfo.processInfo.environment["TALLY_SOAK_SECONDS"] ?? "") ?? 8
        try await withTemporaryDirectory(prefix: "tally-soak") { dir in
            let result = try await runProcess(BuiltProducts.executable("tally"), ["soak", "--seconds", "\(seconds)", "--data", dir.path + "/data", "--json"])
            #expect(result.status == 0, "soak failed: \(result.standardError)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any], "\(result.standardOutput)")
            #expect(summary["lost"] as? Int == 0)
            #expect(summary["failures"] as? Int == 0)
            let kills = summary["kills_survived"] as? Int ?? 0
            #expect(kills >= 2, "too few kills to prove anything: \(summary)")
            #expect(summary["verifications_passed"] as? Int == kills)
            #expect((summary["transfers_acknowledged"] as? Int ?? 0) > 0 && (summary["heartbeats_acknowledged"] as? Int ?? 0) > 0)
        }
    }
}
