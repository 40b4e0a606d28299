import Foundation
@testable import Tally
import TallyTesting
import Testing

@Suite struct PaymentsCheckpointTests {
    @Test func openRestoresTheCheckpointAndReplaysOnlyTheLogAfterIt() async throws {
        try await withTemporaryDirectory { dir in
            let configuration = LogConfiguration(tailEventsMax: 64, createIfMissing: true)
            let ledger = try await Ledger.open(at: dir.path, configuration: configuration, expiryInterval: nil, paymentsCheckpointEvents: 50)
            _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
            for index in 0..<300 {
                _ = try await ledger.submit(
                    TransferRequest(
                        id: DomainID(stringLiteral: "t\(index)"), debitAccount: "treasury",
                        creditAccount: DomainID(stringLiteral: "w\(index % 5)"), amount: 1, currency: "APX"))
                if index < 5 { _ = try await ledger.openAccount(Account(id: DomainID(stringLiteral: "w\(index)"), agent: "a", currency: "APX")) }
            }
            try await ledger.log.waitForWriterIdle()
            let live = ledger.paymentsSnapshot()
            let snapshot = try #require(try ledger.log.stateCheckpoint(named: PaymentsModel.checkpointName))
            #expect(snapshot.position > 1 && snapshot.position <= ledger.log.headPosition)
            await ledger.close()

            // From the checkpoint plus the tail of the log...
            let fromCheckpoint = PaymentsModel(checkpointEventsMin: 50)
            let reopened = try await EventLog.open(at: dir.path, configuration: LogConfiguration(readOnly: true))
            let start = try fromCheckpoint.replay(reopened)
            #expect(start == snapshot.position + 1)
            // ...equals the fold of the whole log.
            var full = PaymentsState()
            var changes = PaymentChanges()
            var position: UInt64 = 1
            while let last = try reopened.read(fromPosition: position, limit: 1_000).last {
                for event in try reopened.read(fromPosition: position, limit: 1_000) where PaymentEvent.isPaymentStream(event.streamID) {
                    try Payments.evolve(try PaymentEvent(type: event.type, payload: event.payload), state: full, changes: &changes)
                }
                position = last.position + 1
            }
            full.apply(changes)
            await reopened.close()
            #expect(fromCheckpoint.read { $0 } == full)
            #expect(full == live)
        }
    }
}

@Suite struct PaymentEventIDTests {
    /// The derivation is part of the log's contents: a change would give a retried command
    /// another id than the one stored. Expected value from Python's hashlib, by hand.
    @Test func eventIDsAreTheDocumentedDigest() {
        let event = PaymentEvent.transferCreated(
            Transfer(id: "t1", kind: .posted, debitAccount: "a", creditAccount: "b", amount: 1, currency: "APX"))
        #expect(PaymentsModel.eventID(event) == UUID(uuidString: "87580246-84a0-82d0-93ee-ec436cf59ad7"))
        #expect(PaymentsModel.streams(for: [event]).first?.events.first?.id == UUID(uuidString: "87580246-84a0-82d0-93ee-ec436cf59ad7"))
    }
}

/// A batch's posted transfers go into the committed table as uncommitted while it is
/// decided: readers see them only once the batch is durable, and a failed batch leaves
/// nothing behind. (A model beside the ledger's, told of the outcome by hand.)
@Suite struct PaymentsBatchOutcomeTests {
    private func run(_ outcome: (PaymentsModel) -> Void) async throws -> PaymentsState {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            _ = try await ledger.execute([
                .openAccount(Account(id: "a", agent: "g", currency: "APX")), .openAccount(Account(id: "b", agent: "g", currency: "APX")),
            ])
            let model = PaymentsModel(checkpointEventsMin: 1_000)
            try model.replay(ledger.log)
            let commands: [PaymentCommand] = (0..<5).map {
                .transfer(TransferRequest(id: DomainID(stringLiteral: "t\($0)"), debitAccount: "a", creditAccount: "b", amount: 2, currency: "APX"))
            }
            let speculations = PaymentsModel.madeFeed(commands + [commands[0]], metadata: .empty)
            let outcomes = try await ledger.log.withinCommit { append in
                // Decided here: visible to the model's own decisions (t0 again is a duplicate), not to readers.
                let outcomes = model.execute(commands + [commands[0]], linked: false, now: 1, speculations: speculations, append: append)
                #expect(model.read { $0.transfers.count } == 0)
                #expect(model.read { $0.transfers["t0"] } == nil)
                #expect(model.read { $0.accounts["b"]?.creditsPosted } == 0, "balances written in are not read before the commit")
                return outcomes.map(\.code)
            }
            #expect(outcomes == ["ok", "ok", "ok", "ok", "ok", "transfer_exists"])
            outcome(model)
            let state = model.read { $0 }
            await ledger.close()
            return state
        }
    }

    @Test func aCommittedBatchPublishesItsTransfers() async throws {
        let state = try await self.run { $0.batchCommitted {} }
        #expect(state.transfers.count == 5)
        #expect(state.transfers["t4"]?.amount == 2)
        #expect(state.accounts["b"]?.creditsPosted == 10)
    }

    @Test func aFailedBatchLeavesNothingBehind() async throws {
        let state = try await self.run { $0.batchFailed() }
        #expect(state.transfers.count == 0)
        #expect(state.transfers.includingUncommitted("t0") == nil)
        #expect(state.accounts["b"]?.creditsPosted == 0)
        // Transfers can be stored again afterwards (the ids are free).
        var table = state.transfers
        table["t0"] = Transfer(id: "t0", kind: .posted, debitAccount: "a", creditAccount: "b", amount: 1, currency: "APX")
        #expect(table.count == 1)
    }

    /// An account opened and a pending transfer decided through `evolve` in the batch: hidden
    /// from readers until the batch is durable, gone if it fails.
    private func runOpening(_ outcome: (PaymentsModel) -> Void) async throws -> PaymentsState {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            _ = try await ledger.execute([
                .openAccount(Account(id: "a", agent: "g", currency: "APX")), .openAccount(Account(id: "b", agent: "g", currency: "APX")),
                .transfer(TransferRequest(id: "seed", debitAccount: "b", creditAccount: "a", amount: 50, currency: "APX")),
            ])
            let model = PaymentsModel(checkpointEventsMin: 1_000)
            try model.replay(ledger.log)
            let commands: [PaymentCommand] = [
                .openAccount(Account(id: "c", agent: "g", currency: "APX")),
                .transfer(TransferRequest(id: "p", debitAccount: "a", creditAccount: "c", amount: 7, currency: "APX", timeoutNanoseconds: 60_000_000_000)),
                .transfer(TransferRequest(id: "q", debitAccount: "a", creditAccount: "c", amount: 3, currency: "APX")),
            ]
            let outcomes = try await ledger.log.withinCommit { append in
                let outcomes = model.execute(commands, linked: false, now: 1, append: append)
                #expect(model.read { $0.accounts["c"] } == nil)
                #expect(model.read { $0.accounts["a"]?.debitsPending } == 0)
                #expect(model.read { $0.accounts["a"]?.debitsPosted } == 0)
                #expect(model.read { $0.accounts.count } == 2)
                return outcomes.map(\.code)
            }
            #expect(outcomes == ["ok", "ok", "ok"])
            outcome(model)
            let state = model.read { $0 }
            await ledger.close()
            return state
        }
    }

    @Test func aCommittedBatchPublishesTheAccountsItOpenedAndChanged() async throws {
        let state = try await self.runOpening { $0.batchCommitted {} }
        #expect(state.accounts.count == 3)
        #expect(state.accounts["c"]?.creditsPending == 7 && state.accounts["c"]?.creditsPosted == 3)
        #expect(state.accounts["a"]?.debitsPending == 7 && state.accounts["a"]?.debitsPosted == 3)
    }

    @Test func aFailedBatchForgetsTheAccountsItOpenedAndPutsBalancesBack() async throws {
        let state = try await self.runOpening { $0.batchFailed() }
        #expect(state.accounts.count == 2 && state.accounts["c"] == nil)
        #expect(state.accounts["a"]?.debitsPending == 0 && state.accounts["a"]?.debitsPosted == 0)
        #expect(state.accounts["a"]?.creditsPosted == 50)
        var table = state.accounts
        table.store(Account(id: "c", agent: "h", currency: "APX"))
        #expect(table["c"]?.agent == "h", "the failed batch's id is free again")
    }
}
