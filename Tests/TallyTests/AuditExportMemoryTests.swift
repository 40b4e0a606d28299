import Foundation
@testable import Tally
import TallyTesting
import Testing

/// The export streams: a real `tally audit export` process over a real 1 M-event log stays
/// under 64 MiB resident, however large the file it writes.
@Suite struct AuditExportMemoryTests {
    private let tally = BuiltProducts.executable("tally")

    @Test func exportingOneMillionEventsStaysUnder64MiBResident() async throws {
        try await withTemporaryDirectory(prefix: "tally-export-1m") { dir in
            // The benchmark's writer fills the log fastest: 1,000 events a commit, 200-byte payloads.
            let bench = try await runProcess(self.tally, ["bench", "batch", "--events", "1000000", "--keep", "--directory", dir.path])
            #expect(bench.status == 0, "\(bench.standardError)")
            let kept = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasPrefix("tally-bench-") }
            let data = dir.path + "/" + (try #require(kept.first))
            let output = dir.path + "/export.jsonl"
            let peak = try await runProcessMeasuringPeakMemory(
                self.tally, ["audit", "export", "--data", data, "--format", "jsonl", "--with-proof", "--output", output])
            #expect(peak.status == 0)
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: output + ".manifest.json"))) as? [String: Any]
            #expect(manifest?["count"] as? Int == 1_000_000)
            let size = try FileManager.default.attributesOfItem(atPath: output)[.size] as? Int ?? 0
            #expect(size > 500 << 20, "the file (\(size) bytes) is far larger than the bar")
            #expect(peak.residentBytes < 64 << 20, "peak RSS \(peak.residentBytes >> 20) MiB")
        }
    }

    /// A ledger of small commits (agents appending one event at a time) has a seal per event:
    /// the manifest lists them all, streamed from the log into the file, so the export's
    /// memory does not grow with them (it held them: 147 MB for 200 k commits; this test has 100 k).
    @Test func aSealPerEventStaysOutOfMemory() async throws {
        try await withTemporaryDirectory(prefix: "tally-export-seals") { dir in
            let data = dir.path + "/data"
            let ledger = try await Ledger.open(at: data, configuration: LogConfiguration(durability: .unsafeNoSync, createIfMissing: true))
            let payload = Array(#"{"status":"healthy","latency_ms":12}"#.utf8)
            for index in 0..<100_000 {
                _ = try await ledger.log.append(to: "agent-\(index % 1_000)", events: [ProposedEvent(type: "agent.heartbeat", payload: payload)])
            }
            let seals = try ledger.log.seals(covering: 1...100_000)
            await ledger.close()
            #expect(seals.count > 50_000, "\(seals.count) commits: the appends were grouped")
            let output = dir.path + "/export.jsonl"
            let peak = try await runProcessMeasuringPeakMemory(self.tally, ["audit", "export", "--data", data, "--format", "jsonl", "--output", output])
            #expect(peak.status == 0)
            #expect(peak.residentBytes < 64 << 20, "peak RSS \(peak.residentBytes >> 20) MiB")
            let manifest = try JSONDecoder().decode(AuditManifest.self, from: Data(contentsOf: URL(fileURLWithPath: output + ".manifest.json")))
            #expect(manifest.seals.count == seals.count)
            #expect(manifest.seals.first == seals.first.map { AuditManifest.Seal(first: $0.first, last: $0.last, seal: $0.seal) })
            #expect(manifest.seals.last == seals.last.map { AuditManifest.Seal(first: $0.first, last: $0.last, seal: $0.seal) })
            let verify = try await runProcess(self.tally, ["audit", "verify", output, "--data", data])
            #expect(verify.status == 0, "\(verify.standardOutput)\(verify.standardError)")
        }
    }
}
