import Benchmark
import TallyDomain

// The payment rules without storage: decide, evolve, payload encoding.

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]
    // The gate: malloc counts (deterministic) may not grow past the checked-in
    // Thresholds/ by more than 5% or 2 allocations. Wall clock is for reading only.
    let gate: [BenchmarkMetric: BenchmarkThresholds] = [.mallocCountTotal: .init(relative: [.p90: 5.0], absolute: [.p90: 2])]
    var state = PaymentsState()
    var changes = PaymentChanges()
    for index in 0..<1_000 {
        let account = Account(id: DomainID(stringLiteral: "wallet-\(index)"), agent: "agent", currency: "APX")
        try? Payments.evolve(.accountOpened(account), state: state, changes: &changes)
    }
    state.apply(changes)
    let committed = state
    let request = TransferRequest(id: "t-1", debitAccount: "wallet-1", creditAccount: "wallet-2", amount: 10, currency: "APX", memo: "work")

    Benchmark("Decide_posted_transfer", configuration: .init(metrics: metrics, scalingFactor: .kilo, thresholds: gate)) { benchmark in
        let empty = PaymentChanges()
        for _ in benchmark.scaledIterations {
            blackHole(Payments.decide(.transfer(request), state: committed, changes: empty, now: 1))
        }
    }

    Benchmark("Decide_evolve_1000_transfers", configuration: .init(metrics: metrics, thresholds: gate)) { benchmark in
        for _ in benchmark.scaledIterations {
            var batch = PaymentChanges()
            for index in 0..<1_000 {
                var next = request
                next.id = DomainID(stringLiteral: "t-\(index)")
                if case .applied(let events) = Payments.decide(.transfer(next), state: committed, changes: batch, now: 1) {
                    for event in events { try? Payments.evolve(event, state: committed, changes: &batch) }
                }
            }
            blackHole(batch)
        }
    }

    let event = PaymentEvent.transferCreated(
        Transfer(id: "t-1", kind: .posted, debitAccount: "wallet-1", creditAccount: "wallet-2", amount: 10, currency: "APX", memo: "work", state: .posted))
    let payload = event.payload

    Benchmark("Encode_transfer_posted_payload", configuration: .init(metrics: metrics, scalingFactor: .kilo, thresholds: gate)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(event.payload) }
    }

    Benchmark("Decode_transfer_posted_payload", configuration: .init(metrics: metrics, scalingFactor: .kilo, thresholds: gate)) { benchmark in
        for _ in benchmark.scaledIterations { blackHole(try? PaymentEvent(type: "transfer.posted", payload: payload)) }
    }
}
