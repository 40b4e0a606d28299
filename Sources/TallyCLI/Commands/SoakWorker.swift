import Foundation
import Tally

/// The process `tally soak` kills: a fleet mix from 16 tasks, one line per acknowledged
/// outcome (`XFER <id> <code> <from> <to> <amount>`, `EVENT <event id>` for an agent's
/// heartbeat), each in one write.
enum SoakWorker {
    static let wallets = 50

    static func run(data: String) async throws {
        let ledger = try await Ledger.open(at: data, configuration: LogConfiguration(tailEventsMax: 2_000, createIfMissing: true), expiryInterval: nil)
        if ledger.account("treasury") == nil {
            var open = [PaymentCommand.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))]
            for index in 0..<Self.wallets {
                open.append(.openAccount(Account(
                    id: DomainID(stringLiteral: "wallet-\(index)"), agent: DomainID(stringLiteral: "agent-\(index)"), currency: "APX",
                    flags: .debitsMustNotExceedCredits)))
            }
            _ = try await ledger.execute(open)
        }
        let output = FileHandle.standardOutput
        output.write(Data("READY\n".utf8))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<16 {
                group.addTask {
                    var counter = 0
                    while true {
                        counter += 1
                        if counter % 4 == 0 {
                            // An agent's heartbeat: a plain event with a known id.
                            let id = UUID.timeOrdered()
                            _ = try await ledger.log.append(
                                to: "soak-agent-\(task)",
                                events: [ProposedEvent(id: id, type: "agent.heartbeat", payload: Array(#"{"status":"healthy"}"#.utf8))])
                            output.write(Data("EVENT \(id.uuidString)\n".utf8))
                            continue
                        }
                        let id = "soak-\(UUID.timeOrdered().uuidString)"
                        let to = "wallet-\(Int.random(in: 0..<Self.wallets))"
                        let from = Int.random(in: 0..<3) == 0 ? "treasury" : "wallet-\(Int.random(in: 0..<Self.wallets))"
                        let amount = UInt64.random(in: 1...50)
                        let outcome = try await ledger.submit(TransferRequest(
                            id: DomainID(stringLiteral: id), debitAccount: DomainID(stringLiteral: from), creditAccount: DomainID(stringLiteral: to),
                            amount: amount, currency: "APX"))
                        output.write(Data("XFER \(id) \(outcome.code) \(from) \(to) \(amount)\n".utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
