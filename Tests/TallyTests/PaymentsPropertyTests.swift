import Foundation
import Tally
import TallyTesting
import Testing

/// Random command sequences against the real ledger (real LMDB files) and the reference model.
@Suite struct PaymentsPropertyTests {
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            self.state &+= 0x9E37_79B9_7F4A_7C15
            var z = self.state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func command(_ random: inout Generator) -> PaymentCommand {
        func account() -> DomainID { DomainID(stringLiteral: "a\(Int.random(in: 0..<6, using: &random))") }
        func transfer() -> DomainID { DomainID(stringLiteral: "t\(Int.random(in: 0..<200, using: &random))") }
        let currency: Currency = Int.random(in: 0..<8, using: &random) == 0 ? "USD" : "APX"
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<14:
            let flags: [AccountFlags] = [[], [], [.debitsMustNotExceedCredits], [.creditsMustNotExceedDebits],
                                         [.debitsMustNotExceedCredits, .creditsMustNotExceedDebits]]
            let agent: DomainID = Bool.random(using: &random) ? "g0" : "g1"
            return .openAccount(Account(id: account(), agent: agent, currency: currency, flags: flags.randomElement(using: &random) ?? []))
        case 14..<17:
            return .closeAccount(account())
        case 17..<70:
            let timeouts: [UInt64?] = [nil, nil, nil, 3_600_000_000_000, 1]
            return .transfer(
                TransferRequest(
                    id: transfer(), debitAccount: account(), creditAccount: account(),
                    amount: UInt64.random(in: 0...40, using: &random), currency: currency,
                    memo: Bool.random(using: &random) ? nil : "work",
                    timeoutNanoseconds: timeouts.randomElement(using: &random) ?? nil))
        case 70..<80:
            return .commitPending(transfer(), amount: Bool.random(using: &random) ? nil : UInt64.random(in: 0...45, using: &random))
        case 80..<86:
            return .voidPending(transfer())
        case 86..<96:
            return .reverse(transfer(), of: transfer(), amount: Bool.random(using: &random) ? nil : UInt64.random(in: 1...30, using: &random), memo: nil)
        default:
            return .expireDue
        }
    }

    @Test(arguments: [1, 2, 3])
    func ledgerAgreesWithTheReferenceModel(seed: UInt64) async throws {
        try await withTemporaryDirectory { dir in
            var random = Generator(state: seed)
            var reference = ReferenceModel()
            // Small index checkpoints and frequent write-model checkpoints: reopening
            // restores a checkpoint and replays the log after it.
            let configuration = LogConfiguration(tailEventsMax: 64, createIfMissing: true)
            var ledger = try await Ledger.open(
                at: dir.path, configuration: configuration, expiryInterval: nil, paymentsCheckpointEvents: 20)
            for round in 0..<400 {
                let commands = (0..<Int.random(in: 1...6, using: &random)).map { _ in Self.command(&random) }
                let linked = Int.random(in: 0..<10, using: &random) < 3
                let outcomes = try await ledger.execute(commands, linked: linked)
                let expected = reference.run(commands, linked: linked)
                #expect(outcomes.map(\.code) == expected, "round \(round), linked \(linked): \(commands)")
                if outcomes.map(\.code) != expected { break }
                try Self.checkInvariants(ledger.paymentsSnapshot())
                for (id, account) in reference.accounts {
                    let actual = try #require(ledger.account(DomainID(id, field: "id")))
                    #expect(
                        [actual.debitsPosted, actual.creditsPosted, actual.debitsPending, actual.creditsPending]
                            == [account.dp, account.cp, account.dpend, account.cpend], "account \(id) after round \(round)")
                    #expect(actual.isClosed == account.closed)
                }
                if round % 100 == 99 {
                    // Replaying the log from position 1 gives the same write model.
                    let live = ledger.paymentsSnapshot()
                    await ledger.close()
                    ledger = try await Ledger.open(
                        at: dir.path, configuration: configuration, expiryInterval: nil, paymentsCheckpointEvents: 20)
                    #expect(ledger.paymentsSnapshot() == live, "replay differs from the live write model")
                }
            }
            // The generator must reach the interesting states, not only rejections.
            let transfers = ledger.paymentsSnapshot().transfers.values
            #expect(transfers.contains { $0.state == .committed } && transfers.contains { $0.state == .expired })
            #expect(transfers.contains { $0.kind == .reversal } && transfers.count >= 20, "\(transfers.count) transfers")
            #expect(ledger.log.headPosition > 100)
            await ledger.close()
        }
    }

    /// Double entry and the flags hold in `state`.
    static func checkInvariants(_ state: PaymentsState) throws {
        var debits: UInt128 = 0, credits: UInt128 = 0, debitsPending: UInt128 = 0, creditsPending: UInt128 = 0
        for account in state.accounts.values {
            debits += UInt128(account.debitsPosted)
            credits += UInt128(account.creditsPosted)
            debitsPending += UInt128(account.debitsPending)
            creditsPending += UInt128(account.creditsPending)
            if account.flags.contains(.debitsMustNotExceedCredits) {
                #expect(UInt128(account.debitsPosted) + UInt128(account.debitsPending) <= UInt128(account.creditsPosted), "\(account.id)")
            }
            if account.flags.contains(.creditsMustNotExceedDebits) {
                #expect(UInt128(account.creditsPosted) + UInt128(account.creditsPending) <= UInt128(account.debitsPosted), "\(account.id)")
            }
        }
        #expect(debits == credits, "total debits posted \(debits) != credits posted \(credits)")
        #expect(debitsPending == creditsPending, "total pending debits \(debitsPending) != credits \(creditsPending)")
    }
}
