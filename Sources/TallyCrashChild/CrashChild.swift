import Foundation
import Tally
import TallyLMDB

/// The process the crash tests kill: appends single events durably from many tasks and
/// writes one line per acknowledged append to standard output:
/// `ACK <position> <event id> <stream> <version>`.
///
/// Usage: `TallyCrashChild DATA_DIR TASKS STREAMS [transfers]`. Runs until killed. The
/// payload of each event is `{"id":"<event id>"}`, so the parent can check it byte for byte.
///
/// With `transfers`, the tasks post transfers instead (see ``transfers(_:tasks:accounts:)``);
/// with `hold-reader`, it holds a read transaction on the LMDB environment DATA_DIR until
/// killed (the stale-reader test); with `hold-writer`, the ledger's writer lock and an open
/// LMDB write transaction (the killed-writer test); with `project`, it brings the balances projection up to the head of an existing log, in
/// small batches, printing `AT <checkpoint>` after each (the kill test for projections).
@main
enum CrashChild {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count >= 4, let tasks = Int(arguments[2]), let streams = Int(arguments[3]) else {
            FileHandle.standardError.write(Data("usage: TallyCrashChild DATA_DIR TASKS STREAMS [transfers]\n".utf8))
            exit(2)
        }
        if arguments.count > 4 && arguments[4] == "hold-reader" {
            // Holds a read transaction on the LMDB environment at DATA_DIR until killed.
            let environment = try Environment.open(
                at: arguments[1], databases: [],
                configuration: EnvironmentConfiguration(mapSizeBytes: 1 << 26, databasesMax: 4, readOnly: true), writer: nil)
            try environment.read { _ in
                FileHandle.standardOutput.write(Data("READING\n".utf8))
                sleep(600)
            }
            return
        }
        if arguments.count > 4 && arguments[4] == "hold-writer" {
            // Holds the data-directory lock and LMDB's write lock, an append written but not
            // committed, until killed.
            let ledger = try await Ledger.open(at: arguments[1], configuration: LogConfiguration(createIfMissing: true))
            _ = try await ledger.log.withinCommit { append in
                let written = append([StreamAppend(streamID: "never-committed", events: [ProposedEvent(type: "crash.held", payload: Array("{}".utf8))])])
                FileHandle.standardOutput.write(Data("WRITING \((try? written.get())?.firstPosition ?? 0)\n".utf8))
                sleep(600)
                return 0
            }
            return
        }
        if arguments.count > 4 && arguments[4] == "project" {
            try await self.project(arguments[1])
            return
        }
        let ledger = try await Ledger.open(
            at: arguments[1], configuration: LogConfiguration(tailEventsMax: 500, createIfMissing: true))
        if arguments.count > 4 && arguments[4] == "transfers" {
            try await self.transfers(ledger, tasks: tasks, accounts: streams)
            return
        }
        let output = FileHandle.standardOutput
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var counter = 0
                    while true {
                        counter += 1
                        let id = UUID()
                        let stream = "crash-\((task * 7919 + counter) % streams)"
                        let payload = Array("{\"id\":\"\(id.uuidString)\"}".utf8)
                        let result: AppendResult
                        do {
                            result = try await ledger.log.append(
                                to: stream, events: [ProposedEvent(id: id, type: "crash.tested", payload: payload)])
                        } catch let error as LogError {
                            // The fault tests inject failing fsyncs: report the code and stop.
                            // The error's message goes to stderr from here: the writer thread's
                            // log line may not be out yet when exit(3) ends the process.
                            output.write(Data("ERR \(error.code) \(id.uuidString)\n".utf8))
                            FileHandle.standardError.write(Data("append failed: \(error.code): \(error.message)\n".utf8))
                            exit(3)
                        }
                        // One write(2) per line: a line is either whole in the pipe or absent.
                        output.write(Data("ACK \(result.firstPosition) \(id.uuidString) \(stream) \(result.streamVersions[0])\n".utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Opens a treasury and `accounts` wallets (`debits_must_not_exceed_credits`), then lets
    /// `tasks` tasks post random single transfers: from the treasury (always accepted) or
    /// between wallets (rejected when the wallet is short). Prints one line per outcome:
    /// `XFER <transfer id> <code> <from> <to> <amount>`.
    static func transfers(_ ledger: Ledger, tasks: Int, accounts: Int) async throws {
        var open = [PaymentCommand.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))]
        for index in 0..<accounts {
            open.append(
                .openAccount(
                    Account(
                        id: DomainID(stringLiteral: "wallet-\(index)"), agent: DomainID(stringLiteral: "agent-\(index)"),
                        currency: "APX", flags: .debitsMustNotExceedCredits)))
        }
        _ = try await ledger.execute(open)
        let output = FileHandle.standardOutput
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<tasks {
                group.addTask {
                    while true {
                        let id = DomainID(stringLiteral: "x-\(UUID().uuidString)")
                        let to = "wallet-\(Int.random(in: 0..<accounts))"
                        let from = Int.random(in: 0..<3) == 0 ? "treasury" : "wallet-\(Int.random(in: 0..<accounts))"
                        let amount = UInt64.random(in: 1...50)
                        let outcome = try await ledger.submit(
                            TransferRequest(
                                id: id, debitAccount: DomainID(stringLiteral: from), creditAccount: DomainID(stringLiteral: to),
                                amount: amount, currency: "APX"))
                        output.write(Data("XFER \(id) \(outcome.code) \(from) \(to) \(amount)\n".utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    static func project(_ directory: String) async throws {
        let log = try await EventLog.open(at: directory, configuration: LogConfiguration(readOnly: true))
        let views = try ViewStore.open(dataDirectory: directory, projections: [BalancesProjection()])
        let worker = try ProjectionWorker(projection: BalancesProjection(), log: log, views: views)
        let output = FileHandle.standardOutput
        try await worker.catchUp(batchEventsMax: 200) { checkpoint in
            output.write(Data("AT \(checkpoint)\n".utf8))
        }
        output.write(Data("DONE\n".utf8))
        views.close()
        await log.close()
    }
}
