import TallyDomain
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

    /// Decodes the payment events of a batch (the runtime does it for the next batch while
    /// the current one is applied).
    public func prepare(_ events: [RecordedEvent]) throws -> Batch {
        var batch = Batch(capacity: events.count)
        for event in events where PaymentEvent.isPaymentStream(event.streamID) {
            var type = event.type
            try type.withUTF8 { type in
                try event.payload.withUnsafeBytes { payload in
                    try Self.add(type: UnsafeRawBufferPointer(type), payload: payload, position: event.position, recordedAt: event.recordedAtNanoseconds, to: &batch)
                }
            }
        }
        return batch
    }

    /// An empty batch with room for `capacity` postings.
    public func emptyBatch(capacity: Int) -> Batch { Batch(capacity: capacity) }

    /// The same as ``prepare(_:)`` for one record, read from its bytes.
    public func prepare(_ record: RecordView, into batch: inout Batch) throws {
        guard Self.isPaymentStream(record.streamIDBytes) else { return }
        try Self.add(type: record.typeBytes, payload: record.payloadBytes, position: record.position, recordedAt: record.recordedAtNanoseconds, to: &batch)
    }

    private static func add(type: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, position: UInt64, recordedAt: UInt64, to batch: inout Batch) throws {
        if let fields = PaymentEffect.transferFields(type: type, payload: payload) {
            batch.append(position: position, recordedAt: recordedAt, fields)
            return
        }
        do {
            batch.append(position: position, recordedAt: recordedAt, try PaymentEffect.decode(type: type, payload: payload))
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
            switch posting.kind {
            case .opened:
                cache.open(batch.account(posting.debit), currency: batch.currencies[Int(posting.credit)])
            case .held:
                try cache.change(number: posting.debit, posting) { $0.debitsPending &+= posting.amount }
                try cache.change(number: posting.credit, posting) { $0.creditsPending &+= posting.amount }
                var value = Array(batch.account(posting.debit).utf8)
                value.append(0)
                value += batch.account(posting.credit).utf8
                value.append(0)
                withUnsafeBytes(of: posting.amount.littleEndian) { value.append(contentsOf: $0) }
                try batch.withBytes(posting.transfer) { key in
                    try value.withUnsafeBytes { value in try store.put(pending, key: key, value: value) }
                }
            case .posted:
                try cache.post(debit: cache.index(number: posting.debit, posting), credit: cache.index(number: posting.credit, posting), posting)
            case .committed:
                let held = try Self.release(posting, batch, store, &cache, pending)
                try cache.post(debit: cache.index(held.debit, posting), credit: cache.index(held.credit, posting), posting)
            case .released:
                _ = try Self.release(posting, batch, store, &cache, pending)
            }
        }
        try cache.flush(statements: store.database("balances.statements"), chunks: store.database("balances.chunks"))
    }

    private static func release(
        _ posting: Posting, _ batch: Batch, _ store: ProjectionStore, _ cache: inout BalancesCache, _ pending: Database
    ) throws -> (debit: String, credit: String) {
        let key = batch.withBytes(posting.transfer) { Array($0) }
        let id = String(decoding: key, as: UTF8.self)
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

