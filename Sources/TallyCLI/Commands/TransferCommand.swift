import ArgumentParser
import Foundation
import Tally

struct TransferCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Move money between accounts: posted, pending (escrow), commit, void, reverse, batches.",
        discussion: """
              tally transfer --id pay-1 --from treasury --to wallet-7 --amount 500 \\
                  --currency APX --memo payroll
              tally transfer --id hold-1 --from wallet-7 --to wallet-9 --amount 40 \\
                  --currency APX --pending --timeout 30s
              tally transfer commit --id hold-1 [--amount 30]
              tally transfer void --id hold-1
              tally transfer reverse --id undo-1 --of pay-1 [--amount 100]
              tally transfer --file payroll.jsonl --linked
                  (one JSON object per line:
                id, from, to, amount, currency, optional memo, external_ref, timeout)
            The id is the idempotency key: resending the same transfer prints
            transfer_exists and writes nothing. A rejected transfer prints its code and
            exits 1.
            """,
        subcommands: [Create.self, Commit.self, Void.self, Reverse.self],
        defaultSubcommand: Create.self)

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Submit a transfer or a file of them.")
        @OptionGroup var options: CommonOptions
        @Option(help: "Transfer id (idempotency key).") var id: String?
        @Option(help: "The account debited.") var from: String?
        @Option(help: "The account credited.") var to: String?
        @Option(help: "Amount in minor units.") var amount: UInt64?
        @Option(help: "Currency code.") var currency: String?
        @Option(help: "A note.") var memo: String?
        @Option(help: "A reference in another system.") var externalRef: String?
        @Flag(help: "Reserve the amount until committed, voided or expired.") var pending = false
        @Option(help: "With --pending: how long until it expires (e.g. 500ms, 30s, 5m, 2h).") var timeout: String?
        @Option(help: "A JSONL file of transfers ('-': standard input).") var file: String?
        @Flag(help: "With --file: all transfers succeed or none does.") var linked = false

        func validate() throws {
            if self.file == nil {
                guard self.id != nil, self.from != nil, self.to != nil, self.amount != nil, self.currency != nil else {
                    throw ValidationError("give --id, --from, --to, --amount and --currency, or --file")
                }
                if self.pending != (self.timeout != nil) { throw ValidationError("--pending and --timeout go together") }
            }
        }

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let requests: [TransferRequest]
                if let file = self.file {
                    requests = try TransferFile.read(path: file)
                } else {
                    requests = [
                        try transferRequest(
                            id: self.id ?? "", from: self.from ?? "", to: self.to ?? "", amount: self.amount ?? 0,
                            currency: self.currency ?? "", memo: self.memo, externalRef: self.externalRef, timeout: self.timeout)
                    ]
                }
                try await withLedger(self.options) { ledger in
                    let outcomes = try await ledger.submit(requests, linked: self.linked)
                    try report(outcomes, subject: requests.map { "transfer \($0.id)" }, json: self.options.json)
                }
            }
        }
    }

    struct Commit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Post a pending transfer, all of it or --amount.")
        @OptionGroup var options: CommonOptions
        @Option(help: "The pending transfer's id.") var id: String
        @Option(help: "Post only this much; the rest is released.") var amount: UInt64?

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let id = try DomainID(self.id, field: "--id")
                try await withLedger(self.options) { ledger in
                    try report([try await ledger.commitPending(id, amount: self.amount)], subject: ["transfer \(id)"], json: self.options.json)
                }
            }
        }
    }

    struct Void: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Release a pending transfer without posting it.")
        @OptionGroup var options: CommonOptions
        @Option(help: "The pending transfer's id.") var id: String

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let id = try DomainID(self.id, field: "--id")
                try await withLedger(self.options) { ledger in
                    try report([try await ledger.voidPending(id)], subject: ["transfer \(id)"], json: self.options.json)
                }
            }
        }
    }

    struct Reverse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Undo a posted transfer with a compensating one.")
        @OptionGroup var options: CommonOptions
        @Option(help: "The reversal's own id.") var id: String
        @Option(help: "The transfer to reverse.") var of: String
        @Option(help: "Reverse only this much (default: what is left).") var amount: UInt64?
        @Option(help: "A note.") var memo: String?

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let id = try DomainID(self.id, field: "--id")
                let original = try DomainID(self.of, field: "--of")
                try await withLedger(self.options) { ledger in
                    let outcome = try await ledger.reverse(id, of: original, amount: self.amount, memo: self.memo)
                    try report([outcome], subject: ["transfer \(id)"], json: self.options.json)
                }
            }
        }
    }
}

func transferRequest(
    id: String, from: String, to: String, amount: UInt64, currency: String, memo: String?, externalRef: String?,
    timeout: String?
) throws -> TransferRequest {
    TransferRequest(
        id: try DomainID(id, field: "id"), debitAccount: try DomainID(from, field: "from"),
        creditAccount: try DomainID(to, field: "to"), amount: amount, currency: try Currency(currency), memo: memo,
        externalReference: externalRef, timeoutNanoseconds: try timeout.map(parseDuration))
}

/// `500ms`, `30s`, `5m`, `2h`, `1d` → nanoseconds.
func parseDuration(_ text: String) throws -> UInt64 {
    let units: [(String, UInt64)] = [("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000), ("d", 86_400_000_000_000)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
        if let value = UInt64(text.dropLast(suffix.count)), value > 0, value <= UInt64.max / scale { return value * scale }
    }
    throw Rejection(.invalidTimeout, "timeout \"\(text)\" must be a positive number with ms, s, m, h or d, e.g. 30s")
}

/// Reads a JSONL file of transfers.
enum TransferFile {
    static func read(path: String) throws -> [TransferRequest] {
        var requests: [TransferRequest] = []
        for (number, trimmed) in try JSONLines.read(path: path) {
            let index = number - 1
            guard let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any] else {
                throw CLIError(code: "invalid_argument", message: "\(path):\(index + 1): not a JSON object")
            }
            func field(_ key: String) -> String? {
                if let string = object[key] as? String { return string }
                if let number = object[key] as? NSNumber { return number.stringValue }
                return nil
            }
            guard let amountText = field("amount"), let amount = UInt64(amountText) else {
                throw CLIError(code: "invalid_argument", message: "\(path):\(index + 1): amount must be a whole number of minor units")
            }
            do {
                requests.append(
                    try transferRequest(
                        id: field("id") ?? "", from: field("from") ?? "", to: field("to") ?? "", amount: amount,
                        currency: field("currency") ?? "", memo: field("memo"), externalRef: field("external_ref"),
                        timeout: field("timeout")))
            } catch let rejection as Rejection {
                throw Rejection(rejection.code, "\(path):\(index + 1): \(rejection.message)")
            }
        }
        return requests
    }
}
