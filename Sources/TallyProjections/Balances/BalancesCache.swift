import TallyLMDB

/// One balances batch's view of `balances.accounts`, and the statement lines it adds: each
/// touched account is read once, changed in memory, and written once at the end with its
/// new lines in chunks (``StatementChunk``).
///
/// Lines are written into one buffer in position order as the batch goes (the writes stay
/// sequential; a buffer per account cost a cache miss a line over 10,000 accounts) and
/// grouped by account only when the batch is flushed.
struct BalancesCache {
    let store: ProjectionStore
    let accounts: Database
    /// Account id → index in `balances` and `ids`.
    private var indexes: [String: Int] = [:]
    private var balances: [AccountBalance] = []
    private var ids: [String] = []
    /// The batch's statement lines, encoded back to back in position order.
    private var lines: [UInt8] = []
    /// Each line's account (index in `balances`) and where it starts in `lines`.
    private var refs: [(account: Int32, offset: Int32)] = []
    /// The batch's account numbers (``BalancesProjection/Batch/accounts``) → index in
    /// `balances`, -1 until first used.
    private var slots: [Int]
    private let numbered: [String]

    init(store: ProjectionStore, accounts: Database, batch: BalancesProjection.Batch) {
        self.store = store
        self.accounts = accounts
        self.numbered = batch.accounts
        self.slots = Array(repeating: -1, count: batch.accounts.count)
        self.lines.reserveCapacity(batch.postings.count * 2 * (StatementChunk.fixedBytes + 16))
        self.refs.reserveCapacity(batch.postings.count * 2)
    }

    /// An account opened: its balances start at zero (a reopened id starts over).
    mutating func open(_ id: String, currency: String) {
        if let index = self.indexes[id] {
            self.balances[index] = AccountBalance(currency: currency)
        } else {
            self.append(id, AccountBalance(currency: currency))
        }
    }

    /// Changes the balances of `id`.
    mutating func change(_ id: String, _ posting: BalancesProjection.Posting, _ body: (inout AccountBalance) -> Void) throws {
        let index = try self.index(id, posting)
        body(&self.balances[index])
    }

    /// Changes the balances of the batch's account `number`.
    mutating func change(number: Int32, _ posting: BalancesProjection.Posting, _ body: (inout AccountBalance) -> Void) throws {
        let index = try self.index(number: number, posting)
        body(&self.balances[index])
    }

    /// Posts `amount` from `debit` to `credit` (indexes from ``index(_:_:)``), with a
    /// statement line on each.
    mutating func post(_ transfer: String, debit: Int, credit: Int, amount: UInt64, _ posting: BalancesProjection.Posting) {
        self.line(debit, transfer: transfer, isDebit: true, amount: amount, posting)
        self.line(credit, transfer: transfer, isDebit: false, amount: amount, posting)
    }

    private mutating func line(_ index: Int, transfer: String, isDebit: Bool, amount: UInt64, _ posting: BalancesProjection.Posting) {
        if isDebit { self.balances[index].debitsPosted &+= amount } else { self.balances[index].creditsPosted &+= amount }
        let balance = self.balances[index]
        self.refs.append((Int32(truncatingIfNeeded: index), Int32(truncatingIfNeeded: self.lines.count)))
        StatementChunk.append(
            StatementLine(
                position: posting.position, transfer: transfer, isDebit: isDebit, amount: amount, debitsPosted: balance.debitsPosted,
                creditsPosted: balance.creditsPosted, recordedAt: posting.recordedAtNanoseconds),
            to: &self.lines)
    }

    /// The index of the batch's account `number` in `balances`.
    mutating func index(number: Int32, _ posting: BalancesProjection.Posting) throws -> Int {
        let slot = Int(number)
        if self.slots[slot] >= 0 { return self.slots[slot] }
        let index = try self.index(self.numbered[slot], posting)
        self.slots[slot] = index
        return index
    }

    /// The index of `id` in `balances`, read from the view on first use.
    mutating func index(_ id: String, _ posting: BalancesProjection.Posting) throws -> Int {
        if let index = self.indexes[id] { return index }
        guard let bytes = try self.store.get(self.accounts, key: Array(id.utf8)), let stored = AccountBalance(bytes) else {
            throw ProjectionError(position: posting.position, message: "account \(id) is unknown to the balances projection")
        }
        return self.append(id, stored)
    }

    @discardableResult
    private mutating func append(_ id: String, _ balance: AccountBalance) -> Int {
        self.indexes[id] = self.balances.count
        self.balances.append(balance)
        self.ids.append(id)
        return self.balances.count - 1
    }

    /// Writes each touched account in key order (every page of the tree visited once per
    /// batch), then the new statement chunks: appended at the end of `statements` in
    /// position order, with their entries in the `chunks` index.
    func flush(statements: Database, chunks: Database) throws {
        // The lines of each account, in position order: a counting sort of `refs`.
        var starts = [Int](repeating: 0, count: self.balances.count + 1)
        for ref in self.refs { starts[Int(ref.account) + 1] += 1 }
        for index in self.balances.indices { starts[index + 1] += starts[index] }
        var next = starts
        var byAccount = [Int32](repeating: 0, count: self.refs.count)
        for ref in self.refs {
            byAccount[next[Int(ref.account)]] = ref.offset
            next[Int(ref.account)] += 1
        }
        let ordered = self.ids.indices.map { (key: Array(self.ids[$0].utf8), index: $0) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        // Every account's chunks, grouped by account in `chunked`.
        var chunked: [UInt8] = []
        chunked.reserveCapacity(self.lines.count)
        var written: [(first: UInt64, order: Int, start: Int, end: Int)] = []
        try self.lines.withUnsafeBytes { lines in
            for (order, (account, index)) in ordered.enumerated() {
                try self.store.put(self.accounts, key: account, value: self.balances[index].encoded)
                var chunkStart = -1
                for offset in byAccount[starts[index]..<starts[index + 1]] {
                    let line = StatementChunk.line(in: lines, at: Int(offset))
                    if chunkStart < 0 || chunked.count - chunkStart + line.count > StatementChunk.bytesMax {
                        if chunkStart >= 0 { written[written.count - 1].end = chunked.count }
                        chunkStart = chunked.count
                        let first = line.loadUnaligned(as: UInt64.self).littleEndian
                        written.append((first, order, chunkStart, chunkStart))
                        try StatementChunk.indexKey(account: account, first: first).withUnsafeBytes { key in
                            try self.store.put(chunks, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0))
                        }
                    }
                    chunked.append(contentsOf: line)
                }
                if chunkStart >= 0 { written[written.count - 1].end = chunked.count }
            }
        }
        // Position, then account: every key sorts after the last batch's (their positions are
        // higher) and after the one before it in this batch.
        written.sort { ($0.first, $0.order) < ($1.first, $1.order) }
        try chunked.withUnsafeBytes { chunked in
            for chunk in written {
                let key = StatementChunk.dataKey(account: ordered[chunk.order].key, first: chunk.first)
                try key.withUnsafeBytes { key in
                    try self.store.put(statements, key: key, value: UnsafeRawBufferPointer(rebasing: chunked[chunk.start..<chunk.end]), appending: true)
                }
            }
        }
    }
}
