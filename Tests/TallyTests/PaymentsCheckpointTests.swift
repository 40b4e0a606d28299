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
