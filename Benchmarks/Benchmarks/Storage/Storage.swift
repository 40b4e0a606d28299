import Benchmark
import Foundation
import Tally
import TallyChecksum

// Per-layer storage benchmarks. Deterministic metrics (malloc counts) have thresholds in
// Thresholds/; wall-clock figures are for reading beside `tally bench`, not for gates.

private let record = [UInt8](repeating: 0xA5, count: 300)
private let payload = Array(String(repeating: "x", count: 200).utf8)
nonisolated(unsafe) private var ledger: Ledger?
nonisolated(unsafe) private var directory = ""

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

    Benchmark("XXH3 of a 300-byte record", configuration: .init(metrics: metrics, scalingFactor: .kilo)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(record.withUnsafeBytes { XXH3.hash($0) })
        }
    }

    Benchmark("SHA-256 seal over 1,000 records", configuration: .init(metrics: metrics)) { benchmark in
        for _ in benchmark.scaledIterations {
            var seal = SealChain(previous: SealChain.genesis, first: 1)
            record.withUnsafeBytes { bytes in
                for _ in 0..<1_000 { seal.add(bytes) }
            }
            blackHole(seal.finish())
        }
    }

    Benchmark(
        "append 1,000 events in one call (no fsync)",
        configuration: .init(
            metrics: metrics, maxDuration: .seconds(5),
            setup: {
                directory = NSTemporaryDirectory() + "tally-benchmark-\(getpid())"
                ledger = try await Ledger.open(
                    at: directory, configuration: LogConfiguration(durability: .unsafeNoSync, createIfMissing: true),
                    expiryInterval: nil)
            },
            teardown: {
                await ledger?.close()
                ledger = nil
                try? FileManager.default.removeItem(atPath: directory)
            })
    ) { benchmark in
        guard let ledger else { return }
        for iteration in benchmark.scaledIterations {
            let events = (0..<1_000).map { _ in ProposedEvent(type: "bench.appended", payload: payload) }
            blackHole(try await ledger.log.append(to: "bench-\(iteration % 100)", events: events))
        }
    }
}
