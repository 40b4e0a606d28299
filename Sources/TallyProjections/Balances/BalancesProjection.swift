import Foundation
public import TallyDomain
import TallyLMDB
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
    public typealias Prepared = [Decoded]

    public init() {}

    /// A payment event decoded ahead of its transaction (``prepare(_:)``).
    public struct Decoded: Sendable {
        public let position: UInt64
        public let recordedAtNanoseconds: UInt64
        public let event: PaymentEvent
    }

    /// Decodes the payment events of a batch (the runtime does it for the next batch while
    /// the current one is applied).
    public func prepare(_ events: [RecordedEvent]) throws -> [Decoded] {
        var decoded: [Decoded] = []
        decoded.reserveCapacity(events.count)
        for event in events where PaymentEvent.isPaymentStream(event.streamID) {
            do {
                decoded.append(
                    Decoded(
                        position: event.position, recordedAtNanoseconds: event.recordedAtNanoseconds,
                        event: try PaymentEvent(type: event.type, payload: event.payload)))
            } catch {
                throw ProjectionError(position: event.position, message: "\(event.type) does not decode: \(error)")
            }
        }
        return decoded
    }

    /// Decodes and applies `events` in one go.
    public func apply(_ events: [RecordedEvent], in store: ProjectionStore) throws {
        try self.apply(try self.prepare(events), in: store)
    }

    public func apply(_ batch: [Decoded], in store: ProjectionStore) throws {
        let accounts = store.database("balances.accounts")
        let statements = store.database("balances.statements")
        let pending = store.database("balances.pending")
        // Accounts touched by the batch are read once and written once, at the end.
        var cache = Cache(store: store, accounts: accounts)
        for event in batch {
            switch event.event {
            case .accountOpened(let account):
                cache.open(account.id, currency: account.currency.rawValue)
            case .accountClosed:
                break
            case .transferCreated(let transfer) where transfer.kind == .pending:
                _ = try cache.update(transfer.debitAccount, event) { $0.debitsPending &+= transfer.amount }
                _ = try cache.update(transfer.creditAccount, event) { $0.creditsPending &+= transfer.amount }
                var value = Array(transfer.debitAccount.rawValue.utf8) + [0] + Array(transfer.creditAccount.rawValue.utf8) + [0]
                withUnsafeBytes(of: transfer.amount.littleEndian) { value.append(contentsOf: $0) }
                try store.put(pending, key: Array(transfer.id.rawValue.utf8), value: value)
            case .transferCreated(let transfer):
                try self.post(transfer.id, debit: transfer.debitAccount, credit: transfer.creditAccount, amount: transfer.amount, event, &cache)
            case .transferCommitted(let id, let amount):
                let held = try self.release(id, event, store, &cache, pending)
                try self.post(id, debit: held.debit, credit: held.credit, amount: amount, event, &cache)
            case .transferVoided(let id), .transferExpired(let id):
                _ = try self.release(id, event, store, &cache, pending)
            }
        }
        try cache.flush(statements)
    }

    /// The batch's view of `balances.accounts`, and the statement lines it adds.
    private struct Cache {
        struct Entry {
            var balance: AccountBalance
            /// Position and encoded line, in position order.
            var lines: [(position: UInt64, line: [UInt8])] = []
        }

        let store: ProjectionStore
        let accounts: Database
        /// Account id → index in `entries`.
        var indexes: [String: Int] = [:]
        var entries: [Entry] = []
        var ids: [String] = []

        mutating func open(_ id: DomainID, currency: String) {
            if let index = self.indexes[id.rawValue] {
                self.entries[index].balance = AccountBalance(currency: currency)
            } else {
                self.append(id.rawValue, Entry(balance: AccountBalance(currency: currency)))
            }
        }

        mutating func update(_ id: DomainID, _ event: Decoded, _ change: (inout AccountBalance) -> Void) throws -> AccountBalance {
            let index = try self.index(id, event)
            change(&self.entries[index].balance)
            return self.entries[index].balance
        }

        /// The entry of `id` in `entries`, read from the view on first use.
        mutating func index(_ id: DomainID, _ event: Decoded) throws -> Int {
            if let index = self.indexes[id.rawValue] { return index }
            guard let bytes = try self.store.get(self.accounts, key: Array(id.rawValue.utf8)), let stored = AccountBalance(bytes) else {
                throw ProjectionError(position: event.position, message: "account \(id) is unknown to the balances projection")
            }
            return self.append(id.rawValue, Entry(balance: stored))
        }

        @discardableResult
        private mutating func append(_ id: String, _ entry: Entry) -> Int {
            self.indexes[id] = self.entries.count
            self.entries.append(entry)
            self.ids.append(id)
            return self.entries.count - 1
        }

        /// Writes each touched account and its new statement lines in key order, so that
        /// every page of the two trees is visited once per batch (random order cost 2.5× as
        /// much in a 1 M-transfer rebuild).
        func flush(_ statements: Database) throws {
            let ordered = self.ids.indices.map { (key: Array(self.ids[$0].utf8), index: $0) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            for (account, index) in ordered {
                let entry = self.entries[index]
                try self.store.put(self.accounts, key: account, value: entry.balance.encoded)
                var key = account + [0] + [UInt8](repeating: 0, count: 8)
                for (position, line) in entry.lines {
                    key.withUnsafeMutableBytes { $0.storeBytes(of: position.bigEndian, toByteOffset: account.count + 1, as: UInt64.self) }
                    try self.store.put(statements, key: key, value: line)
                }
            }
        }
    }

    private func post(
        _ transfer: DomainID, debit: DomainID, credit: DomainID, amount: UInt64, _ event: Decoded, _ cache: inout Cache
    ) throws {
        for (account, isDebit) in [(debit, true), (credit, false)] {
            let index = try cache.index(account, event)
            if isDebit { cache.entries[index].balance.debitsPosted &+= amount } else { cache.entries[index].balance.creditsPosted &+= amount }
            let line = StatementLine(
                position: event.position, transfer: transfer.rawValue, isDebit: isDebit, amount: amount,
                debitsPosted: cache.entries[index].balance.debitsPosted, creditsPosted: cache.entries[index].balance.creditsPosted,
                recordedAt: event.recordedAtNanoseconds)
            cache.entries[index].lines.append((event.position, line.encoded))
        }
    }

    private func release(
        _ id: DomainID, _ event: Decoded, _ store: ProjectionStore, _ cache: inout Cache, _ pending: Database
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
