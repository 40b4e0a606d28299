import Foundation
import Tally
import TallyTesting
import Testing

/// `tally backup create` and `tally restore` killed with SIGKILL at random moments: what is
/// left is either nothing that looks like a backup or a restored ledger, or a complete,
/// valid one; the next attempt succeeds. `TALLY_CRASH_KILLS` scales the number of kills.
@Suite struct RecoveryCrashTests {
    static var kills: Int { max(2, (Int(ProcessInfo.processInfo.environment["TALLY_CRASH_KILLS"] ?? "") ?? 50) / 8) }

    /// Runs `tally arguments…`, kills it after `delay` if it still runs; `true` if it was killed.
    static func runAndKill(_ arguments: [String], after delay: Duration) async throws -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.executable("tally"))
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        try await Task.sleep(for: delay)
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return killed && process.terminationReason == .uncaughtSignal
    }

    @Test func aKilledBackupOrRestoreLeavesNothingHalfDone() async throws {
        try await withTemporaryDirectory(prefix: "tally-recovery-crash") { dir in
            let data = dir.path + "/data"
            let ledger = try await Ledger.open(at: data, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            for round in 0..<3 { try await RecoveryTests.workload(ledger, round: round) }
            let payload = Array(String(repeating: "x", count: 200).utf8)
            for batch in 0..<20 {
                _ = try await ledger.log.append(to: "bulk-\(batch)", events: (0..<1_000).map { _ in ProposedEvent(type: "bulk.filled", payload: payload) })
            }
            _ = try await ledger.catchUpProjections().views.close()
            let full = try await Backup.create(log: ledger.log, views: nil, into: dir.path + "/full")
            try await RecoveryTests.workload(ledger, round: 3)
            await ledger.close()

            var killedBackups = 0
            for round in 0..<Self.kills {
                let target = dir.path + "/inc-\(round)"
                let arguments = ["backup", "create", target, "--data", data] + (round % 2 == 0 ? ["--incremental", "--since", dir.path + "/full"] : [])
                if try await Self.runAndKill(arguments, after: .milliseconds(Int.random(in: 5...250))) { killedBackups += 1 }
                if FileManager.default.fileExists(atPath: target) {
                    _ = try await Backup.verify(target)
                } else {
                    // Nothing that looks like a backup: the next attempt (same name) works.
                    #expect(Backup.list(root: dir.path).allSatisfy { $0.path != target })
                    _ = try await Backup.create(data: data, into: target, since: round % 2 == 0 ? dir.path + "/full" : nil)
                    _ = try await Backup.verify(target)
                }
                #expect(!FileManager.default.fileExists(atPath: target + ".partial"))
            }

            var killedRestores = 0
            for round in 0..<Self.kills {
                let target = dir.path + "/restored-\(round)"
                if try await Self.runAndKill(["restore", dir.path + "/full", "--data", target], after: .milliseconds(Int.random(in: 5...600))) {
                    killedRestores += 1
                }
                if FileManager.default.fileExists(atPath: target) {
                    let restored = try await Ledger.open(at: target, expiryInterval: nil)
                    #expect(restored.log.headPosition == full.headPosition)
                    #expect(try restored.log.verify().isClean)
                    await restored.close()
                } else {
                    let report = try await Restore.run(from: dir.path + "/full", into: target)
                    #expect(report.headPosition == full.headPosition)
                }
                #expect(!FileManager.default.fileExists(atPath: target + ".restoring"))
            }
            #expect(killedBackups + killedRestores > 0, "no process was killed mid-way: the test proved nothing")
        }
    }
}
