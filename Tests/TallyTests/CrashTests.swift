import Foundation
import Tally
import TallyTesting
import Testing

/// Kills a real writer process with SIGKILL at random moments and checks that everything
/// it acknowledged survived, byte for byte, with gap-free positions and a clean verify.
///
/// Method: the child (`TallyCrashChild`) appends single events durably from 32 tasks and
/// prints one line per acknowledged append. The parent kills it after a random delay,
/// reopens the data directory, checks every newly acknowledged event and runs verify,
/// then starts the next child on the same directory. `TALLY_CRASH_KILLS` sets the number
/// of kills (default 50).
@Suite struct CrashTests {
    struct Ack {
        let position: UInt64
        let id: UUID
        let stream: String
        let version: UInt64
    }

    static var kills: Int { Int(ProcessInfo.processInfo.environment["TALLY_CRASH_KILLS"] ?? "") ?? 50 }

    @Test func everyAcknowledgedEventSurvivesSIGKILL() async throws {
        try await withTemporaryDirectory(prefix: "tally-crash") { dir in
            var total = 0
            var lastHead: UInt64 = 0
            for round in 0..<Self.kills {
                let acks = try Self.runAndKill(dataDirectory: dir.path, delayMilliseconds: Int.random(in: 40...400))
                let ledger = try await Ledger.open(at: dir.path)
                for ack in acks {
                    let stored = try #require(try ledger.log.event(id: ack.id), "round \(round): acknowledged \(ack.id) is missing")
                    #expect(stored.position == ack.position)
                    #expect(stored.streamID == ack.stream)
                    #expect(stored.streamVersion == ack.version)
                    #expect(stored.payload == Array("{\"id\":\"\(ack.id.uuidString)\"}".utf8))
                }
                let head = ledger.log.headPosition
                #expect(head >= (acks.map(\.position).max() ?? 0))
                #expect(head >= lastHead, "the head moved back after a crash")
                let report = try ledger.log.verify()
                #expect(report.isClean, "round \(round): \(report.reason ?? "")")
                #expect(report.recordsChecked == head, "positions are not gap-free")
                await ledger.close()
                lastHead = head
                total += acks.count
            }
            #expect(total > Self.kills, "the child acknowledged too little to prove anything")
        }
    }

    /// Concurrent transfers, killed at random: after each kill every acknowledged transfer
    /// is applied exactly once, every rejected one left no trace, and the books balance.
    @Test func everyAcknowledgedTransferIsAppliedExactlyOnceAfterSIGKILL() async throws {
        try await withTemporaryDirectory(prefix: "tally-crash-pay") { dir in
            var accepted: [String: (from: String, to: String, amount: UInt64)] = [:]
            var rejected = 0
            for round in 0..<max(1, Self.kills / 2) {
                let output = try Self.runChild(
                    dataDirectory: dir.path, arguments: ["32", "8", "transfers"], delayMilliseconds: Int.random(in: 40...300))
                for line in output {
                    let parts = line.split(separator: " ").map(String.init)
                    guard parts.count == 6, parts[0] == "XFER", let amount = UInt64(parts[5]) else { continue }
                    if parts[2] == "ok" { accepted[parts[1]] = (parts[3], parts[4], amount) } else { rejected += 1 }
                    #expect(["ok", "exceeds_credits", "accounts_must_be_different"].contains(parts[2]), "unexpected outcome \(line)")
                }
                let ledger = try await Ledger.open(at: dir.path, expiryInterval: nil)
                let state = ledger.paymentsSnapshot()
                for (id, expected) in accepted {
                    let transfer = try #require(state.transfers[try DomainID(id, field: "id")], "round \(round): acknowledged \(id) lost")
                    #expect(transfer.debitAccount.rawValue == expected.from && transfer.creditAccount.rawValue == expected.to)
                    #expect(transfer.amount == expected.amount)
                }
                // Exactly once: every balance equals the sum of the transfers that touch it.
                var debits: [DomainID: UInt64] = [:]
                var credits: [DomainID: UInt64] = [:]
                for transfer in state.transfers.values {
                    debits[transfer.debitAccount, default: 0] += transfer.amount
                    credits[transfer.creditAccount, default: 0] += transfer.amount
                }
                for account in state.accounts.values {
                    #expect(account.debitsPosted == debits[account.id, default: 0], "round \(round): \(account.id)")
                    #expect(account.creditsPosted == credits[account.id, default: 0], "round \(round): \(account.id)")
                    if account.flags.contains(.debitsMustNotExceedCredits) {
                        #expect(account.debitsPosted <= account.creditsPosted, "round \(round): \(account.id) overdrawn")
                    }
                }
                var transferEvents = 0
                var from: UInt64 = 1
                while let last = try ledger.log.read(category: "transfer", fromPosition: from, limit: Limits.readEventsMax).last {
                    transferEvents += try ledger.log.read(category: "transfer", fromPosition: from, limit: Limits.readEventsMax).count
                    from = last.position + 1
                }
                #expect(transferEvents == state.transfers.count, "one event per transfer")
                let report = try ledger.log.verify()
                #expect(report.isClean, "round \(round): \(report.reason ?? "")")
                await ledger.close()
            }
            #expect(accepted.count > Self.kills && rejected > 0, "\(accepted.count) accepted, \(rejected) rejected: too little to prove anything")
        }
    }

    /// Starts the child, kills it after `delayMilliseconds`, and returns what it acknowledged.
    static func runAndKill(dataDirectory: String, delayMilliseconds: Int) throws -> [Ack] {
        var acks: [Ack] = []
        for line in try self.runChild(dataDirectory: dataDirectory, arguments: ["32", "50"], delayMilliseconds: delayMilliseconds) {
            let parts = line.split(separator: " ")
            // A torn last line (killed mid-write) is not an acknowledgement the parent saw.
            guard parts.count == 5, parts[0] == "ACK", let position = UInt64(parts[1]), let id = UUID(uuidString: String(parts[2])),
                let version = UInt64(parts[4])
            else { continue }
            acks.append(Ack(position: position, id: id, stream: String(parts[3]), version: version))
        }
        return acks
    }

    /// Starts the child with `arguments` after the data directory, kills it `delayMilliseconds`
    /// after its first line, and returns the lines it wrote (the last may be torn).
    static func runChild(dataDirectory: String, arguments: [String], delayMilliseconds: Int) throws -> [Substring] {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: BuiltProducts.executable("TallyCrashChild"))
        child.arguments = [dataDirectory] + arguments
        let out = Pipe()
        child.standardOutput = out
        child.standardError = FileHandle.nullDevice
        try child.run()
        // Wait until the child acknowledges something (it has opened the log), then some more.
        let handle = out.fileHandleForReading
        var buffer = Data()
        let deadline = Date().addingTimeInterval(20)
        while !buffer.contains(UInt8(ascii: "\n")) && Date() < deadline && child.isRunning {
            buffer.append(handle.availableData)
        }
        usleep(UInt32(delayMilliseconds) * 1_000)
        kill(child.processIdentifier, SIGKILL)
        buffer.append(handle.readDataToEndOfFile())
        child.waitUntilExit()
        #expect(child.terminationReason == .uncaughtSignal, "the child exited by itself: status \(child.terminationStatus)")
        // A torn last line has no newline: drop it, the parent never saw it whole.
        var lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if buffer.last != UInt8(ascii: "\n") { lines = Array(lines.dropLast()) }
        return lines
    }
}

/// A failing `fdatasync`, or a failing page write (EIO, or ENOSPC: the disk full), injected
/// into a real writer (strace): nothing of the failed batch is acknowledged, the writer
/// refuses further appends, and after a restart (the space back) every acknowledged event
/// is there, verify is clean and appends work again.
@Suite struct FsyncFailureTests {
    struct Fault: Sendable, CustomStringConvertible {
        let syscalls: String
        let errno: String
        let from: Int
        var description: String { "\(self.errno) on \(self.syscalls) from call \(self.from)" }
    }

    @Test(arguments: [
        Fault(syscalls: "fdatasync,fsync", errno: "EIO", from: 3), Fault(syscalls: "fdatasync,fsync", errno: "EIO", from: 12),
        Fault(syscalls: "fdatasync,fsync", errno: "EIO", from: 40), Fault(syscalls: "pwrite64,pwritev", errno: "ENOSPC", from: 30),
        Fault(syscalls: "pwrite64,pwritev", errno: "EIO", from: 60),
    ])
    func aFailedFsyncAcknowledgesNothingAndStopsWrites(fault: Fault) async throws {
        let syncs = fault.from
        try await withTemporaryDirectory(prefix: "tally-fsync") { dir in
            let child = Process()
            child.executableURL = URL(fileURLWithPath: "/usr/bin/strace")
            child.arguments = [
                "-f", "-qq", "-o", "/dev/null", "-e", "trace=\(fault.syscalls)", "-e", "inject=\(fault.syscalls):error=\(fault.errno):when=\(syncs)+",
                BuiltProducts.executable("TallyCrashChild"), dir.path, "8", "20",
            ]
            let out = Pipe()
            child.standardOutput = out
            child.standardError = FileHandle.nullDevice
            try child.run()
            let output = out.fileHandleForReading.readDataToEndOfFile()
            child.waitUntilExit()
            let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
            let errors = lines.filter { $0.hasPrefix("ERR ") }
            #expect(child.terminationStatus == 3, "the writer should stop on the first failed commit")
            let codes = Set(errors.map { String($0.split(separator: " ")[1]) })
            #expect(!codes.isEmpty && codes.isSubset(of: ["storage_error", "unhealthy", "ledger_full"]), "\(codes)")
            var acknowledged: [UUID] = []
            for line in lines where line.hasPrefix("ACK ") {
                let parts = line.split(separator: " ")
                if parts.count == 5, let id = UUID(uuidString: String(parts[2])) { acknowledged.append(id) }
            }
            if syncs >= 12 { #expect(!acknowledged.isEmpty, "commits before the fault should have been acknowledged") }
            let ledger = try await Ledger.open(at: dir.path, expiryInterval: nil)
            for id in acknowledged {
                #expect(try ledger.log.event(id: id) != nil, "acknowledged \(id) is missing after the failed fsync")
            }
            let report = try ledger.log.verify()
            #expect(report.isClean, "\(report.reason ?? "")")
            // Writable again after reopening.
            _ = try await ledger.log.append(to: "after-fault", events: [ProposedEvent(type: "fault.recovered", payload: Array("{}".utf8))])
            await ledger.close()
        }
    }
}
