import Foundation
import Logging
import ServiceLifecycle
import Tally
import TallyProjections
import TallyTesting
import Testing

@Suite struct BalancesProjectionTests {
    /// A mixed payments workload: posted, pending (committed, voided, expired), reversals.
    private func workload(_ ledger: Ledger, rounds: Range<Int>) async throws {
        for index in rounds {
            let wallet = DomainID(stringLiteral: "w\(index % 7)")
            let other = DomainID(stringLiteral: "w\((index + 3) % 7)")
            _ = try await ledger.submit(TransferRequest(id: DomainID(stringLiteral: "pay-\(index)"), debitAccount: "treasury", creditAccount: wallet, amount: 100, currency: "APX"))
            _ = try await ledger.submit(TransferRequest(id: DomainID(stringLiteral: "hold-\(index)"), debitAccount: wallet, creditAccount: other, amount: 30, currency: "APX", timeoutNanoseconds: index % 5 == 0 ? 1 : 3_600_000_000_000))
            switch index % 3 {
            case 0: _ = try await ledger.commitPending(DomainID(stringLiteral: "hold-\(index)"), amount: 20)
            case 1: _ = try await ledger.voidPending(DomainID(stringLiteral: "hold-\(index)"))
            default: break
            }
            if index % 4 == 0 { _ = try await ledger.reverse(DomainID(stringLiteral: "undo-\(index)"), of: DomainID(stringLiteral: "pay-\(index)"), amount: 10) }
            if index % 10 == 9 { try await ledger.expireDuePending() }
        }
    }

    private func expectMatchesWriteModel(_ views: ViewStore, _ ledger: Ledger) throws {
        for account in ledger.accounts() {
            let projected = try #require(try views.balance(of: account.id.rawValue), "\(account.id) missing from the projection")
            #expect(
                [projected.debitsPosted, projected.creditsPosted, projected.debitsPending, projected.creditsPending]
                    == [account.debitsPosted, account.creditsPosted, account.debitsPending, account.creditsPending],
                "\(account.id)")
        }
    }

    @Test func equalsTheWriteModelAndAnIndependentFoldAcrossRestart() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
            for index in 0..<7 {
                _ = try await ledger.openAccount(Account(id: DomainID(stringLiteral: "w\(index)"), agent: "a", currency: "APX", flags: .debitsMustNotExceedCredits))
            }
            try await self.workload(ledger, rounds: 0..<40)
            var views = try ViewStore.open(dataDirectory: dir.path, projections: [BalancesProjection()])
            try await ProjectionWorker(projection: BalancesProjection(), log: ledger.log, views: views).catchUp()
            try self.expectMatchesWriteModel(views, ledger)
            let middle = ledger.log.headPosition
            views.close()

            // More writes; a new worker resumes from its checkpoint: nothing counted twice.
            try await self.workload(ledger, rounds: 40..<80)
            views = try ViewStore.open(dataDirectory: dir.path, projections: [BalancesProjection()])
            let worker = try ProjectionWorker(projection: BalancesProjection(), log: ledger.log, views: views)
            #expect(worker.status.checkpoint == middle)
            try await worker.catchUp()
            #expect(worker.status.lagEvents == 0)
            try self.expectMatchesWriteModel(views, ledger)

            // Balance as of a position equals a fold of the log up to it.
            for probe in [middle / 3, middle, ledger.log.headPosition - 5] {
                var posted: [String: (debits: UInt64, credits: UInt64)] = [:]
                var held: [String: (String, String)] = [:]
                for event in try ledger.log.read(fromPosition: 1, limit: Int(probe)) where PaymentEvent.isPaymentStream(event.streamID) {
                    switch try PaymentEvent(type: event.type, payload: event.payload) {
                    case .transferCreated(let transfer) where transfer.kind == .pending:
                        held[transfer.id.rawValue] = (transfer.debitAccount.rawValue, transfer.creditAccount.rawValue)
                    case .transferCreated(let transfer):
                        posted[transfer.debitAccount.rawValue, default: (0, 0)].debits += transfer.amount
                        posted[transfer.creditAccount.rawValue, default: (0, 0)].credits += transfer.amount
                    case .transferCommitted(let id, let amount):
                        if let (debit, credit) = held[id.rawValue] {
                            posted[debit, default: (0, 0)].debits += amount
                            posted[credit, default: (0, 0)].credits += amount
                        }
                    default: break
                    }
                }
                for (account, expected) in posted {
                    let line = try #require(try views.statementLine(of: account, atPosition: probe))
                    #expect(line.debitsPosted == expected.debits && line.creditsPosted == expected.credits, "\(account) at \(probe)")
                }
            }
            let lines = try views.statement(of: "w1", limit: 1_000)
            #expect(!lines.isEmpty && lines.map(\.position) == lines.map(\.position).sorted())
            views.close()
            await ledger.close()
        }
    }

    @Test func followsTheLogLiveAndQueriesCanWaitForAPosition() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            let views = try ViewStore.open(dataDirectory: dir.path, projections: [BalancesProjection()])
            let worker = try ProjectionWorker(projection: BalancesProjection(), log: ledger.log, views: views)
            let running = Task { try await worker.run() }
            _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
            _ = try await ledger.openAccount(Account(id: "w0", agent: "a", currency: "APX"))
            for index in 0..<50 {
                _ = try await ledger.submit(TransferRequest(id: DomainID(stringLiteral: "p\(index)"), debitAccount: "treasury", creditAccount: "w0", amount: 2, currency: "APX"))
            }
            #expect(await worker.wait(until: ledger.log.headPosition, timeout: .seconds(10)))
            #expect(try views.balance(of: "w0")?.creditsPosted == 100)
            running.cancel()
            _ = try? await running.value
            views.close()
            await ledger.close()
        }
    }

    @Test func anApplyThatThrowsStopsTheProjectionAndNamesThePosition() async throws {
        struct Failing: Projection {
            let name = "failing"
            let version: UInt32 = 1
            let databases = ["failing.state"]
            func apply(_ events: [RecordedEvent], in store: ProjectionStore) throws {
                for event in events where event.type == "poison.pill" {
                    throw ProjectionError(position: event.position, message: "cannot digest \(event.type)")
                }
            }
        }
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            _ = try await ledger.log.append(to: "misc-1", events: [ProposedEvent(type: "fine.event", payload: Array("{}".utf8))])
            _ = try await ledger.log.append(to: "misc-1", events: [ProposedEvent(type: "poison.pill", payload: Array("{}".utf8))])
            let views = try ViewStore.open(dataDirectory: dir.path, projections: [Failing()])
            let worker = try ProjectionWorker(projection: Failing(), log: ledger.log, views: views)
            await #expect(throws: ProjectionError.self) { try await worker.catchUp() }
            #expect(worker.status.failure?.contains("position 2") == true, "\(worker.status)")
            #expect(worker.status.checkpoint == 0, "the failing batch must not be applied")
            views.close()
            await ledger.close()
        }
    }
}

extension BalancesProjectionTests {
    /// A projection that decodes ahead (``Projection/prepare(_:)``) and fails there: the
    /// batches before the failing one are applied, the failing one is not, and the position
    /// is named, whether the batch was prepared by the read-ahead or inline.
    @Test func aPrepareThatThrowsStopsTheProjectionAfterTheBatchesBeforeIt() async throws {
        struct Counting: Projection {
            let name = "counting"
            let version: UInt32 = 1
            let databases = ["counting.state"]
            func prepare(_ events: [RecordedEvent]) throws -> [UInt64] {
                try events.map { event in
                    guard event.type != "poison.pill" else { throw ProjectionError(position: event.position, message: "cannot decode") }
                    return event.position
                }
            }
            func apply(_ batch: [UInt64], in store: ProjectionStore) throws {
                for position in batch {
                    try store.put(store.database("counting.state"), key: withUnsafeBytes(of: position.bigEndian) { Array($0) }, value: [1])
                }
            }
        }
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            for index in 1...25 {
                let type = index == 23 ? "poison.pill" : "fine.event"
                _ = try await ledger.log.append(to: "misc-1", events: [ProposedEvent(type: type, payload: Array("{}".utf8))])
            }
            let views = try ViewStore.open(dataDirectory: dir.path, projections: [Counting()])
            let worker = try ProjectionWorker(projection: Counting(), log: ledger.log, views: views)
            await #expect(throws: ProjectionError.self) { try await worker.catchUp(batchEventsMax: 10) }
            #expect(worker.status.failure?.contains("position 23") == true, "\(worker.status)")
            #expect(worker.status.checkpoint == 20, "batches 1–10 and 11–20 applied, 21–25 not")
            let together = try ProjectionWorker(projection: Counting(), log: ledger.log, views: views)
            await #expect(throws: ProjectionError.self) { try await ProjectionWorker.catchUp([together], batchEventsMax: 10) }
            #expect(together.status.checkpoint == 20)
            views.close()
            await ledger.close()
        }
    }
}

/// A real process applying the balances projection is killed with SIGKILL at random
/// moments; each restart resumes from its checkpoint, and the end result equals the write
/// model: nothing counted twice, nothing missed.
@Suite struct ProjectionCrashTests {
    @Test func killedWhileApplyingNothingIsCountedTwiceOrMissed() async throws {
        try await withTemporaryDirectory(prefix: "tally-proj-crash") { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
            for index in 0..<20 { _ = try await ledger.openAccount(Account(id: DomainID(stringLiteral: "w\(index)"), agent: "a", currency: "APX")) }
            for chunk in 0..<10 {
                let requests = (0..<1_000).map { index in
                    TransferRequest(
                        id: DomainID(stringLiteral: "t\(chunk)-\(index)"), debitAccount: "treasury",
                        creditAccount: DomainID(stringLiteral: "w\(index % 20)"), amount: UInt64(1 + index % 7), currency: "APX")
                }
                _ = try await ledger.submit(requests)
            }
            let expected = ledger.accounts()
            let head = ledger.log.headPosition
            await ledger.close()

            var lastCheckpoint: UInt64 = 0
            var kills = 0
            for _ in 0..<12 {
                let child = Process()
                child.executableURL = URL(fileURLWithPath: BuiltProducts.executable("TallyCrashChild"))
                child.arguments = [dir.path, "0", "0", "project"]
                let out = Pipe()
                child.standardOutput = out
                child.standardError = FileHandle.nullDevice
                try child.run()
                usleep(UInt32.random(in: 5_000...60_000))
                kill(child.processIdentifier, SIGKILL)
                let lines = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n")
                child.waitUntilExit()
                if child.terminationReason == .uncaughtSignal { kills += 1 }
                let seen = lines.compactMap { $0.hasPrefix("AT ") ? UInt64($0.dropFirst(3)) : nil }
                #expect(seen == seen.sorted(), "checkpoints move forward")
                if let first = seen.first { #expect(first > lastCheckpoint, "a restart resumes after its checkpoint") }
                lastCheckpoint = max(lastCheckpoint, seen.last ?? lastCheckpoint)
                if lines.contains("DONE") { break }
            }
            #expect(kills > 0, "no kill landed while applying")

            let reopened = try await Ledger.open(at: dir.path, expiryInterval: nil)
            let (views, status) = try await reopened.catchUpProjections()
            #expect(status.first?.checkpoint == head)
            for account in expected {
                let projected = try #require(try views.balance(of: account.id.rawValue))
                #expect(projected.debitsPosted == account.debitsPosted && projected.creditsPosted == account.creditsPosted, "\(account.id)")
            }
            // One statement line per posting: 2 per transfer, none repeated.
            var lines = 0
            for account in expected { lines += try views.statement(of: account.id.rawValue, limit: 100_000).count }
            #expect(lines == 2 * 10_000)
            views.close()
            await reopened.close()
        }
    }
}

@Suite struct ProjectionServiceTests {
    @Test func runsInAServiceGroupAndStopsOnGracefulShutdownWithItsCheckpointKept() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
            _ = try await ledger.openAccount(Account(id: "w0", agent: "a", currency: "APX"))
            let views = try ViewStore.open(dataDirectory: dir.path, projections: [BalancesProjection()])
            let worker = try ProjectionWorker(projection: BalancesProjection(), log: ledger.log, views: views)
            let group = ServiceGroup(configuration: ServiceGroupConfiguration(services: [worker], logger: Logger(label: "test")))
            let running = Task { try await group.run() }
            _ = try await ledger.submit(TransferRequest(id: "p1", debitAccount: "treasury", creditAccount: "w0", amount: 7, currency: "APX"))
            // Returns as soon as the worker is there (ms alone); the limit only ends a hung run.
            // Under ASan, beside the crash tests on two cores, it once took more than 10 s.
            #expect(await worker.wait(until: ledger.log.headPosition, timeout: .seconds(120)))
            await group.triggerGracefulShutdown()
            try await running.value
            #expect(try views.checkpoint(of: "balances").position == ledger.log.headPosition)
            #expect(try views.balance(of: "w0")?.creditsPosted == 7)
            views.close()
            await ledger.close()
        }
    }
}

@Suite struct HealthProjectionTests {
    @Test func statusIncidentsAndUptimeEqualAFoldOfTheLog() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            var random = SystemRandomNumberGenerator()
            for _ in 0..<300 {
                let component = DomainID(stringLiteral: "c\(Int.random(in: 0..<3, using: &random))")
                let roll = Int.random(in: 0..<10, using: &random)
                let status: HealthStatus = roll < 6 ? .healthy : roll < 8 ? .degraded : .unhealthy
                _ = try await ledger.execute(.reportHealth(HealthCheck(component: component, status: status, latencyMilliseconds: 5)))
            }
            let views = try ViewStore.open(dataDirectory: dir.path, projections: [HealthProjection()])
            try await ProjectionWorker(projection: HealthProjection(), log: ledger.log, views: views).catchUp()
            // The fold, written plainly: per component, the checks in order.
            var checks: [String: [(time: UInt64, status: HealthStatus)]] = [:]
            for event in try ledger.log.read(fromPosition: 1, limit: 10_000) where event.type == "health.checked" {
                guard case .healthChecked(let check) = try OperationsEvent(type: event.type, payload: event.payload) else { continue }
                checks[check.component.rawValue, default: []].append((event.recordedAtNanoseconds, check.status))
            }
            let components = try views.components()
            #expect(components.map(\.name) == checks.keys.sorted())
            for (name, health) in components {
                let list = try #require(checks[name])
                #expect(health.status == list.last?.status)
                // Since: the time of the first check of the final run of equal statuses.
                var since = list.last?.time ?? 0
                for check in list.reversed() where check.status == health.status { since = check.time }
                if let lastDifferent = list.lastIndex(where: { $0.status != health.status }) { since = list[lastDifferent + 1].time }
                #expect(health.since == since, "\(name)")
                // Incidents: maximal runs of non-healthy checks, each ended by the next healthy check.
                var expected: [(start: UInt64, end: UInt64?)] = []
                for check in list {
                    if check.status != .healthy, expected.last.map({ $0.end != nil }) ?? true { expected.append((check.time, nil)) }
                    if check.status == .healthy, let open = expected.last, open.end == nil { expected[expected.count - 1].end = check.time }
                }
                let incidents = try views.incidents(of: name)
                #expect(incidents.map(\.start) == expected.map(\.start) && incidents.map(\.end) == expected.map(\.end), "\(name)")
                // Uptime over everything since the first check.
                let now = (list.last?.time ?? 0) + 1_000
                var healthy: UInt64 = 0
                for (index, check) in list.enumerated() where check.status == .healthy {
                    var next = now
                    for later in list[(index + 1)...] where later.status != .healthy { next = later.time; break }
                    if index > 0 && list[index - 1].status == .healthy { continue }
                    healthy += next - check.time
                }
                let uptime = try #require(try views.uptime(of: name, window: .seconds(86_400), now: now))
                let first = try #require(list.first?.time)
                #expect(abs(uptime - Double(healthy) / Double(now - first)) < 1e-9, "\(name)")
            }
            views.close()
            await ledger.close()
        }
    }
}

@Suite struct DeploymentsProjectionTests {
    @Test func recordsAndDORAEqualAFoldOfTheLog() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            var random = SystemRandomNumberGenerator()
            for _ in 0..<400 {
                let id = DomainID(stringLiteral: "d\(Int.random(in: 0..<60, using: &random))")
                let service = DomainID(stringLiteral: "s\(Int.random(in: 0..<2, using: &random))")
                let command: OperationsCommand
                switch Int.random(in: 0..<4, using: &random) {
                case 0: command = .startDeployment(Deployment(id: id, service: service, version: "v", environment: "prod", actor: "a"))
                case 1: command = .succeedDeployment(id, durationMilliseconds: UInt64.random(in: 1...9_000, using: &random))
                case 2: command = .failDeployment(id, reason: "x")
                default: command = .rollBackDeployment(id, toVersion: "old", reason: "y")
                }
                _ = try await ledger.execute(command)
            }
            let views = try ViewStore.open(dataDirectory: dir.path, projections: Ledger.builtInProjections)
            for projection in Ledger.builtInProjections {
                try await ProjectionWorker(projection: projection, log: ledger.log, views: views).catchUp()
            }
            // The fold: final state per deployment, straight from the events.
            var states: [String: (service: String, state: String, duration: UInt64?)] = [:]
            for event in try ledger.log.read(fromPosition: 1, limit: 10_000) where event.streamID.hasPrefix("deployment-") {
                switch try OperationsEvent(type: event.type, payload: event.payload) {
                case .deploymentStarted(let deployment): states[deployment.id.rawValue] = (deployment.service.rawValue, "started", nil)
                case .deploymentSucceeded(let id, let duration): states[id.rawValue]?.state = "succeeded"; states[id.rawValue]?.duration = duration
                case .deploymentFailed(let id, _): states[id.rawValue]?.state = "failed"
                case .deploymentRolledBack(let id, _, _): states[id.rawValue]?.state = "rolled_back"
                default: break
                }
            }
            let now = UInt64(Date().timeIntervalSince1970 * 1e9) + 1_000_000_000
            for service in ["s0", "s1"] {
                let history = try views.deploymentHistory(service: service, environment: "prod", limit: 1_000)
                let mine = states.filter { $0.value.service == service }
                #expect(Set(history.map(\.id)) == Set(mine.keys))
                for record in history {
                    #expect(record.state == mine[record.id]?.state, "\(record.id)")
                    #expect(record.durationMilliseconds == mine[record.id]?.duration, "\(record.id)")
                }
                let dora = try views.dora(service: service, environment: "prod", window: .seconds(3_600), now: now)
                let finished = mine.values.filter { $0.state != "started" }
                let failed = finished.filter { $0.state == "failed" || $0.state == "rolled_back" }
                #expect(dora.deployments == mine.count)
                #expect(dora.changeFailureRate == (finished.isEmpty ? nil : Double(failed.count) / Double(finished.count)))
                let leads = mine.values.compactMap(\.duration)
                if !leads.isEmpty {
                    #expect(abs((dora.leadTimeSeconds ?? -1) - Double(leads.reduce(0, +)) / 1e3 / Double(leads.count)) < 1e-9)
                }
            }
            views.close()
            await ledger.close()
        }
    }
}

@Suite struct AuditProjectionTests {
    @Test func queriesEqualFilteringTheLog() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            var random = SystemRandomNumberGenerator()
            for index in 0..<400 {
                let actor = ["ops", "agent-1", "agent-2", nil].randomElement(using: &random) ?? nil
                let type = ["task.started", "task.finished", "note.added"].randomElement(using: &random) ?? "note.added"
                _ = try await ledger.log.append(
                    to: "\(["task", "note"].randomElement(using: &random) ?? "task")-\(index % 9)",
                    events: [ProposedEvent(type: type, payload: Array("{}".utf8), metadata: EventMetadata(actor: actor))])
            }
            let views = try ViewStore.open(dataDirectory: dir.path, projections: [AuditProjection()])
            try await ProjectionWorker(projection: AuditProjection(), log: ledger.log, views: views).catchUp()
            let all = try ledger.log.read(fromPosition: 1, limit: 1_000)
            let middle = all[all.count / 2].recordedAtNanoseconds
            let queries: [AuditQuery] = [
                AuditQuery(actor: "ops", limit: 1_000), AuditQuery(type: "task.finished", limit: 1_000),
                AuditQuery(actor: "agent-1", type: "task.started", category: "task", limit: 1_000),
                AuditQuery(category: "note", since: middle, limit: 1_000), AuditQuery(until: middle, limit: 1_000),
                AuditQuery(actor: "agent-2", afterPosition: 200, limit: 7),
            ]
            for query in queries {
                let expected = all.filter { event in
                    (query.actor == nil || event.metadata.actor == query.actor) && (query.type == nil || event.type == query.type)
                        && (query.category == nil || event.category == query.category)
                        && (query.since.map { event.recordedAtNanoseconds >= $0 } ?? true)
                        && (query.until.map { event.recordedAtNanoseconds <= $0 } ?? true) && event.position > query.afterPosition
                }.prefix(query.limit).map(\.position)
                #expect(try views.audit(query) == Array(expected), "\(query)")
            }
            views.close()
            await ledger.close()
        }
    }
}

@Suite struct ShadowRebuildTests {
    /// The next version of the balances projection: the same, plus a marker account, and it
    /// can be made to fail once at a position (a crash in the middle of the rebuild).
    struct BalancesV2: Projection {
        let name = "balances"
        let version: UInt32 = BalancesProjection().version + 1
        let databases = BalancesProjection().databases
        let failAt: UInt64?

        func apply(_ events: [RecordedEvent], in store: ProjectionStore) throws {
            if let failAt, events.contains(where: { $0.position == failAt }) {
                throw ProjectionError(position: failAt, message: "simulated crash")
            }
            try BalancesProjection().apply(events, in: store)
            try store.put(store.database("balances.accounts"), key: Array("__v2__".utf8), value: [UInt8](repeating: 0, count: 32) + Array("V2".utf8))
        }
    }

    @Test func aNewVersionRebuildsInShadowQueriesAnswerFromTheOldAndTheSwapIsAtomic() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
            _ = try await ledger.openAccount(Account(id: "w0", agent: "a", currency: "APX"))
            for index in 0..<300 {
                _ = try await ledger.submit(TransferRequest(id: DomainID(stringLiteral: "p\(index)"), debitAccount: "treasury", creditAccount: "w0", amount: 1, currency: "APX"))
            }
            let views = try ViewStore.open(dataDirectory: dir.path, projections: [BalancesProjection()])
            try await ProjectionWorker(projection: BalancesProjection(), log: ledger.log, views: views).catchUp()
            #expect(try views.balance(of: "w0")?.creditsPosted == 300)
            let head = ledger.log.headPosition

            // The rebuild stops half-way (a crash): queries still answer from the current version.
            let failing = try ProjectionWorker(projection: BalancesV2(failAt: 150), log: ledger.log, views: views)
            await #expect(throws: ProjectionError.self) { try await failing.catchUp(batchEventsMax: 40) }
            var meta = try views.meta(of: "balances")
            let current = BalancesProjection().version
            #expect(meta.version == current && meta.position == head)
            #expect(meta.shadowVersion == current + 1 && meta.shadowPosition > 0 && meta.shadowPosition < 150)
            #expect(try views.balance(of: "w0")?.creditsPosted == 300)
            #expect(try views.balance(of: "__v2__") == nil)

            // A new worker resumes the rebuild where it stopped, and swaps when caught up.
            let resumed = try ProjectionWorker(projection: BalancesV2(failAt: nil), log: ledger.log, views: views)
            #expect(resumed.status.checkpoint == meta.shadowPosition)
            try await resumed.catchUp(batchEventsMax: 40)
            meta = try views.meta(of: "balances")
            #expect(meta.version == current + 1 && meta.position == head && meta.shadowVersion == nil && meta.generation == 1)
            #expect(try views.balance(of: "w0")?.creditsPosted == 300)
            #expect(try views.balance(of: "__v2__")?.currency == "V2")
            let lines = try views.statement(of: "w0", limit: 1_000)
            #expect(lines.count == 300 && lines.last?.creditsPosted == 300)
            views.close()
            await ledger.close()
        }
    }
}
