import Foundation
import NIOConcurrencyHelpers
import Tally

extension BenchCommand {
    /// W4: reads of one stream of 100 events (the whole stream a read), 2,000 times.
    func readStream(_ ledger: Ledger, payload: [UInt8], ids: BenchIDs, out: BenchReport) async throws {
        let stream = "bench-read-\(UInt32.random(in: 0 ... .max))"
        for _ in 0..<10 {
            _ = try await ledger.log.append(to: stream, events: (0..<10).map { _ in ProposedEvent(id: ids.next(), type: "bench.appended", payload: payload) })
        }
        var latencies: [Double] = []
        latencies.reserveCapacity(2_000)
        let start = ContinuousClock.now
        for _ in 0..<2_000 {
            let began = ContinuousClock.now
            let events = try ledger.log.read(stream: stream, limit: 1_000)
            latencies.append(seconds(since: began))
            guard events.count == 100 else { throw CLIError(code: "storage_error", message: "read \(events.count) events of \(stream), not 100") }
        }
        let elapsed = seconds(since: start)
        latencies.sort()
        out.add([
            "workload": "read", "events_per_read": 100, "reads": latencies.count, "seconds": elapsed,
            "reads_per_second": Double(latencies.count) / elapsed, "events_per_second": 100 * Double(latencies.count) / elapsed,
            "p50_ms": percentile(latencies, 0.50) * 1_000, "p99_ms": percentile(latencies, 0.99) * 1_000,
            "p999_ms": percentile(latencies, 0.999) * 1_000,
        ])
    }

    /// W6: a fleet mix in batches of --batch commands with every built-in projection following
    /// live (their lag sampled every 10 ms), then all projections rebuilt from position 1.
    func mixed(_ ledger: Ledger, root: String, out: BenchReport) async throws {
        if ledger.account("wallet-0") == nil { try await self.openBenchAccounts(ledger) }
        var random = UInt64.random(in: 1 ... .max)
        func next(_ bound: Int) -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: random >> 33) % bound
        }
        // The projections run live while the fleet appends; a sampler records their lag.
        let liveViews = try ViewStore.open(dataDirectory: root, projections: Ledger.builtInProjections)
        let live = try Ledger.builtInProjections.map { try ProjectionWorker(projection: $0, log: ledger.log, views: liveViews) }
        // As `tally serve` runs them: one subscription, one views commit a batch for all.
        let running = [Task { try await ProjectionGroup(live).run() }]
        let before = ledger.log.headPosition
        while live.contains(where: { $0.status.checkpoint < before }) { try await Task.sleep(for: .milliseconds(5)) }
        // Every 10 ms: how many events the slowest projection is behind, and for how long:
        // the time since the head first reached the position it has not yet applied.
        let lags = NIOLockedValueBox<(events: [UInt64], seconds: [Double])>(([], []))
        let sampler = Task {
            var heads: [(at: ContinuousClock.Instant, head: UInt64)] = []
            while !Task.isCancelled {
                let now = ContinuousClock.now
                let head = ledger.log.headPosition
                heads.append((now, head))
                let slowest = live.map(\.status.checkpoint).min() ?? head
                var since = 0.0
                if slowest < head, let first = heads.first(where: { $0.head > slowest }) { since = (now - first.at).secondsDouble }
                lags.withLockedValue {
                    $0.events.append(head - min(head, slowest))
                    $0.seconds.append(since)
                }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        let bar = ProgressBar(label: "mixed", json: self.json)
        let start = ContinuousClock.now
        var done = 0
        var deployments = 0
        while done < self.events {
            let count = min(self.batch, self.events - done)
            var payments: [PaymentCommand] = []
            var operations: [OperationsCommand] = []
            for index in 0..<count {
                let roll = next(100)
                if roll < 70 {
                    payments.append(.transfer(TransferRequest(
                        id: DomainID(stringLiteral: "m\(done + index)"), debitAccount: "treasury",
                        creditAccount: DomainID(stringLiteral: "wallet-\(next(Self.accounts))"), amount: 1, currency: "APX")))
                } else if roll < 95 {
                    operations.append(.reportHealth(HealthCheck(
                        component: DomainID(stringLiteral: "component-\(next(50))"), status: next(10) == 0 ? .degraded : .healthy,
                        latencyMilliseconds: UInt64(next(500)))))
                } else {
                    deployments += 1
                    let id = DomainID(stringLiteral: "deploy-\(deployments)")
                    operations.append(.startDeployment(Deployment(
                        id: id, service: DomainID(stringLiteral: "service-\(next(12))"), version: "\(deployments)", environment: "prod", actor: "bench")))
                    operations.append(next(5) == 0 ? .failDeployment(id, reason: "bench") : .succeedDeployment(id, durationMilliseconds: UInt64(next(600_000))))
                }
            }
            _ = try await ledger.execute(payments)
            _ = try await ledger.execute(operations)
            done += count
            bar.step(done, of: self.events)
        }
        let appendSeconds = seconds(since: start)
        bar.clear()
        let head = ledger.log.headPosition
        let caughtUp = ContinuousClock.now
        while live.contains(where: { $0.status.checkpoint < head }) { try await Task.sleep(for: .milliseconds(5)) }
        let catchUpSeconds = seconds(since: caughtUp)
        let (sampled, lagSeconds) = lags.withLockedValue { state in
            defer { state = ([], []) }
            return (state.events.sorted(), state.seconds.sorted())
        }
        out.add([
            "workload": "mixed", "phase": "append", "commands": done, "seconds": appendSeconds, "commands_per_second": Double(done) / appendSeconds,
            "events_per_second": Double(head - before) / appendSeconds,
            "projections": live.count, "lag_p50_events": percentile(sampled.map { Double($0) }, 0.5), "lag_p99_events": percentile(sampled.map { Double($0) }, 0.99),
            "lag_max_events": Double(sampled.last ?? 0), "lag_p99_seconds": percentile(lagSeconds, 0.99), "lag_max_seconds": lagSeconds.last ?? 0,
            "catch_up_after_seconds": catchUpSeconds,
        ])
        // Then the projections issue's load: a steady 100 k events/s (1,000 every 10 ms) for
        // 5 s, with the same projections following.
        let target = 100_000
        let paced = try await Self.pacedAppends(ledger, eventsPerSecond: target, for: .seconds(5))
        let pacedHead = ledger.log.headPosition
        while live.contains(where: { $0.status.checkpoint < pacedHead }) { try await Task.sleep(for: .milliseconds(5)) }
        sampler.cancel()
        for task in running { task.cancel() }
        for task in running { _ = try? await task.value }
        liveViews.close()
        let (pacedLag, pacedLagSeconds) = lags.withLockedValue { ($0.events.sorted(), $0.seconds.sorted()) }
        out.add([
            "workload": "mixed", "phase": "paced", "events": paced.events, "seconds": paced.seconds, "target_events_per_second": target,
            "events_per_second": Double(paced.events) / paced.seconds, "projections": live.count,
            "lag_p99_events": percentile(pacedLag.map { Double($0) }, 0.99), "lag_max_events": Double(pacedLag.last ?? 0),
            "lag_p99_seconds": percentile(pacedLagSeconds, 0.99), "lag_max_seconds": pacedLagSeconds.last ?? 0,
        ])
        let views = try ViewStore.open(dataDirectory: root, projections: Ledger.builtInProjections)
        for projection in Ledger.builtInProjections {
            let worker = try ProjectionWorker(projection: projection, log: ledger.log, views: views)
            try await worker.reset()
            let began = ContinuousClock.now
            try await worker.catchUp()
            let elapsed = seconds(since: began)
            out.add(["workload": "mixed", "phase": "rebuild", "projection": projection.name, "events": worker.status.checkpoint,
                         "seconds": elapsed, "events_per_second": Double(worker.status.checkpoint) / elapsed])
        }
        // All together, as `tally replay` does it: the log read once for every projection.
        let workers = try Ledger.builtInProjections.map { try ProjectionWorker(projection: $0, log: ledger.log, views: views) }
        for worker in workers { try await worker.reset() }
        let began = ContinuousClock.now
        try await ProjectionWorker.catchUp(workers)
        let total = seconds(since: began)
        let events = ledger.log.headPosition
        out.add(["workload": "mixed", "phase": "rebuild", "projection": "all", "events": events, "seconds": total,
                     "events_per_second": Double(events) / total])
        views.close()
    }

    /// The audit export of the whole log as `tally audit export` writes it: JSONL, then CSV
    /// (each with its manifest and checksum files), to the bench's directory.
    func export(_ ledger: Ledger, root: String, out: BenchReport) async throws {
        // The export of a ledger at rest: the index checkpoints the earlier workloads left
        // queued on the writer thread would otherwise take one of the two cores (a third of
        // the export's rate here).
        try await ledger.log.waitForWriterIdle()
        for format in [AuditFormat.jsonl, .csv] {
            let file = root + "-export." + format.rawValue
            defer { for suffix in ["", ".manifest.json", ".xxh3", ".sha256"] { try? FileManager.default.removeItem(atPath: file + suffix) } }
            let start = ContinuousClock.now
            let manifest = try ledger.exportAudit(to: file, format: format, filter: AuditFilter())
            let elapsed = seconds(since: start)
            let bytes = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            out.add(["workload": "export", "format": format.rawValue, "events": manifest.count, "seconds": elapsed,
                     "events_per_second": Double(manifest.count) / elapsed, "megabytes_per_second": Double(bytes) / 1_048_576 / elapsed])
        }
    }

    /// The payload of every benchmark event: a 200-byte JSON payment event of the shape the
    /// peers' scripts write (Benchmarks/peers/common.py), as long as the raw limit's records.
    static let payload = Array(
        #"{"type":"payment.transferred","from":"agent-4242","to":"agent-7919","amount":4242,"currency":"APX","memo":"task 0004242, nightly payroll for build agents","ref":"6f1c0a52-3b7e-4c1d-9a8e-2d5f7b9c0e13"}"#.utf8)

    /// Appends 200-byte events over 10,000 streams, 1,000 every `1,000 / eventsPerSecond`
    /// seconds, for `duration`. The load is open: each 1,000 is sent on its schedule whether
    /// or not the ones before it were acknowledged (as many clients would), so the writer's
    /// group commit sees them together. At most `outstandingMax` requests wait at once;
    /// past that the load falls behind the schedule, and the rate reported shows it.
    static func pacedAppends(
        _ ledger: Ledger, eventsPerSecond: Int, for duration: Duration, outstandingMax: Int = 32
    ) async throws -> (events: Int, seconds: Double) {
        let ids = BenchIDs()
        let payload = Self.payload
        let batch = 1_000
        let interval = Duration.seconds(Double(batch) / Double(eventsPerSecond))
        let clock = ContinuousClock()
        let start = clock.now
        let appended = try await withThrowingTaskGroup(of: Int.self) { group in
            var sent = 0
            var acknowledged = 0
            var outstanding = 0
            var tick = start
            while clock.now - start < duration {
                if outstanding == outstandingMax, let done = try await group.next() {
                    acknowledged += done
                    outstanding -= 1
                }
                let streams = (0..<batch).map { index in
                    StreamAppend(streamID: "paced-\((sent + index) % 10_000)", events: [ProposedEvent(id: ids.next(), type: "bench.paced", payload: payload)])
                }
                group.addTask {
                    _ = try await ledger.log.append(streams)
                    return streams.count
                }
                sent += batch
                outstanding += 1
                tick = tick.advanced(by: interval)
                if tick > clock.now { try await Task.sleep(until: tick, clock: clock) }
            }
            for try await done in group { acknowledged += done }
            return acknowledged
        }
        return (appended, seconds(since: start))
    }

    static let accounts = 10_000

    /// 10,000 accounts without limits (`bench-N`), 10,000 wallets (`wallet-N`), one treasury.
    func openBenchAccounts(_ ledger: Ledger) async throws {
        var open = [PaymentCommand.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))]
        for index in 0..<Self.accounts {
            open.append(.openAccount(Account(id: DomainID(stringLiteral: "bench-\(index)"), agent: "bench", currency: "APX")))
            open.append(
                .openAccount(
                    Account(
                        id: DomainID(stringLiteral: "wallet-\(index)"), agent: DomainID(stringLiteral: "agent-\(index)"),
                        currency: "APX", flags: .debitsMustNotExceedCredits)))
        }
        for chunk in stride(from: 0, to: open.count, by: 5_000) {
            _ = try await ledger.execute(Array(open[chunk..<min(open.count, chunk + 5_000)]))
        }
    }

    func payroll(_ ledger: Ledger, out: BenchReport) async throws {
        let run = UInt64.random(in: 0 ... .max)
        let requests = (0..<Self.accounts).map { index in
            TransferRequest(
                id: DomainID(stringLiteral: "payroll-\(run)-\(index)"), debitAccount: "treasury",
                creditAccount: DomainID(stringLiteral: "wallet-\(index)"), amount: 1_000, currency: "APX", memo: "payroll")
        }
        let start = ContinuousClock.now
        let outcomes = try await ledger.submit(requests, linked: true)
        let elapsed = seconds(since: start)
        out.add([
            "workload": "payroll", "transfers": requests.count, "linked": true, "rejected": outcomes.filter { !$0.succeeded }.count,
            "seconds": elapsed, "transfers_per_second": Double(requests.count) / elapsed,
        ])
    }

    func hot(_ ledger: Ledger, out: BenchReport) async throws {
        for clients in self.clients {
            let start = ContinuousClock.now
            let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                for client in 0..<clients {
                    group.addTask {
                        var mine: [Double] = []
                        for index in 0..<self.singleEvents {
                            let began = ContinuousClock.now
                            let outcome = try await ledger.submit(
                                TransferRequest(
                                    id: DomainID(stringLiteral: "hot-\(clients)-\(client)-\(index)"), debitAccount: "treasury",
                                    creditAccount: DomainID(stringLiteral: "wallet-\((client * 7_919 + index) % Self.accounts)"),
                                    amount: 1, currency: "APX"))
                            guard outcome.succeeded else { throw CLIError(code: outcome.code, message: "hot transfer rejected") }
                            mine.append(seconds(since: began))
                        }
                        return mine
                    }
                }
                return try await group.reduce(into: [Double]()) { $0.append(contentsOf: $1) }
            }.sorted()
            let elapsed = seconds(since: start)
            out.add([
                "workload": "hot", "clients": clients, "transfers": latencies.count, "seconds": elapsed,
                "transfers_per_second": Double(latencies.count) / elapsed,
                "p50_ms": percentile(latencies, 0.50) * 1_000, "p99_ms": percentile(latencies, 0.99) * 1_000,
                "p999_ms": percentile(latencies, 0.999) * 1_000,
            ])
        }
    }

    func transfers(_ ledger: Ledger, out: BenchReport) async throws {
        let accounts = Self.accounts
        var random = UInt64.random(in: 1 ... .max)
        func next() -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: random >> 33) % accounts
        }
        let bar = ProgressBar(label: "transfers", json: self.json)
        try await ledger.log.checkpointIndex()
        let start = ContinuousClock.now
        let writerStart = ledger.log.writerCPUSeconds
        var done = 0
        var failed = 0
        while done < self.events {
            let count = min(self.batch, self.events - done)
            let requests = (0..<count).map { index in
                let from = next()
                let to = (from + 1 + next() % (accounts - 1)) % accounts
                return TransferRequest(
                    id: DomainID(stringLiteral: "b\(done + index)"), debitAccount: DomainID(stringLiteral: "bench-\(from)"),
                    creditAccount: DomainID(stringLiteral: "bench-\(to)"), amount: 1, currency: "APX")
            }
            failed += try await ledger.submit(requests).filter { !$0.succeeded }.count
            done += count
            bar.step(done, of: self.events)
        }
        let indexSeconds = try await Self.indexTail(ledger)
        let elapsed = seconds(since: start)
        bar.clear()
        out.add([
            "workload": "transfers", "transfers": done, "batch": self.batch, "accounts": accounts, "rejected": failed,
            "seconds": elapsed, "transfers_per_second": Double(done) / elapsed,
            "writer_cpu_us_per_event": Self.writerMicroseconds(ledger, since: writerStart, per: done),
            "writer_busy": Self.writerBusy(ledger, since: writerStart, over: elapsed),
            "index_seconds": indexSeconds,
        ])
    }

    /// Persists the index entries the log still holds in memory and returns how long that
    /// took. A write workload whose rate is compared with another's ends with it (and starts
    /// from an indexed log): the indexer runs on the writer thread once per
    /// `Limits.tailEventsMax` events, so without it a run shorter than that would skip its
    /// own indexing and leave it to the workload after it.
    static func indexTail(_ ledger: Ledger) async throws -> Double {
        let start = ContinuousClock.now
        try await ledger.log.checkpointIndex()
        return seconds(since: start)
    }

    /// The log's writer thread's CPU time since `start` per event, in microseconds (0 if unknown).
    static func writerMicroseconds(_ ledger: Ledger, since start: Double?, per events: Int) -> Double {
        guard let start, let now = ledger.log.writerCPUSeconds, events > 0 else { return 0 }
        return (now - start) * 1e6 / Double(events)
    }

    /// The share of `seconds` the log's writer thread was on a CPU since `start` (0 if unknown).
    static func writerBusy(_ ledger: Ledger, since start: Double?, over seconds: Double) -> Double {
        guard let start, let now = ledger.log.writerCPUSeconds, seconds > 0 else { return 0 }
        return (now - start) / seconds
    }
}
