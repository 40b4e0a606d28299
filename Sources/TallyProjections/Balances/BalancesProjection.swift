import Foundation
public import TallyDomain
public import TallyLMDB
public import TallyLog

/// Balances and statements: each account's posted and pending balances, and a statement
/// line for every posting, so a balance is known as of any position.
///
/// Databases: `balances.accounts` (account id → ``AccountBalance``), `balances.statements`
/// (account id ‖ 0x00 ‖ position u64 BE → ``StatementLine``), `balances.pending` (pending
/// transfer id → debit ‖ 0x00 ‖ credit ‖ 0x00 ‖ amount u64 LE, until it closes).
public struct BalancesProjection: Projection {
    public let name = "balances"
    public let version: UInt32 = 1
    public let databases = ["balances.accounts", "balances.statements", "balances.pending"]

    public init() {}

    public func apply(_ events: [RecordedEvent], in store: ProjectionStore) throws {
        let accounts = store.database("balances.accounts")
        let statements = store.database("balances.statements")
        let pending = store.database("balances.pending")
        // Accounts touched by the batch are read once and written once, at the end.
        var cache = Cache(store: store, accounts: accounts)
        for event in events where PaymentEvent.isPaymentStream(event.streamID) {
            let decoded: PaymentEvent
            do { decoded = try PaymentEvent(type: event.type, payload: event.payload) } catch {
                throw ProjectionError(position: event.position, message: "\(event.type) does not decode: \(error)")
            }
            switch decoded {
            case .accountOpened(let account):
                cache.balances[account.id.rawValue] = AccountBalance(currency: account.currency.rawValue)
            case .accountClosed:
                break
            case .transferCreated(let transfer) where transfer.kind == .pending:
                _ = try cache.update(transfer.debitAccount, event) { $0.debitsPending &+= transfer.amount }
                _ = try cache.update(transfer.creditAccount, event) { $0.creditsPending &+= transfer.amount }
                var value = Array(transfer.debitAccount.rawValue.utf8) + [0] + Array(transfer.creditAccount.rawValue.utf8) + [0]
                withUnsafeBytes(of: transfer.amount.littleEndian) { value.append(contentsOf: $0) }
                try store.put(pending, key: Array(transfer.id.rawValue.utf8), value: value)
            case .transferCreated(let transfer):
                try self.post(transfer.id, debit: transfer.debitAccount, credit: transfer.creditAccount, amount: transfer.amount, event, store, &cache, statements)
            case .transferCommitted(let id, let amount):
                let held = try self.release(id, event, store, &cache, pending)
                try self.post(id, debit: held.debit, credit: held.credit, amount: amount, event, store, &cache, statements)
            case .transferVoided(let id), .transferExpired(let id):
                _ = try self.release(id, event, store, &cache, pending)
            }
        }
        try cache.flush()
    }

    /// The batch's view of `balances.accounts`.
    private struct Cache {
        let store: ProjectionStore
        let accounts: Database
        var balances: [String: AccountBalance] = [:]

        mutating func update(_ id: DomainID, _ event: RecordedEvent, _ change: (inout AccountBalance) -> Void) throws -> AccountBalance {
            var balance: AccountBalance
            if let cached = self.balances[id.rawValue] {
                balance = cached
            } else if let bytes = try self.store.get(self.accounts, key: Array(id.rawValue.utf8)), let stored = AccountBalance(bytes) {
                balance = stored
            } else {
                throw ProjectionError(position: event.position, message: "account \(id) is unknown to the balances projection")
            }
            change(&balance)
            self.balances[id.rawValue] = balance
            return balance
        }

        func flush() throws {
            for (id, balance) in self.balances.sorted(by: { $0.key < $1.key }) {
                try self.store.put(self.accounts, key: Array(id.utf8), value: balance.encoded)
            }
        }
    }

    private func post(
        _ transfer: DomainID, debit: DomainID, credit: DomainID, amount: UInt64, _ event: RecordedEvent, _ store: ProjectionStore,
        _ cache: inout Cache, _ statements: Database
    ) throws {
        for (account, isDebit) in [(debit, true), (credit, false)] {
            let balance = try cache.update(account, event) { balance in
                if isDebit { balance.debitsPosted &+= amount } else { balance.creditsPosted &+= amount }
            }
            let line = StatementLine(
                position: event.position, transfer: transfer.rawValue, isDebit: isDebit, amount: amount,
                debitsPosted: balance.debitsPosted, creditsPosted: balance.creditsPosted, recordedAt: event.recordedAtNanoseconds)
            try store.put(statements, key: StatementLine.key(account: account.rawValue, position: event.position), value: line.encoded)
        }
    }

    private func release(
        _ id: DomainID, _ event: RecordedEvent, _ store: ProjectionStore, _ cache: inout Cache, _ pending: Database
    ) throws -> (debit: DomainID, credit: DomainID) {
        let key = Array(id.rawValue.utf8)
        guard let value = try store.get(pending, key: key), value.count > 10 else {
            throw ProjectionError(position: event.position, message: "pending transfer \(id) is unknown to the balances projection")
        }
        let parts = value.dropLast(8).split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count >= 2, let debit = try? DomainID(String(decoding: parts[0], as: UTF8.self), field: "debit"),
            let credit = try? DomainID(String(decoding: parts[1], as: UTF8.self), field: "credit")
        else { throw ProjectionError(position: event.position, message: "pending transfer \(id) is malformed in the view") }
        let amount = value.suffix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        _ = try cache.update(debit, event) { $0.debitsPending &-= amount }
        _ = try cache.update(credit, event) { $0.creditsPending &-= amount }
        try store.delete(pending, key: key)
        return (debit, credit)
    }
}

/// An `apply` that cannot go on, naming the position.
public struct ProjectionError: Error, CustomStringConvertible {
    public let position: UInt64
    public let message: String

    public init(position: UInt64, message: String) {
        self.position = position
        self.message = message
    }

    public var description: String { "position \(self.position): \(self.message)" }
}
