import ArgumentParser
import Foundation
import Synchronization
import Tally

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the storage core on a temporary data directory (durable appends, verifying scan).",
        discussion: """
            Workloads (200-byte payloads over 10,000 streams, expected-version checks and
            idempotency on, every append durable):
              batch     appends of --batch events (default 1,000)
              single    one event per append from --clients concurrent tasks (default: 1, then 256)
              scan      a full verifying scan (checksums, chain, seals, indexes)
              transfers durable posted transfers in batches of --batch over 10,000 accounts
                        (uniform), decided inside the group commit
              payroll   one linked batch from one treasury to 10,000 agent wallets
              hot       --clients tasks each posting single transfers from one shared
                        treasury (the hot account) to random wallets
              replay    rebuild the balances projection from the whole log (after the
                        other workloads; alone it first posts --events transfers)
              mixed     --events of a fleet mix (70% transfers, 25% health checks, 5%
                        deployment steps), then every built-in projection rebuilt together
              backup    (W8) a full backup of whatever the other workloads wrote (alone: --events
                        batched events first), beside mdb_env_copy2 compact + fsync of the same
                        environment (and `mdb_copy -c` when it is installed); then restore +
                        replay, with the views from the backup's snapshot and from position 1
              http      (W7) appends through `tally serve` on loopback driven by wrk (Debian's
                        package): single events over --connections keep-alive connections,
                        1,000-event requests and GET /health; rates, p50/p99, and each beside the
                        same Hummingbird stack with nothing behind it (the HTTP floor; not in `all`)
            It first prints the machine: CPU, cores, memory, kernel, the filesystem of
            --directory and the fsync latency measured there (200 write + fdatasync pairs).
            Compare with the raw LMDB limits measured in the same run (see docs/benchmarks.md).
            """)

    @Argument(help: "batch, single, scan, transfers, payroll, hot, replay, mixed, backup, http or all.") var workloads: [String] = ["all"]
    @Option(help: "Events for the batch workload.") var events = 200_000
    @Option(help: "Events per append in the batch workload.") var batch = 1_000
    @Option(help: "Events per client in the single workload.") var singleEvents = 2_000
    @Option(help: "Concurrent clients for the single workload (repeatable).") var clients: [Int] = [1, 256]
    @Option(help: "Where to put the temporary data directory.") var directory = FileManager.default.temporaryDirectory.path
    @Option(help: "Keep-alive connections for the http workload.") var connections = 64
    @Option(help: "Seconds each http run lasts.") var httpSeconds = 10
    @Flag(help: "Print JSON lines.") var json = false

    func run() async throws {
        let selected = Set(self.workloads.contains("all") ? ["batch", "single", "scan", "transfers", "payroll", "hot", "replay", "mixed", "backup"] : self.workloads)
        let root = "\(self.directory)/tally-bench-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: root) }
        self.report(BenchMachine.describe(directory: self.directory))
        let ledger = try await Ledger.open(at: root, configuration: LogConfiguration(createIfMissing: true))
        let payload = Array(String(repeating: "x", count: 200).utf8)
        let ids = BenchIDs()
        if selected.contains("batch") || selected == ["backup"] {
            let start = ContinuousClock.now
            var appended = 0
            while appended < self.events {
                let count = min(self.batch, self.events - appended)
                let events = (0..<count).map { _ in ProposedEvent(id: ids.next(), type: "bench.appended", payload: payload) }
                _ = try await ledger.log.append(to: "bench-\(appended % 10_000)", events: events)
                appended += count
            }
            let elapsed = seconds(since: start)
            let stats = try ledger.log.stats()
            let fileBytes = (try? FileManager.default.attributesOfItem(atPath: EventLog.logPath(in: root) + "/data.mdb")[.size] as? Int) ?? 0
            self.report(["workload": "batch", "events": appended, "batch": self.batch, "seconds": elapsed,
                         "events_per_second": Double(appended) / elapsed,
                         "disk_bytes_per_event": Double(fileBytes) / Double(max(1, stats.events))])
        }
        if selected.contains("single") {
            for clients in self.clients {
                let start = ContinuousClock.now
                let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
                    for client in 0..<clients {
                        group.addTask {
                            var mine: [Double] = []
                            mine.reserveCapacity(self.singleEvents)
                            for index in 0..<self.singleEvents {
                                let began = ContinuousClock.now
                                _ = try await ledger.log.append(
                                    to: "bench-\((client * 7_919 + index) % 10_000)",
                                    events: [ProposedEvent(id: ids.next(), type: "bench.appended", payload: payload)])
                                mine.append(seconds(since: began))
                            }
                            return mine
                        }
                    }
                    return try await group.reduce(into: [Double]()) { $0.append(contentsOf: $1) }
                }.sorted()
                let elapsed = seconds(since: start)
                self.report([
                    "workload": "single", "clients": clients, "events": latencies.count, "seconds": elapsed,
                    "events_per_second": Double(latencies.count) / elapsed,
                    "p50_ms": percentile(latencies, 0.50) * 1_000, "p99_ms": percentile(latencies, 0.99) * 1_000,
                ])
            }
        }
        if selected.contains("scan") {
            try await ledger.log.checkpointIndex()
            let start = ContinuousClock.now
            let result = try ledger.log.verify()
            let elapsed = seconds(since: start)
            self.report(["workload": "scan", "records": result.recordsChecked, "clean": result.isClean, "seconds": elapsed,
                         "records_per_second": Double(result.recordsChecked) / elapsed])
        }
        if selected.contains("transfers") || selected.contains("payroll") || selected.contains("hot") {
            try await self.openBenchAccounts(ledger)
        }
        if selected.contains("transfers") {
            try await self.transfers(ledger)
        }
        if selected.contains("payroll") {
            try await self.payroll(ledger)
        }
        if selected.contains("hot") {
            try await self.hot(ledger)
        }
        if selected.contains("replay") {
            if selected == ["replay"] {
                try await self.openBenchAccounts(ledger)
                try await self.transfers(ledger)
            }
            let views = try ViewStore.open(dataDirectory: root, projections: [BalancesProjection()])
            let worker = try ProjectionWorker(projection: BalancesProjection(), log: ledger.log, views: views)
            let start = ContinuousClock.now
            try await worker.catchUp()
            let elapsed = seconds(since: start)
            views.close()
            let events = worker.status.checkpoint
            self.report(["workload": "replay", "projection": "balances", "events": events, "seconds": elapsed,
                         "events_per_second": Double(events) / elapsed])
        }
        if selected.contains("mixed") {
            try await self.mixed(ledger, root: root)
        }
        if selected.contains("http") {
            try await BenchHTTP(root: root, connections: self.connections, seconds: self.httpSeconds, report: self.report).run()
        }
        if selected.contains("backup") {
            let mdbCopy = ["/usr/bin/mdb_copy", "/usr/local/bin/mdb_copy"].first { FileManager.default.isExecutableFile(atPath: $0) }
            try await BenchRecovery(root: root, report: self.report).run(ledger, mdbCopy: mdbCopy)
        }
        await ledger.close()
    }

    /// A fleet mix in batches of --batch commands, then all projections rebuilt together.
    private func mixed(_ ledger: Ledger, root: String) async throws {
        if ledger.account("wallet-0") == nil { try await self.openBenchAccounts(ledger) }
        var random = UInt64.random(in: 1 ... .max)
        func next(_ bound: Int) -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: random >> 33) % bound
        }
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
        }
        let appendSeconds = seconds(since: start)
        self.report(["workload": "mixed", "phase": "append", "commands": done, "seconds": appendSeconds, "commands_per_second": Double(done) / appendSeconds])
        let views = try ViewStore.open(dataDirectory: root, projections: Ledger.builtInProjections)
        var total = 0.0
        for projection in Ledger.builtInProjections {
            let worker = try ProjectionWorker(projection: projection, log: ledger.log, views: views)
            try await worker.reset()
            let began = ContinuousClock.now
            try await worker.catchUp()
            let elapsed = seconds(since: began)
            total += elapsed
            self.report(["workload": "mixed", "phase": "rebuild", "projection": projection.name, "events": worker.status.checkpoint,
                         "seconds": elapsed, "events_per_second": Double(worker.status.checkpoint) / elapsed])
        }
        let events = ledger.log.headPosition
        self.report(["workload": "mixed", "phase": "rebuild", "projection": "all", "events": events, "seconds": total,
                     "events_per_second": Double(events) / total])
        views.close()
    }

    private static let accounts = 10_000

    /// 10,000 accounts without limits (`bench-N`), 10,000 wallets (`wallet-N`), one treasury.
    private func openBenchAccounts(_ ledger: Ledger) async throws {
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

    private func payroll(_ ledger: Ledger) async throws {
        let run = UInt64.random(in: 0 ... .max)
        let requests = (0..<Self.accounts).map { index in
            TransferRequest(
                id: DomainID(stringLiteral: "payroll-\(run)-\(index)"), debitAccount: "treasury",
                creditAccount: DomainID(stringLiteral: "wallet-\(index)"), amount: 1_000, currency: "APX", memo: "payroll")
        }
        let start = ContinuousClock.now
        let outcomes = try await ledger.submit(requests, linked: true)
        let elapsed = seconds(since: start)
        self.report([
            "workload": "payroll", "transfers": requests.count, "linked": true, "rejected": outcomes.filter { !$0.succeeded }.count,
            "seconds": elapsed, "transfers_per_second": Double(requests.count) / elapsed,
        ])
    }

    private func hot(_ ledger: Ledger) async throws {
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
            self.report([
                "workload": "hot", "clients": clients, "transfers": latencies.count, "seconds": elapsed,
                "transfers_per_second": Double(latencies.count) / elapsed,
                "p50_ms": percentile(latencies, 0.50) * 1_000, "p99_ms": percentile(latencies, 0.99) * 1_000,
            ])
        }
    }

    private func transfers(_ ledger: Ledger) async throws {
        let accounts = Self.accounts
        var random = UInt64.random(in: 1 ... .max)
        func next() -> Int {
            random = random &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: random >> 33) % accounts
        }
        let start = ContinuousClock.now
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
        }
        let elapsed = seconds(since: start)
        self.report([
            "workload": "transfers", "transfers": done, "batch": self.batch, "accounts": accounts, "rejected": failed,
            "seconds": elapsed, "transfers_per_second": Double(done) / elapsed,
        ])
    }

    private func report(_ row: [String: Any]) {
        if self.json {
            print(Output.json(row))
        } else {
            print(row.sorted { $0.key < $1.key }.map { "\($0.key)=\(format($0.value))" }.joined(separator: "  "))
        }
    }
}

private func format(_ value: Any) -> String {
    if let double = value as? Double { return String(format: double >= 100 ? "%.0f" : "%.3f", double) }
    return "\(value)"
}

private func seconds(since start: ContinuousClock.Instant) -> Double {
    let duration = ContinuousClock.now - start
    return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

private func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

/// Random event ids without a syscall per id (Foundation's `UUID()` reads the kernel's
/// random source each time, which would dominate a client-side loop).
final class BenchIDs: Sendable {
    private let state = Mutex<(UInt64, UInt64)>((UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max)))

    func next() -> UUID {
        let (a, b) = self.state.withLock { state -> (UInt64, UInt64) in
            state.0 &+= 0x9E37_79B9_7F4A_7C15
            state.1 &+= 0xD1B5_4A32_D192_ED03
            return (mix(state.0), mix(state.1))
        }
        return UUID(uuid: withUnsafeBytes(of: (a, b)) { $0.load(as: uuid_t.self) })
    }
}

private func mix(_ value: UInt64) -> UInt64 {
    var z = value
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
}
