import Foundation
import Tally
import TallyTesting
import Testing

/// Backups, segments, restore to a point and snapshots, on real LMDB files.
@Suite struct RecoveryTests {
    /// What a restore must bring back: the write model, the projections and the chain.
    struct State: Equatable, CustomStringConvertible {
        var head: UInt64
        var chainHead: UInt64
        var sealHead: [UInt8]
        var accounts: [String: [UInt64]]
        var balances: [String: AccountBalance]
        var counters: [String: UInt64]
        var auditCounts: [String: Int]

        var description: String { "head \(self.head), \(self.accounts.count) accounts, \(self.counters.count) counters, audit \(self.auditCounts)" }
    }

    static let agents = 12

    /// Payments (payroll, agent-to-agent, escrow, refusals), deployments and health checks.
    static func workload(_ ledger: Ledger, round: Int) async throws {
        if round == 0 {
            _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
            for agent in 0..<Self.agents {
                _ = try await ledger.openAccount(
                    Account(id: DomainID(stringLiteral: "wallet-\(agent)"), agent: DomainID(stringLiteral: "agent-\(agent)"), currency: "APX", flags: .debitsMustNotExceedCredits))
            }
        }
        let payroll = (0..<Self.agents).map { agent in
            TransferRequest(id: DomainID(stringLiteral: "pay-\(round)-\(agent)"), debitAccount: "treasury", creditAccount: DomainID(stringLiteral: "wallet-\(agent)"), amount: 100, currency: "APX")
        }
        _ = try await ledger.submit(payroll, linked: true)
        for agent in 0..<Self.agents {
            let to = DomainID(stringLiteral: "wallet-\((agent + 1) % Self.agents)")
            _ = try await ledger.submit(
                TransferRequest(id: DomainID(stringLiteral: "task-\(round)-\(agent)"), debitAccount: DomainID(stringLiteral: "wallet-\(agent)"), creditAccount: to, amount: UInt64(agent * 7 + 1), currency: "APX"))
            // Some are refused for lack of funds: that writes nothing, and must stay so.
            _ = try await ledger.submit(
                TransferRequest(id: DomainID(stringLiteral: "big-\(round)-\(agent)"), debitAccount: DomainID(stringLiteral: "wallet-\(agent)"), creditAccount: to, amount: 1_000_000, currency: "APX"))
        }
        _ = try await ledger.submit(
            TransferRequest(id: DomainID(stringLiteral: "hold-\(round)"), debitAccount: "wallet-0", creditAccount: "treasury", amount: 5, currency: "APX", timeoutNanoseconds: 60_000_000_000))
        _ = try await ledger.commitPending(DomainID(stringLiteral: "hold-\(round)"), amount: 3)
        let deployment = DomainID(stringLiteral: "api-r\(round)")
        _ = try await ledger.execute(.startDeployment(Deployment(id: deployment, service: "api", version: "\(round)", environment: "prod", actor: "agent-1")))
        _ = try await ledger.execute(round % 2 == 0 ? .succeedDeployment(deployment, durationMilliseconds: 1_200) : .failDeployment(deployment, reason: "canary"))
        for component in ["api", "db", "queue"] {
            _ = try await ledger.execute(
                .reportHealth(HealthCheck(component: DomainID(stringLiteral: component), status: round % 3 == 1 ? .degraded : .healthy, latencyMilliseconds: UInt64(10 + round))))
        }
        _ = try await ledger.log.append(to: "agent-\(round)", events: [ProposedEvent(type: "agent.task_finished", payload: Array(#"{"round":\#(round)}"#.utf8))])
    }

    static func capture(_ ledger: Ledger) async throws -> State {
        let (views, _) = try await ledger.catchUpProjections()
        defer { views.close() }
        let head = try ledger.log.head()
        var accounts: [String: [UInt64]] = [:]
        var balances: [String: AccountBalance] = [:]
        for account in ledger.accounts() {
            accounts[account.id.description] = [account.debitsPosted, account.creditsPosted, account.debitsPending, account.creditsPending]
            balances[account.id.description] = try views.balance(of: account.id.description)
        }
        var counters: [String: UInt64] = [:]
        for (series, value) in try views.counters() {
            counters[([series.name] + series.labels.map { "\($0.0)=\($0.1)" }).joined(separator: ",")] = value
        }
        var audit: [String: Int] = [:]
        for type in ["transfer.posted", "transfer.pending", "transfer.committed", "deployment.started", "health.checked", "agent.task_finished"] {
            audit[type] = try views.audit(AuditQuery(type: type, limit: 100_000)).count
        }
        return State(
            head: head.position, chainHead: head.checksum, sealHead: head.seal, accounts: accounts, balances: balances, counters: counters,
            auditCounts: audit)
    }

    static func restoredState(_ data: String) async throws -> State {
        let ledger = try await Ledger.open(at: data, expiryInterval: nil)
        do {
            let state = try await Self.capture(ledger)
            await ledger.close()
            return state
        } catch {
            await ledger.close()
            throw error
        }
    }

    /// The drill: full backup, more events, incremental, more events, the data directory is
    /// lost; restoring base + segment to position P, or to the time of P, gives exactly the
    /// state recorded at P, and restoring everything gives the state at the segment's head.
    @Test func drillRestoresBaseAndSegmentToAPositionAndToATime() async throws {
        try await withTemporaryDirectory(prefix: "tally-drill") { dir in
            let data = dir.path + "/data"
            let backups = dir.path + "/backups"
            let ledger = try await Ledger.open(at: data, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            for round in 0..<2 { try await Self.workload(ledger, round: round) }
            // A point inside the full backup: restored record by record, not by copying its file.
            let insideFull = try await Self.capture(ledger)
            try await Self.workload(ledger, round: 2)
            _ = try await ledger.catchUpProjections().views.close()
            let full = try await Backup.create(log: ledger.log, views: nil, into: backups + "/full")
            #expect(full.kind == .full && full.firstPosition == 1 && full.headPosition == ledger.log.headPosition)
            for round in 3..<5 { try await Self.workload(ledger, round: round) }
            let atP = try await Self.capture(ledger)
            let timeOfP = try ledger.log.head().recordedAtNanoseconds
            try await Task.sleep(for: .milliseconds(5))
            for round in 5..<7 { try await Self.workload(ledger, round: round) }
            let atSegmentHead = try await Self.capture(ledger)
            let segment = try await Backup.create(log: ledger.log, views: nil, into: backups + "/inc-1", since: backups + "/full")
            #expect(segment.kind == .incremental && segment.firstPosition == full.headPosition + 1)
            #expect(segment.headPosition == atSegmentHead.head && atP.head > full.headPosition && atP.head < segment.headPosition)
            for round in 7..<8 { try await Self.workload(ledger, round: round) }
            await ledger.close()
            try FileManager.default.removeItem(atPath: data)

            let toPosition = try await Restore.run(from: backups + "/inc-1", into: dir.path + "/at-p", target: .position(atP.head))
            #expect(toPosition.headPosition == atP.head && toPosition.backups.count == 2)
            #expect(try await Self.restoredState(dir.path + "/at-p") == atP)
            let toTime = try await Restore.run(from: backups + "/inc-1", into: dir.path + "/at-t", target: .time(timeOfP))
            #expect(toTime.headPosition == atP.head)
            #expect(try await Self.restoredState(dir.path + "/at-t") == atP)
            let early = try await Restore.run(from: backups + "/inc-1", into: dir.path + "/early", target: .position(insideFull.head))
            #expect(early.headPosition == insideFull.head && early.viewsSnapshot == nil)
            #expect(try await Self.restoredState(dir.path + "/early") == insideFull)
            let whole = try await Restore.run(from: backups + "/inc-1", into: dir.path + "/all")
            #expect(whole.headPosition == segment.headPosition && whole.chainHead == segment.chainHead && whole.sealHead == segment.sealHead)
            #expect(try await Self.restoredState(dir.path + "/all") == atSegmentHead)
        }
    }

    /// Views from the newest matching snapshot plus the tail equal views replayed from 1.
    @Test func restoreFromASnapshotPlusTailEqualsRestoreByFullReplay() async throws {
        try await withTemporaryDirectory(prefix: "tally-snap") { dir in
            let data = dir.path + "/data"
            let ledger = try await Ledger.open(at: data, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            for round in 0..<3 { try await Self.workload(ledger, round: round) }
            _ = try await ledger.catchUpProjections().views.close()
            _ = try await Backup.create(log: ledger.log, views: nil, into: dir.path + "/full")
            // Events after the views snapshot in the segment: the tail a restore replays.
            for round in 3..<5 { try await Self.workload(ledger, round: round) }
            _ = try await Backup.create(log: ledger.log, views: nil, into: dir.path + "/inc", since: dir.path + "/full")
            await ledger.close()

            let fromSnapshot = try await Restore.run(from: dir.path + "/inc", into: dir.path + "/with-snapshot")
            // Both backups carry the views as caught up before the second workload: the
            // restore starts there and replays the tail after it.
            let used = try #require(fromSnapshot.viewsSnapshot)
            let snapshotViews = try #require(try BackupManifest.read(from: used).views)
            #expect(snapshotViews.values.allSatisfy { $0.position < fromSnapshot.headPosition })
            let byReplay = try await Restore.run(from: dir.path + "/inc", into: dir.path + "/by-replay", useSnapshots: false)
            #expect(byReplay.viewsSnapshot == nil)
            #expect(try await Self.restoredState(dir.path + "/with-snapshot") == Self.restoredState(dir.path + "/by-replay"))
        }
    }

    /// `tally replay` starts from the newest snapshot that matches the log, and never from
    /// one taken of another ledger.
    @Test func replayUsesOnlyASnapshotThatMatchesTheLog() async throws {
        try await withTemporaryDirectory(prefix: "tally-replay") { dir in
            let data = dir.path + "/data"
            let ledger = try await Ledger.open(at: data, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            for round in 0..<2 { try await Self.workload(ledger, round: round) }
            _ = try await ledger.catchUpProjections().views.close()
            let snapshot = try ViewSnapshot.create(log: ledger.log)
            #expect(ViewSnapshot.matches(snapshot.manifest.projections, log: ledger.log))
            try await Self.workload(ledger, round: 2)
            let expected = try await Self.capture(ledger)
            let (used, _) = try await ledger.replayAll()
            #expect(used == snapshot.path)
            #expect(try await Self.capture(ledger) == expected)
            await ledger.close()

            // Another ledger with different events: the snapshot does not match its log.
            let other = try await Ledger.open(at: dir.path + "/other", configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            for round in 0..<3 { try await Self.workload(other, round: round + 10) }
            try FileManager.default.createDirectory(atPath: ViewSnapshot.directory(in: dir.path + "/other"), withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: snapshot.path, toPath: ViewSnapshot.directory(in: dir.path + "/other") + "/foreign")
            #expect(!ViewSnapshot.matches(snapshot.manifest.projections, log: other.log))
            let (usedByOther, _) = try await other.replayAll()
            #expect(usedByOther == nil)
            await other.close()
        }
    }

    /// A backup taken while four writers run restores to a ledger whose chain verifies and
    /// whose books balance.
    @Test func aBackupTakenWhileFourWritersRunRestoresConsistently() async throws {
        try await withTemporaryDirectory(prefix: "tally-hot") { dir in
            let data = dir.path + "/data"
            let ledger = try await Ledger.open(at: data, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            try await Self.workload(ledger, round: 0)
            let (full, incremental) = try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<4 {
                    group.addTask {
                        for step in 0..<150 {
                            let from = DomainID(stringLiteral: "wallet-\((writer + step) % Self.agents)")
                            let to = DomainID(stringLiteral: "wallet-\((writer + step + 1) % Self.agents)")
                            _ = try await ledger.submit(
                                TransferRequest(id: DomainID(stringLiteral: "w\(writer)-\(step)"), debitAccount: step % 5 == 0 ? "treasury" : from, creditAccount: to, amount: UInt64(step % 40 + 1), currency: "APX"))
                            if step % 10 == 0 {
                                _ = try await ledger.execute(.reportHealth(HealthCheck(component: DomainID(stringLiteral: "w\(writer)"), status: .healthy, latencyMilliseconds: 3)))
                            }
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(30))
                let full = try await Backup.create(log: ledger.log, views: nil, into: dir.path + "/full")
                try await Task.sleep(for: .milliseconds(30))
                let incremental = try await Backup.create(log: ledger.log, views: nil, into: dir.path + "/inc", since: dir.path + "/full")
                try await group.waitForAll()
                return (full, incremental)
            }
            #expect(full.headPosition > 0 && incremental.headPosition >= full.headPosition)
            await ledger.close()
            for (backup, head) in [("full", full.headPosition), ("inc", incremental.headPosition)] {
                let report = try await Restore.run(from: dir.path + "/" + backup, into: dir.path + "/restored-" + backup)
                #expect(report.headPosition == head)
                let restored = try await Ledger.open(at: dir.path + "/restored-" + backup, expiryInterval: nil)
                #expect(try restored.log.verify().isClean)
                let accounts = restored.accounts()
                let net = accounts.reduce(Int128(0)) { $0 + Int128($1.creditsPosted) - Int128($1.debitsPosted) }
                #expect(net == 0, "double entry: credits and debits must cancel out")
                for account in accounts where account.flags.contains(.debitsMustNotExceedCredits) {
                    #expect(account.debitsPosted + account.debitsPending <= account.creditsPosted, "\(account.id) overdrawn")
                }
                await restored.close()
            }
        }
    }
}
