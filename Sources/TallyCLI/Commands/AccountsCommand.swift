import ArgumentParser
import Foundation
import Tally

struct AccountsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accounts",
        abstract: "Open, close, show and list payment accounts.",
        discussion: """
            An account belongs to an agent and holds one currency. A treasury (no flags)
            may go negative: that is where money enters. An agent wallet uses --flag
            debits_must_not_exceed_credits so it can never pay more than it holds.
              tally accounts open --id treasury --agent ops --currency APX
              tally accounts open --id wallet-7 --agent agent-7 --currency APX \\
                  --flag debits_must_not_exceed_credits
              tally accounts show --id wallet-7
            """,
        subcommands: [Open.self, Close.self, Show.self, List.self])

    struct Open: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Open an account (a retry with the same fields is fine).")
        @OptionGroup var options: CommonOptions
        @Option(help: "Account id: 1-64 of letters, digits, . _ : -") var id: String
        @Option(help: "The agent that owns it.") var agent: String
        @Option(help: "Currency code, 2-8 uppercase letters or digits, e.g. APX.") var currency: String
        @Option(help: "debits_must_not_exceed_credits or credits_must_not_exceed_debits (repeatable).") var flag: [String] = []
        @Option(help: "A reference in another system.") var externalRef: String?

        func run() async throws {
            try await runReporting(json: self.options.json) {
                var account = Account(
                    id: try DomainID(self.id, field: "--id"), agent: try DomainID(self.agent, field: "--agent"),
                    currency: try Currency(self.currency), flags: try AccountFlags(names: self.flag))
                account.externalReference = self.externalRef
                try await withLedger(self.options) { ledger in
                    try report([try await ledger.openAccount(account)], subject: ["account \(self.id)"], json: self.options.json)
                }
            }
        }
    }

    struct Close: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Close an account; it takes no new transfers.")
        @OptionGroup var options: CommonOptions
        @Option(help: "Account id.") var id: String

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let id = try DomainID(self.id, field: "--id")
                try await withLedger(self.options) { ledger in
                    try report([try await ledger.closeAccount(id)], subject: ["account \(self.id)"], json: self.options.json)
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show an account's balances: debits and credits posted and pending, balance, available.")
        @OptionGroup var options: CommonOptions
        @Option(help: "Account id.") var id: String

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let id = try DomainID(self.id, field: "--id")
                try await withLedger(self.options, readOnly: true) { ledger in
                    guard let account = ledger.account(id) else {
                        throw Rejection(.accountNotFound, "no account has id \(id)")
                    }
                    Output.print(json: self.options.json, accountObject(account), text: accountText(account))
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List accounts, all or one agent's.")
        @OptionGroup var options: CommonOptions
        @Option(help: "Only this agent's accounts.") var agent: String?

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let agent = try self.agent.map { try DomainID($0, field: "--agent") }
                try await withLedger(self.options, readOnly: true) { ledger in
                    for account in ledger.accounts(agent: agent) {
                        Output.print(
                            json: self.options.json, accountObject(account),
                            text: "\(account.id)  agent=\(account.agent)  \(account.currency)  balance=\(account.balance)  available=\(account.available)\(account.isClosed ? "  closed" : "")")
                    }
                }
            }
        }
    }
}

func accountObject(_ account: Account) -> [String: Any] {
    var object: [String: Any] = [
        "id": account.id.rawValue, "agent": account.agent.rawValue, "currency": account.currency.rawValue,
        "flags": account.flags.names, "closed": account.isClosed,
        "debits_posted": String(account.debitsPosted), "credits_posted": String(account.creditsPosted),
        "debits_pending": String(account.debitsPending), "credits_pending": String(account.creditsPending),
        "balance": String(account.balance), "available": String(account.available),
    ]
    if let reference = account.externalReference { object["external_ref"] = reference }
    return object
}

func accountText(_ account: Account) -> String {
    """
    account \(account.id) (agent \(account.agent), \(account.currency)\(account.flags.names.isEmpty ? "" : ", " + account.flags.names.joined(separator: ", "))\(account.isClosed ? ", closed" : ""))
      debits posted   \(account.debitsPosted)
      credits posted  \(account.creditsPosted)
      debits pending  \(account.debitsPending)
      credits pending \(account.creditsPending)
      balance         \(account.balance)   (credits - debits, posted)
      available       \(account.available)   (balance - pending debits)
    """
}

/// Opens the ledger for one command and closes it afterwards.
func withLedger(
    _ options: CommonOptions, readOnly: Bool = false, create: Bool = false, writeModels: Bool = true, _ body: (Ledger) async throws -> Void
) async throws {
    let ledger = try await Ledger.open(
        at: options.data, configuration: options.configuration(readOnly: readOnly, create: create), expiryInterval: nil,
        replayingWriteModels: writeModels)
    do {
        try await body(ledger)
    } catch {
        await ledger.close()
        throw error
    }
    await ledger.close()
}

/// Prints one line (or JSON object) per outcome; exits 1 if any was rejected.
func report(_ outcomes: [PaymentOutcome], subject: [String], json: Bool) throws {
    for (index, outcome) in outcomes.enumerated() {
        let what = index < subject.count ? subject[index] : "item \(index)"
        var object: [String: Any] = ["index": index, "code": outcome.code]
        var text = "\(outcome.code)  \(what)"
        switch outcome {
        case .applied(let events):
            object["events"] = events.map(\.type)
            text += events.isEmpty ? "" : "  (\(events.map(\.type).joined(separator: ", ")))"
        case .exists:
            text += "  (already done; nothing written)"
        case .rejected(let rejection):
            object["message"] = rejection.message
            text += ": \(rejection.message)"
        }
        Output.print(json: json, object, text: text)
    }
    if outcomes.contains(where: { !$0.succeeded }) { throw ExitCode(1) }
}
