import Foundation
import Tally
import TallyProjections
import TallyTesting
import Testing

/// Statement lines are stored in chunks (several lines of one account under one key, a
/// chunk never spanning two batches): every query must answer as if each line were stored
/// alone, whatever the batch sizes were, and the rebuild's record path must build exactly
/// what the live path builds from events.
@Suite struct StatementChunkTests {
    /// One expected statement line: what a fold of the log says.
    struct Expected: Equatable {
        var position: UInt64
        var transfer: String
        var isDebit: Bool
        var amount: UInt64
        var debitsPosted: UInt64
        var creditsPosted: UInt64
    }

    /// Many postings on few accounts (each gets many chunks), with pending transfers that
    /// commit in later batches, long transfer ids and a reversal.
    private func workload(_ ledger: Ledger) async throws {
        _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
        for index in 0..<3 { _ = try await ledger.openAccount(Account(id: DomainID(stringLiteral: "w\(index)"), agent: "a", currency: "APX")) }
        for round in 0..<12 {
            var batch: [TransferRequest] = []
            for index in 0..<40 {
                let id = index % 7 == 0 ? String(repeating: "long", count: 14) + "-\(round)-\(index)" : "t\(round)-\(index)"
                batch.append(
                    TransferRequest(
                        id: DomainID(stringLiteral: id), debitAccount: DomainID(stringLiteral: index % 5 == 0 ? "w\(index % 3)" : "treasury"),
                        creditAccount: DomainID(stringLiteral: "w\((index + 1) % 3)"), amount: UInt64(index + 1), currency: "APX"))
            }
            _ = try await ledger.submit(batch)
            _ = try await ledger.submit(
                TransferRequest(id: DomainID(stringLiteral: "hold-\(round)"), debitAccount: "treasury", creditAccount: "w2", amount: 7, currency: "APX", timeoutNanoseconds: 3_600_000_000_000))
            if round > 0 { _ = try await ledger.commitPending(DomainID(stringLiteral: "hold-\(round - 1)"), amount: 5) }
        }
        _ = try await ledger.reverse("undo", of: "t3-1", amount: 1)
    }

    /// Every account's statement, folded from the log.
    private func fold(_ ledger: Ledger) throws -> [String: [Expected]] {
        var lines: [String: [Expected]] = [:]
        var balances: [String: (debits: UInt64, credits: UInt64)] = [:]
        var held: [String: (String, String)] = [:]
        func post(_ transfer: String, _ debit: String, _ credit: String, _ amount: UInt64, _ position: UInt64) {
            balances[debit, default: (0, 0)].debits += amount
            balances[credit, default: (0, 0)].credits += amount
            for (account, isDebit) in [(debit, true), (credit, false)] {
                let balance = balances[account, default: (0, 0)]
                lines[account, default: []].append(Expected(
                    position: position, transfer: transfer, isDebit: isDebit, amount: amount, debitsPosted: balance.debits, creditsPosted: balance.credits))
            }
        }
        for event in try ledger.log.read(fromPosition: 1, limit: 100_000) where PaymentEvent.isPaymentStream(event.streamID) {
            switch try PaymentEvent(type: event.type, payload: event.payload) {
            case .transferCreated(let transfer) where transfer.kind == .pending:
                held[transfer.id.rawValue] = (transfer.debitAccount.rawValue, transfer.creditAccount.rawValue)
            case .transferCreated(let transfer):
                post(transfer.id.rawValue, transfer.debitAccount.rawValue, transfer.creditAccount.rawValue, transfer.amount, event.position)
            case .transferCommitted(let id, let amount):
                if let (debit, credit) = held[id.rawValue] { post(id.rawValue, debit, credit, amount, event.position) }
            default: break
            }
        }
        return lines
    }

    private func lines(_ views: ViewStore, _ account: String, from: UInt64 = 1, limit: Int = 100_000) throws -> [Expected] {
        try views.statement(of: account, fromPosition: from, limit: limit).map {
            Expected(position: $0.position, transfer: $0.transfer, isDebit: $0.isDebit, amount: $0.amount, debitsPosted: $0.debitsPosted, creditsPosted: $0.creditsPosted)
        }
    }

    @Test func queriesAnswerAsIfEveryLineWereStoredAloneForAnyBatchSize() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            try await self.workload(ledger)
            let expected = try self.fold(ledger)
            let head = ledger.log.headPosition
            for batchEvents in [1, 7, 64, 1_000] {
                let root = dir.path + "/views-\(batchEvents)"
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                let views = try ViewStore.open(dataDirectory: root, projections: [BalancesProjection()])
                try await ProjectionWorker(projection: BalancesProjection(), log: ledger.log, views: views).catchUp(batchEventsMax: batchEvents)
                for (account, lines) in expected {
                    #expect(try self.lines(views, account) == lines, "\(account), batches of \(batchEvents)")
                    // Paged from every position a line has, and between lines, with small pages.
                    for (index, line) in lines.enumerated() where index % 3 == 0 {
                        #expect(try self.lines(views, account, from: line.position, limit: 5) == Array(lines[index...].prefix(5)))
                        #expect(try self.lines(views, account, from: line.position + 1, limit: 4) == Array(lines[(index + 1)...].prefix(4)))
                    }
                    #expect(try self.lines(views, account, from: head + 1).isEmpty)
                    #expect(try self.lines(views, account, limit: 0).isEmpty)
                    // As of every position: the last line at or before it.
                    for position in stride(from: UInt64(1), through: head + 2, by: batchEvents == 1 ? 1 : 3) {
                        let line = try views.statementLine(of: account, atPosition: position)
                        let want = lines.last { $0.position <= position }
                        #expect(line?.position == want?.position && line?.debitsPosted == want?.debitsPosted && line?.creditsPosted == want?.creditsPosted, "\(account) at \(position)")
                    }
                    #expect(try views.statementLine(of: account, atPosition: .max)?.position == lines.last?.position)
                }
                // An account with no lines, and one whose id is a prefix of others ("w" of "w1").
                #expect(try views.statement(of: "w").isEmpty && views.statementLine(of: "w", atPosition: head) == nil)
                #expect(try views.statement(of: "nobody").isEmpty)
                views.close()
            }
            await ledger.close()
        }
    }

    @Test func theRecordPathBuildsWhatTheEventPathBuilds() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
            try await self.workload(ledger)
            // One worker catches up alone (records, ``RecordProjection``); the other with the
            // log read once for several workers (events, ``Projection/prepare(_:)``).
            var built: [[String: [Expected]]] = []
            for (name, alone) in [("records", true), ("events", false)] {
                let root = dir.path + "/" + name
                try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
                let views = try ViewStore.open(dataDirectory: root, projections: [BalancesProjection()])
                let worker = try ProjectionWorker(projection: BalancesProjection(), log: ledger.log, views: views)
                if alone { try await worker.catchUp(batchEventsMax: 50) } else { try await ProjectionWorker.catchUp([worker], batchEventsMax: 50) }
                var statements: [String: [Expected]] = [:]
                for account in ["treasury", "w0", "w1", "w2"] {
                    statements[account] = try self.lines(views, account)
                    let balance = try #require(try views.balance(of: account))
                    statements[account, default: []].append(Expected(
                        position: 0, transfer: "balance", isDebit: false, amount: balance.debitsPending &+ balance.creditsPending,
                        debitsPosted: balance.debitsPosted, creditsPosted: balance.creditsPosted))
                }
                built.append(statements)
                views.close()
            }
            #expect(built[0] == built[1])
            #expect(built[0]["w2"]?.count ?? 0 > 100)
            await ledger.close()
        }
    }
}
