import Foundation
@testable import Tally
import TallyTesting
import Testing

/// The feed that lets a batch's events be made while the writer decides its first commands:
/// the writer sees only what is published, never waits, and a large batch decided while its
/// speculations are still being made gets the same outcomes and balances as any other.
/// (Also run under ThreadSanitizer: scripts/sanitize.sh.)
@Suite struct SpeculationFeedTests {
    private static func transfers(_ count: Int, prefix: String = "t") -> [PaymentCommand] {
        (0..<count).map { index -> PaymentCommand in
            let even = index % 2 == 0
            let request = TransferRequest(
                id: DomainID(stringLiteral: prefix + String(index)), debitAccount: even ? "a" : "b", creditAccount: even ? "b" : "a",
                amount: UInt64(index % 7 + 1), currency: "APX")
            return .transfer(request)
        }
    }

    @Test func theWriterSeesOnlyPublishedSlots() {
        let commands = Self.transfers(10)
        let feed = SpeculationFeed(count: commands.count)
        feed.fill(upTo: 4) { PaymentsModel.speculate(commands[$0], metadata: .empty) }
        #expect(feed.take(0)?.event.streamID == "transfer-t0")
        #expect(feed.take(3)?.event.streamID == "transfer-t3")
        #expect(feed.take(4) == nil)
        #expect(!feed.isConsumed)
    }

    @Test func theProducerSkipsWhatTheWriterPassed() {
        let commands = Self.transfers(10)
        let feed = SpeculationFeed(count: commands.count)
        _ = feed.take(6)  // the writer decided commands 0 to 6 without speculations
        var made: [Int] = []
        feed.fill(upTo: 10) { index in
            made.append(index)
            return PaymentsModel.speculate(commands[index], metadata: .empty)
        }
        #expect(made == [7, 8, 9])
        #expect(feed.take(8)?.event.streamID == "transfer-t8")
        #expect(feed.take(9) != nil)
        #expect(feed.isConsumed)
    }

    @Test func onlyPostedTransfersAreSpeculated() {
        let pending = TransferRequest(id: "p", debitAccount: "a", creditAccount: "b", amount: 1, currency: "APX", timeoutNanoseconds: 1_000)
        #expect(PaymentsModel.speculate(.transfer(pending), metadata: .empty) == nil)
        #expect(PaymentsModel.speculate(.voidPending("p"), metadata: .empty) == nil)
        #expect(PaymentsModel.speculate(Self.transfers(1)[0], metadata: .empty) != nil)
    }

    @Test func aRetiredFeedIsFreedByTheNextProducer() {
        let model = PaymentsModel(checkpointEventsMin: 1_000)
        weak var retired: SpeculationFeed?
        do {
            let feed = PaymentsModel.madeFeed(Self.transfers(3), metadata: .empty)
            retired = feed
            model.retire(feed)
        }
        #expect(retired != nil)  // kept until a producer frees it
        model.freeRetired()
        #expect(retired == nil)
    }

    @Test func largeBatchesWhileTheirEventsAreMadeGiveTheSameBooks() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            _ = try await ledger.execute([
                .openAccount(Account(id: "a", agent: "g", currency: "APX")), .openAccount(Account(id: "b", agent: "g", currency: "APX")),
            ])
            // Several batches at once, each well past the lead, with duplicates across them.
            let batches = (0..<4).map { Self.transfers(3_000 + $0 * 500, prefix: "t") }
            let results = try await withThrowingTaskGroup(of: [String].self) { group in
                for batch in batches { group.addTask { try await ledger.execute(batch).map(\.code) } }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let created = results.reduce(0) { $0 + $1.filter { $0 == "ok" }.count }
            #expect(created == 4_500)  // t0…t4499, each once
            #expect(results.allSatisfy { $0.allSatisfy { ["ok", "transfer_exists"].contains($0) } })
            let expected = (0..<4_500).reduce(into: (a: UInt64(0), b: UInt64(0))) { sums, index in
                if index % 2 == 0 { sums.b += UInt64(index % 7 + 1) } else { sums.a += UInt64(index % 7 + 1) }
            }
            #expect(ledger.account("a")?.creditsPosted == expected.a)
            #expect(ledger.account("b")?.creditsPosted == expected.b)
            #expect(ledger.account("a")?.debitsPosted == expected.b)
            let events = try ledger.log.stats().events
            #expect(events == 2 + 4_500)
            await ledger.close()
        }
    }
}
