import NIOConcurrencyHelpers
import ArgumentParser
import Foundation
import Synchronization
import Tally

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Tally on a temporary data directory: appends, reads, payments, projections, HTTP, recovery.",
        discussion: """
            Workloads (200-byte JSON payment events, as the peers write them, over
            10,000 streams, expected-version checks and idempotency on, every append
            durable); w1 … w8 are the names the docs use:
              batch     (W1) appends of --batch events (default 1,000), one stream each
              single    (W2) one event per append from --clients tasks (1, 16, 256)
              read      (W4) reads of one 100-event stream, 2,000 times
              scan      a full verifying scan (checksums, chain, seals, indexes)
              transfers durable posted transfers in batches of --batch over 10,000
                        accounts (uniform), decided inside the group commit
              payroll   (W5) one linked batch from one treasury to 10,000 wallets
              hot       (W5) --clients tasks posting single transfers from one shared
                        treasury (the hot account) to random wallets
              replay    (W3) rebuild the balances projection from the whole log (alone
                        it first posts --events transfers)
              mixed     (W6) --events of a fleet mix (70% transfers, 25% health checks,
                        5% deployment steps) with every projection live (lag sampled),
                        then each built-in projection rebuilt alone, then all
                        together (the log read once for all, as `tally replay`)
              export    `tally audit export` of the whole log, JSONL then CSV (beside
                        the verifying scan: the raw limit's scan_verify)
              backup    (W8) a full backup of what the other workloads wrote, beside
                        mdb_env_copy2 compact + fsync (and `mdb_copy -c` if installed);
                        then restore + replay, views from the snapshot and from 1;
                        then as many events again and the same (round 2)
              http      (W7) appends through `tally serve` on loopback driven by wrk:
                        single events over --connections connections, 1,000-event
                        requests and GET /health, each beside the same Hummingbird
                        stack with nothing behind it (the HTTP floor)
            scan, export and backup alone run batch first, so they have a log to measure.
            It first prints the machine: CPU, cores, memory, kernel, the filesystem of
            --directory and the fsync latency measured there (200 write + fdatasync).
            Each result prints as soon as it is measured; on a terminal the long workloads
            (batch, single, transfers, mixed) show a progress bar on standard error.
            batch and transfers also report the log's writer thread: its CPU time per
            event (writer_cpu_us_per_event) and the share of the run it was busy
            (writer_busy), which other load on the machine disturbs less than the rate.
            Each of the two starts with every earlier event indexed and ends by indexing
            its own (timed; index_seconds of it): the indexer runs on the writer thread
            once the in-memory tail reaches its limit (200,000 events by default), and
            neither rate may leave its share of that work to the other.
            `bash Benchmarks/peers/run.sh` runs these beside the raw LMDB limit, SQLite
            and PostgreSQL and writes docs/benchmarks.md.
            """)

    @Argument(help: "w1 … w8, or batch, single, scan, read, transfers, payroll, hot, replay, mixed, export, backup, http; all (default) is every one but http unless wrk is installed.")
    var workloads: [String] = ["all"]
    @Option(help: "Events for the batch workload.") var events = 200_000
    @Option(help: "Events per append in the batch workload.") var batch = 1_000
    @Option(help: "Events per client in the single workload.") var singleEvents = 2_000
    @Option(help: "Concurrent clients for the single and hot workloads (repeatable; default 1, 16, 256).") var clients: [Int] = [1, 16, 256]
    @Option(help: "Where to put the temporary data directory.") var directory = FileManager.default.temporaryDirectory.path
    @Option(help: "Keep-alive connections for the http workload.") var connections = 64
    @Option(help: "Seconds each http run lasts.") var httpSeconds = 10
    @Flag(help: "Print JSON lines.") var json = false
    @Option(help: "Also write a Markdown report (table and charts) to this file.") var report: String?
    @Flag(help: "Keep the data directory afterwards (its path is printed) to inspect or profile it.") var keep = false

    func run() async throws {
        let selected = try Self.select(self.workloads)
        let out = BenchReport(json: self.json)
        let root = "\(self.directory)/tally-bench-\(getpid())"
        defer {
            if self.keep {
                FileHandle.standardError.write(Data("kept the benchmark's data directory: \(root)\n".utf8))
            } else {
                try? FileManager.default.removeItem(atPath: root)
            }
        }
        out.add(BenchMachine.describe(directory: self.directory))
        let ledger = try await Ledger.open(at: root, configuration: LogConfiguration(createIfMissing: true))
        let payload = Self.payload
        let ids = BenchIDs()
        if selected.contains("batch") || Self.needsSeed(selected) {
            let bar = ProgressBar(label: "batch", json: self.json)
            try await ledger.log.checkpointIndex()
            let start = ContinuousClock.now
            let writerStart = ledger.log.writerCPUSeconds
            var appended = 0
            while appended < self.events {
                let count = min(self.batch, self.events - appended)
                // Each event to its own stream (as the peers' W1 does): one atomic append of
                // `count` streams, each with its version check and id.
                let appends = (0..<count).map { index in
                    StreamAppend(
                        streamID: "bench-\((appended + index) * 7_919 % 10_000)",
                        events: [ProposedEvent(id: ids.next(), type: "bench.appended", payload: payload)])
                }
                _ = try await ledger.log.append(appends)
                appended += count
                bar.step(appended, of: self.events)
            }
            let indexSeconds = try await Self.indexTail(ledger)
            let elapsed = seconds(since: start)
            bar.clear()
            let stats = try ledger.log.stats()
            let fileBytes = (try? FileManager.default.attributesOfItem(atPath: EventLog.logPath(in: root) + "/data.mdb")[.size] as? Int) ?? 0
            out.add(["workload": "batch", "events": appended, "batch": self.batch, "seconds": elapsed,
                         "events_per_second": Double(appended) / elapsed,
                         "writer_cpu_us_per_event": Self.writerMicroseconds(ledger, since: writerStart, per: appended),
                         "writer_busy": Self.writerBusy(ledger, since: writerStart, over: elapsed),
                         "index_seconds": indexSeconds,
                         "disk_bytes_per_event": Double(fileBytes) / Double(max(1, stats.events))])
        }
        if selected.contains("single") {
            for clients in self.clients {
                let bar = ProgressBar(label: "single, \(clients) clients", json: self.json)
                let total = clients * self.singleEvents
                let appended = BenchCounter()
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
                                let done = appended.increment()
                                if client == 0 { bar.step(done, of: total) }
                            }
                            return mine
                        }
                    }
                    return try await group.reduce(into: [Double]()) { $0.append(contentsOf: $1) }
                }.sorted()
                let elapsed = seconds(since: start)
                bar.clear()
                out.add([
                    "workload": "single", "clients": clients, "events": latencies.count, "seconds": elapsed,
                    "events_per_second": Double(latencies.count) / elapsed,
                    "p50_ms": percentile(latencies, 0.50) * 1_000, "p99_ms": percentile(latencies, 0.99) * 1_000,
                    "p999_ms": percentile(latencies, 0.999) * 1_000,
                ])
            }
        }
        if selected.contains("read") {
            try await self.readStream(ledger, payload: payload, ids: ids, out: out)
        }
        if selected.contains("scan") {
            try await ledger.log.checkpointIndex()
            let start = ContinuousClock.now
            let result = try ledger.log.verify()
            let elapsed = seconds(since: start)
            out.add(["workload": "scan", "records": result.recordsChecked, "clean": result.isClean, "seconds": elapsed,
                         "records_per_second": Double(result.recordsChecked) / elapsed])
        }
        if selected.contains("transfers") || selected.contains("payroll") || selected.contains("hot") {
            try await self.openBenchAccounts(ledger)
        }
        if selected.contains("transfers") {
            try await self.transfers(ledger, out: out)
        }
        if selected.contains("payroll") {
            try await self.payroll(ledger, out: out)
        }
        if selected.contains("hot") {
            try await self.hot(ledger, out: out)
        }
        if selected.contains("replay") {
            if selected == ["replay"] {
                try await self.openBenchAccounts(ledger)
                try await self.transfers(ledger, out: out)
            }
            let views = try ViewStore.open(dataDirectory: root, projections: [BalancesProjection()])
            let worker = try ProjectionWorker(projection: BalancesProjection(), log: ledger.log, views: views)
            let start = ContinuousClock.now
            try await worker.catchUp()
            let elapsed = seconds(since: start)
            views.close()
            let events = worker.status.checkpoint
            out.add(["workload": "replay", "projection": "balances", "events": events, "seconds": elapsed,
                         "events_per_second": Double(events) / elapsed])
        }
        if selected.contains("mixed") {
            try await self.mixed(ledger, root: root, out: out)
        }
        if selected.contains("export") {
            try await self.export(ledger, root: root, out: out)
        }
        if selected.contains("http") {
            try await BenchHTTP(root: root, connections: self.connections, seconds: self.httpSeconds, report: out.add).run()
        }
        if selected.contains("backup") {
            let mdbCopy = ["/usr/bin/mdb_copy", "/usr/local/bin/mdb_copy"].first { FileManager.default.isExecutableFile(atPath: $0) }
            try await BenchRecovery(root: root, report: out.add).run(ledger, mdbCopy: mdbCopy, grow: Int(ledger.log.headPosition), ids: ids, payload: payload)
        }
        await ledger.close()
        if let report = self.report {
            try out.write(markdown: report, command: (["tally"] + CommandLine.arguments.dropFirst()).joined(separator: " "))
            print("report written to \(report)")
        }
    }

    /// Whether the selection only reads what others write (scan, export, backup alone):
    /// then the batch workload runs first, so they have a log to measure.
    static func needsSeed(_ selected: Set<String>) -> Bool {
        let writers: Set = ["batch", "single", "read", "transfers", "payroll", "hot", "replay", "mixed"]
        return selected.isDisjoint(with: writers) && !selected.isDisjoint(with: ["scan", "export", "backup"])
    }

    /// The workloads to run: the names (w1 … w8) map to the ones here.
    static func select(_ names: [String]) throws -> Set<String> {
        let aliases: [String: [String]] = [
            "w1": ["batch"], "w2": ["single"], "w3": ["replay"], "w4": ["read"], "w5": ["payroll", "hot"], "w6": ["mixed"],
            "w7": ["http"], "w8": ["backup"],
        ]
        let known: Set = ["batch", "single", "scan", "read", "transfers", "payroll", "hot", "replay", "mixed", "export", "backup", "http"]
        var selected = Set<String>()
        for name in names.map({ $0.lowercased() }) {
            if name == "all" {
                selected.formUnion(known)
                if !FileManager.default.isExecutableFile(atPath: "/usr/bin/wrk") { selected.remove("http") }
            } else if let mapped = aliases[name] {
                selected.formUnion(mapped)
            } else if known.contains(name) {
                selected.insert(name)
            } else {
                throw CLIError(code: "invalid_argument", message: "no workload \(name): use w1 … w8, all, or one of \(known.sorted().joined(separator: ", "))")
            }
        }
        return selected
    }
}

func seconds(since start: ContinuousClock.Instant) -> Double {
    let duration = ContinuousClock.now - start
    return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

/// Random event ids without a syscall per id (Foundation's `UUID()` reads the kernel's
/// random source each time, which would dominate a client-side loop).
/// A count shared by a workload's tasks (for its progress bar).
final class BenchCounter: Sendable {
    private let value = Atomic<Int>(0)

    /// Adds one and returns the new count.
    func increment() -> Int { self.value.add(1, ordering: .relaxed).newValue }
}

final class BenchIDs: Sendable {
    private let state = NIOLockedValueBox<(UInt64, UInt64)>((UInt64.random(in: .min ... .max), UInt64.random(in: .min ... .max)))

    func next() -> UUID {
        let (a, b) = self.state.withLockedValue { state -> (UInt64, UInt64) in
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
