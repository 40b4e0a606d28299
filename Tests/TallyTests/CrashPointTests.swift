import Foundation
import Tally
import TallyTesting
import Testing

/// Every named crash point (`TALLY_CRASH_POINT`), hit by a real process that kills itself
/// there with SIGKILL: after each, nothing acknowledged is lost, nothing is applied twice,
/// the chain and the indexes verify, and the interrupted work completes when run again.
@Suite struct CrashPointTests {
    /// Runs `executable arguments…` with the crash point armed until it exits; its output
    /// lines (a torn last line dropped) and whether SIGKILL ended it.
    static func run(_ executable: String, _ arguments: [String], crashPoint: String?) throws -> (lines: [Substring], killed: Bool) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.executable(executable))
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment[CrashPoint.environmentVariable] = crashPoint
        process.environment = environment
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if data.last != UInt8(ascii: "\n") { lines = Array(lines.dropLast()) }
        return (lines, process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL)
    }

    @Test(arguments: [CrashPoint.beforeCommit, .afterCommit, .midIndexCheckpoint])
    func aWriterKilledAtACrashPointLosesNothingAcknowledged(point: CrashPoint) async throws {
        try await withTemporaryDirectory(prefix: "tally-crashpoint") { dir in
            var acknowledged: [UUID: UInt64] = [:]
            for round in 0..<3 {
                // The child appends from 16 tasks with a 500-event tail: checkpoints every few batches.
                let hit = point == .midIndexCheckpoint ? round + 1 : Int.random(in: 5...40)
                let (lines, killed) = try Self.run("TallyCrashChild", [dir.path, "16", "40"], crashPoint: "\(point.rawValue):\(hit)")
                #expect(killed, "round \(round): the child did not die at \(point.rawValue)")
                for line in lines {
                    let parts = line.split(separator: " ")
                    guard parts.count == 5, parts[0] == "ACK", let position = UInt64(parts[1]), let id = UUID(uuidString: String(parts[2])) else { continue }
                    acknowledged[id] = position
                }
                let ledger = try await Ledger.open(at: dir.path, expiryInterval: nil)
                for (id, position) in acknowledged {
                    let stored = try #require(try ledger.log.event(id: id), "\(point.rawValue) round \(round): acknowledged \(id) lost")
                    #expect(stored.position == position)
                }
                let report = try ledger.log.verify()
                #expect(report.isClean, "\(point.rawValue) round \(round): \(report.reason ?? "")")
                #expect(report.recordsChecked == ledger.log.headPosition, "positions are not gap-free")
                await ledger.close()
            }
            if point != .beforeCommit { #expect(!acknowledged.isEmpty, "nothing was acknowledged before \(point.rawValue)") }
        }
    }

    @Test func aProjectionKilledMidBatchAppliesEveryTransferOnce() async throws {
        try await withTemporaryDirectory(prefix: "tally-crashpoint-projection") { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
            for index in 0..<10 { _ = try await ledger.openAccount(Account(id: DomainID(stringLiteral: "w\(index)"), agent: "a", currency: "APX")) }
            let requests = (0..<3_000).map { index in
                TransferRequest(
                    id: DomainID(stringLiteral: "t\(index)"), debitAccount: "treasury", creditAccount: DomainID(stringLiteral: "w\(index % 10)"),
                    amount: UInt64(1 + index % 5), currency: "APX")
            }
            _ = try await ledger.submit(requests)
            let expected = ledger.accounts()
            await ledger.close()

            // Batches of 200: killed inside the 3rd, then the 5th batch of the restarted run.
            for hit in [3, 5] {
                let (lines, killed) = try Self.run("TallyCrashChild", [dir.path, "0", "0", "project"], crashPoint: "\(CrashPoint.midProjectionBatch.rawValue):\(hit)")
                #expect(killed)
                #expect(!lines.contains("DONE"))
            }
            let (lines, killed) = try Self.run("TallyCrashChild", [dir.path, "0", "0", "project"], crashPoint: nil)
            #expect(!killed && lines.contains("DONE"))
            let reopened = try await Ledger.open(at: dir.path, expiryInterval: nil)
            let (views, _) = try await reopened.catchUpProjections()
            for account in expected {
                let projected = try #require(try views.balance(of: account.id.rawValue))
                #expect(projected.debitsPosted == account.debitsPosted && projected.creditsPosted == account.creditsPosted, "\(account.id)")
            }
            var statementLines = 0
            for account in expected { statementLines += try views.statement(of: account.id.rawValue, limit: 100_000).count }
            #expect(statementLines == 2 * requests.count, "one statement line per posting, none repeated")
            views.close()
            await reopened.close()
        }
    }

    @Test func aBackupOrRestoreKilledAtItsCrashPointLeavesNothingHalfDoneAndCompletesAfter() async throws {
        try await withTemporaryDirectory(prefix: "tally-crashpoint-recovery") { dir in
            let data = dir.path + "/data"
            let ledger = try await Ledger.open(at: data, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            for round in 0..<2 { try await RecoveryTests.workload(ledger, round: round) }
            let head = ledger.log.headPosition
            await ledger.close()

            let backup = dir.path + "/full"
            let killedBackup = try Self.run("tally", ["backup", "create", backup, "--data", data], crashPoint: CrashPoint.midBackup.rawValue)
            #expect(killedBackup.killed)
            #expect(!FileManager.default.fileExists(atPath: backup), "a killed backup left a directory that looks complete")
            #expect(Backup.list(root: dir.path).isEmpty)
            let retried = try Self.run("tally", ["backup", "create", backup, "--data", data], crashPoint: nil)
            #expect(!retried.killed)
            let verified = try await Backup.verify(backup)
            #expect(verified.manifest.headPosition == head)
            #expect(verified.recordsChecked == head)
            #expect(!FileManager.default.fileExists(atPath: backup + ".partial"))

            let target = dir.path + "/restored"
            let killedRestore = try Self.run("tally", ["restore", backup, "--data", target], crashPoint: CrashPoint.midRestore.rawValue)
            #expect(killedRestore.killed)
            #expect(!FileManager.default.fileExists(atPath: target), "a killed restore left a ledger at the target")
            let restoredAgain = try Self.run("tally", ["restore", backup, "--data", target], crashPoint: nil)
            #expect(!restoredAgain.killed)
            let restored = try await Ledger.open(at: target, expiryInterval: nil)
            #expect(restored.log.headPosition == head)
            #expect(try restored.log.verify().isClean)
            await restored.close()
            #expect(!FileManager.default.fileExists(atPath: target + ".restoring"))
        }
    }
}
