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
    // The gate: malloc counts (deterministic) may not grow past the checked-in
    // Thresholds/ by more than 5% or 2 allocations. Wall clock is for reading only.
    let gate: [BenchmarkMetric: BenchmarkThresholds] = [.mallocCountTotal: .init(relative: [.p90: 5.0], absolute: [.p90: 2])]

    Benchmark("XXH3_300B_record", configuration: .init(metrics: metrics, scalingFactor: .kilo, thresholds: gate)) { benchmark in
        for _ in benchmark.scaledIterations {
            blackHole(record.withUnsafeBytes { XXH3.hash($0) })
        }
    }

    Benchmark("SHA256_seal_1000_records", configuration: .init(metrics: metrics, thresholds: gate)) { benchmark in
        for _ in benchmark.scaledIterations {
            var seal = SealChain(previous: SealChain.genesis, first: 1)
            record.withUnsafeBytes { bytes in
                for _ in 0..<1_000 { seal.add(bytes) }
            }
            blackHole(seal.finish())
        }
    }

    Benchmark(
        "Append_1000_events_nosync",
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
