import Foundation
import TallyTesting
import Testing

/// The export streams: a real `tally audit export` process over a real 1 M-event log stays
/// under 64 MiB resident, however large the file it writes.
@Suite struct AuditExportMemoryTests {
    private let tally = BuiltProducts.executable("tally")

    @Test func exportingOneMillionEventsStaysUnder64MiBResident() async throws {
        try await withTemporaryDirectory(prefix: "tally-export-1m") { dir in
            // The benchmark's writer fills the log fastest: 1,000 events a commit, 200-byte payloads.
            let bench = try runProcess(self.tally, ["bench", "batch", "--events", "1000000", "--keep", "--directory", dir.path])
            #expect(bench.status == 0, "\(bench.standardError)")
            let kept = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("tally-bench-") }
            let data = dir.path + "/" + (try #require(kept.first))
            let output = dir.path + "/export.jsonl"
            let peak = try runProcessMeasuringPeakMemory(
                self.tally, ["audit", "export", "--data", data, "--format", "jsonl", "--with-proof", "--output", output])
            #expect(peak.status == 0)
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + ".manifest.json"))) as? [String: Any]
            #expect(manifest?["count"] as? Int == 1_000_000)
            let size = try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int ?? 0
            #expect(size > 500 << 20, "the file (\(size) bytes) is far larger than the bar")
            #expect(peak.residentBytes < 64 << 20, "peak RSS \(peak.residentBytes >> 20) MiB")
        }
    }
}
