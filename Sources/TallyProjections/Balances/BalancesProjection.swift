public import TallyDomain
import TallyLMDB
public import TallyLog

/// Balances and statements: each account's posted and pending balances, and a statement
/// line for every posting, so a balance is known as of any position.
///
/// Databases: `balances.accounts` (account id → ``AccountBalance``), `balances.statements`
/// (chunks of an account's consecutive ``StatementLine``s under first position u64 BE ‖
/// account id, appended in key order), `balances.chunks` (account id ‖ 0x00 ‖ first position
/// u64 BE → nothing: which chunks an account has), `balances.pending` (pending transfer id →
/// debit ‖ 0x00 ‖ credit ‖ 0x00 ‖ amount u64 LE, until it closes). See ``StatementChunk``.
///
/// Version 1 stored one entry a statement line keyed account ‖ position: a batch inserted
/// lines under every account, so each commit rewrote a leaf page per account touched.
/// Version 2 appends the lines in chunks at the end of one tree and inserts only small
/// index entries elsewhere (docs/architecture.md, "Statement chunks").
public struct BalancesProjection: RecordProjection {
    public let name = "balances"
    public let version: UInt32 = 2
    public let databases = ["balances.accounts", "balances.statements", "balances.chunks", "balances.pending"]
    public typealias Prepared = Batch

    public init() {}

    /// A payment event's effect on balances, decoded ahead of its transaction (``prepare(_:)``).
    public struct Posting: Sendable, Equatable {
        public let position: UInt64
        public let recordedAtNanoseconds: UInt64
        public let effect: PaymentEffect
        /// For `.held` and `.posted`: the debit and credit accounts' numbers in the batch's
        /// ``Batch/accounts``, so that `apply` finds them without hashing their ids.
        let debit: Int32
        let credit: Int32
    }

    /// A prepared batch: its postings, and the accounts they move money on, numbered in the
    /// order of first use (on the thread that prepares, not the views writer).
    public struct Batch: Sendable {
        public private(set) var postings: [Posting] = []
        /// Account ids by number.
        private(set) var accounts: [String] = []
        private var numbers: [String: Int32] = [:]

        init(capacity: Int) { self.postings.reserveCapacity(capacity) }

        mutating func append(position: UInt64, recordedAt: UInt64, _ effect: PaymentEffect) {
            var debit: Int32 = -1
            var credit: Int32 = -1
            switch effect {
            case .held(_, let from, let to, _), .posted(_, let from, let to, _):
                debit = self.number(from)
                credit = self.number(to)
            case .opened, .committed, .released, .none:
                break
            }
            self.postings.append(Posting(position: position, recordedAtNanoseconds: recordedAt, effect: effect, debit: debit, credit: credit))
        }

        private mutating func number(_ account: String) -> Int32 {
            if let number = self.numbers[account] { return number }
            let number = Int32(truncatingIfNeeded: self.accounts.count)
            self.numbers[account] = number
            self.accounts.append(account)
            return number
        }
    }

    /// Decodes the payment events of a batch (the runtime does it for the next batch while
    /// the current one is applied).
    public func prepare(_ events: [RecordedEvent]) throws -> Batch {
        var batch = Batch(capacity: events.count)
        for event in events where PaymentEvent.isPaymentStream(event.streamID) {
            var type = event.type
            let effect = try type.withUTF8 { type in
                try event.payload.withUnsafeBytes { payload in
                    try Self.effect(type: UnsafeRawBufferPointer(type), payload: payload, position: event.position)
                }
            }
            batch.append(position: event.position, recordedAt: event.recordedAtNanoseconds, effect)
        }
        return batch
    }

    public func emptyBatch(capacity: Int) -> Batch { Batch(capacity: capacity) }

    /// The same as ``prepare(_:)`` for one record, read from its bytes.
    public func prepare(_ record: RecordView, into batch: inout Batch) throws {
        guard Self.isPaymentStream(record.streamIDBytes) else { return }
        let position = record.position
        let effect = try Self.effect(type: record.typeBytes, payload: record.payloadBytes, position: position)
        batch.append(position: position, recordedAt: record.recordedAtNanoseconds, effect)
    }

    private static func effect(type: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, position: UInt64) throws -> PaymentEffect {
        do {
            return try PaymentEffect.decode(type: type, payload: payload)
        } catch {
            throw ProjectionError(position: position, message: "\(String(decoding: type, as: UTF8.self)) does not decode: \(error)")
        }
    }

    /// ``PaymentEvent/isPaymentStream(_:)`` on the stream id's bytes.
    static func isPaymentStream(_ stream: UnsafeRawBufferPointer) -> Bool {
        func starts(with prefix: StaticString) -> Bool {
            guard stream.count >= prefix.utf8CodeUnitCount else { return false }
            for index in 0..<prefix.utf8CodeUnitCount where stream[index] != prefix.utf8Start[index] { return false }
            return true
        }
        return starts(with: "transfer-") || starts(with: "account-")
    }

    /// Decodes and applies `events` in one go.
    public func apply(_ events: [RecordedEvent], in store: ProjectionStore) throws {
        try self.apply(try self.prepare(events), in: store)
    }

    public func apply(_ batch: Batch, in store: ProjectionStore) throws {
        let pending = store.database("balances.pending")
        // Accounts touched by the batch are read once and written once, at the end.
        var cache = BalancesCache(store: store, accounts: store.database("balances.accounts"), batch: batch)
        for posting in batch.postings {
            switch posting.effect {
            case .opened(let account, let currency):
                cache.open(account, currency: currency)
            case .none:
                break
            case .held(let transfer, let debit, let credit, let amount):
                try cache.change(number: posting.debit, posting) { $0.debitsPending &+= amount }
                try cache.change(number: posting.credit, posting) { $0.creditsPending &+= amount }
                var value = Array(debit.utf8)
                value.append(0)
                value += credit.utf8
                value.append(0)
                withUnsafeBytes(of: amount.littleEndian) { value.append(contentsOf: $0) }
                try store.put(pending, key: Array(transfer.utf8), value: value)
            case .posted(let transfer, _, _, let amount):
                try cache.post(transfer, debit: cache.index(number: posting.debit, posting), credit: cache.index(number: posting.credit, posting), amount: amount, posting)
            case .committed(let transfer, let amount):
                let held = try Self.release(transfer, posting, store, &cache, pending)
                try cache.post(transfer, debit: cache.index(held.debit, posting), credit: cache.index(held.credit, posting), amount: amount, posting)
            case .released(let transfer):
                _ = try Self.release(transfer, posting, store, &cache, pending)
            }
        }
        try cache.flush(statements: store.database("balances.statements"), chunks: store.database("balances.chunks"))
    }

    private static func release(
        _ id: String, _ posting: Posting, _ store: ProjectionStore, _ cache: inout BalancesCache, _ pending: Database
    ) throws -> (debit: String, credit: String) {
        let key = Array(id.utf8)
        guard let value = try store.get(pending, key: key), value.count > 10 else {
            throw ProjectionError(position: posting.position, message: "pending transfer \(id) is unknown to the balances projection")
        }
        let parts = value.dropLast(8).split(separator: 0, omittingEmptySubsequences: false)
        guard parts.count >= 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ProjectionError(position: posting.position, message: "pending transfer \(id) is malformed in the view")
        }
        let debit = String(decoding: parts[0], as: UTF8.self)
        let credit = String(decoding: parts[1], as: UTF8.self)
        let amount = value.suffix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian }
        try cache.change(debit, posting) { $0.debitsPending &-= amount }
        try cache.change(credit, posting) { $0.creditsPending &-= amount }
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
