import ArgumentParser
import Foundation
import Tally

/// `tally soak`: the agent-fleet workload under random SIGKILLs for a set time, with the
/// invariants checked after every restart.
struct SoakCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "soak",
        abstract: "Run the fleet workload with random kills and restarts, checking the invariants after each.",
        discussion: """
            A worker process (this binary, `soak --worker`) posts transfers from a treasury
            and between wallets that cannot go negative, and agents' heartbeat events, from
            16 tasks, printing every acknowledged outcome. The soak kills it with SIGKILL
            after a random 0.2–3 s, reopens the data directory and checks: every
            acknowledged transfer is there exactly once with its amount, every refused one
            left nothing, every balance is the sum of its transfers, no wallet is
            overdrawn, every acknowledged heartbeat is in the log, and a full verify
            (checksums, chain, seals, indexes) is clean. Then it starts the next worker. At
            the end it prints the counts; it exits 1 if anything was lost or an invariant
            failed.
              tally soak --seconds 600 --data /tmp/soak
            """)

    @Option(help: "How long to run, in seconds.") var seconds = 60
    @Option(help: "The data directory (created; reused if it exists).") var data = FileManager.default.temporaryDirectory.path + "/tally-soak"
    @Flag(help: "Print the final counts as JSON.") var json = false
    @Flag(help: .hidden) var worker = false

    func run() async throws {
        if self.worker {
            try await SoakWorker.run(data: self.data)
            return
        }
        var counts = SoakCounts()
        var acknowledged: [String: (from: String, to: String, amount: UInt64)] = [:]
        var heartbeats: Set<UUID> = []
        let deadline = Date().addingTimeInterval(TimeInterval(self.seconds))
        while Date() < deadline {
            let (lines, killed) = try Self.runWorker(data: self.data, milliseconds: Int.random(in: 200...3_000))
            if killed {
                counts.kills += 1
            } else {
                counts.failures += 1
                FileHandle.standardError.write(Data("soak: the worker exited by itself before the kill\n".utf8))
            }
            for line in lines {
                let parts = line.split(separator: " ").map(String.init)
                if parts.count == 6, parts[0] == "XFER", let amount = UInt64(parts[5]) {
                    if parts[2] == "ok" { acknowledged[parts[1]] = (parts[3], parts[4], amount) } else { counts.refused += 1 }
                } else if parts.count == 2, parts[0] == "EVENT", let id = UUID(uuidString: parts[1]) {
                    heartbeats.insert(id)
                }
            }
            let failures = try await Self.check(data: self.data, acknowledged: acknowledged, heartbeats: heartbeats, counts: &counts)
            counts.failures += failures.count
            for failure in failures.prefix(10) { FileHandle.standardError.write(Data("soak: \(failure)\n".utf8)) }
            if !self.json {
                print("kill \(counts.kills): \(acknowledged.count) transfers and \(heartbeats.count) heartbeats acknowledged, \(failures.isEmpty ? "invariants hold" : "\(failures.count) FAILURES")")
            }
        }
        counts.transfers = acknowledged.count
        counts.heartbeats = heartbeats.count
        let summary: [String: Any] = [
            "seconds": self.seconds, "kills_survived": counts.kills, "transfers_acknowledged": counts.transfers, "transfers_refused": counts.refused,
            "heartbeats_acknowledged": counts.heartbeats, "verifications_passed": counts.verified, "lost": counts.lost, "failures": counts.failures,
        ]
        Output.print(json: self.json, summary, text: summary.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "  "))
        if counts.failures > 0 || counts.lost > 0 { throw ExitCode(1) }
    }

    /// Starts a worker, kills it after `milliseconds` (once it has opened the ledger), and
    /// returns its whole output lines and whether the kill (not an error) ended it.
    static func runWorker(data: String, milliseconds: Int) throws -> (lines: [Substring], killed: Bool) {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = ["soak", "--worker", "--data", data]
        let out = Pipe()
        child.standardOutput = out
        child.standardError = FileHandle.nullDevice
        try child.run()
        let handle = out.fileHandleForReading
        var buffer = Data()
        let started = Date()
        while !buffer.contains(UInt8(ascii: "\n")) && Date().timeIntervalSince(started) < 30 && child.isRunning {
            buffer.append(handle.availableData)
        }
        usleep(UInt32(milliseconds) * 1_000)
        kill(child.processIdentifier, SIGKILL)
        buffer.append(handle.readDataToEndOfFile())
        child.waitUntilExit()
        var lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        if buffer.last != UInt8(ascii: "\n") { lines = Array(lines.dropLast()) }
        return (lines, child.terminationReason == .uncaughtSignal)
    }

    /// Reopens the ledger and checks every invariant; the failures found.
    static func check(
        data: String, acknowledged: [String: (from: String, to: String, amount: UInt64)], heartbeats: Set<UUID>, counts: inout SoakCounts
    ) async throws -> [String] {
        var failures: [String] = []
        let ledger = try await Ledger.open(at: data, expiryInterval: nil)
        let state = ledger.paymentsSnapshot()
        for (id, expected) in acknowledged {
            guard let transfer = state.transfers[DomainID(stringLiteral: id)] else {
                counts.lost += 1
                failures.append("acknowledged transfer \(id) is missing")
                continue
            }
            if transfer.debitAccount.rawValue != expected.from || transfer.creditAccount.rawValue != expected.to || transfer.amount != expected.amount {
                failures.append("transfer \(id) differs from what was acknowledged")
            }
        }
        var debits: [DomainID: UInt64] = [:]
        var credits: [DomainID: UInt64] = [:]
        for transfer in state.transfers.values {
            debits[transfer.debitAccount, default: 0] += transfer.amount
            credits[transfer.creditAccount, default: 0] += transfer.amount
        }
        for account in state.accounts.values {
            if account.debitsPosted != debits[account.id, default: 0] || account.creditsPosted != credits[account.id, default: 0] {
                failures.append("\(account.id): posted totals are not the sum of its transfers (applied twice or lost)")
            }
            if account.flags.contains(.debitsMustNotExceedCredits) && account.debitsPosted > account.creditsPosted {
                failures.append("\(account.id) is overdrawn")
            }
        }
        for id in heartbeats where try ledger.log.event(id: id) == nil {
            counts.lost += 1
            failures.append("acknowledged heartbeat \(id) is missing")
        }
        let report = try ledger.log.verify()
        if report.isClean && report.recordsChecked == ledger.log.headPosition {
            counts.verified += 1
        } else {
            failures.append("verify: \(report.reason ?? "positions are not gap-free")")
        }
        await ledger.close()
        return failures
    }
}

/// What a soak counted.
struct SoakCounts {
    var kills = 0
    var transfers = 0
    var refused = 0
    var heartbeats = 0
    var verified = 0
    var lost = 0
    var failures = 0
}
