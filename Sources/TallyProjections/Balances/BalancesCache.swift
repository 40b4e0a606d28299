import TallyLMDB

/// One balances batch's view of `balances.accounts`, and the statement lines it adds: each
/// touched account is read once, changed in memory, and written once at the end with its
/// new lines in chunks (``StatementChunk``).
///
/// Lines are written as the batch goes into one of ``partitions`` buffers chosen by account
/// (a buffer per account cost a cache miss a line over 10,000 accounts; one buffer for all
/// moved that miss to the flush, which read the lines back in account order), and grouped
/// by account when the batch is flushed, one partition at a time: a partition of a
/// 250,000-event batch is about 400 KB, so that grouping reads from the core's own cache.
struct BalancesCache {
    /// How many line buffers a batch writes into.
    static let partitions = 64

    let store: ProjectionStore
    let accounts: Database
    /// Account id → index in `balances` and `ids`.
    private var indexes: [String: Int] = [:]
    private var balances: [AccountBalance] = []
    private var ids: [String] = []
    /// The batch's statement lines, encoded back to back in position order, in the
    /// partition of their account (its index in `balances` modulo ``partitions``).
    private var lines: [[UInt8]]
    /// Each line's account (index in `balances`) and where it starts in its partition.
    private var refs: [[(account: Int32, offset: Int32)]]
    /// The batch's account numbers (``BalancesProjection/Batch``) → index in `balances`, -1
    /// until first used.
    private var slots: [Int]
    private let batch: BalancesProjection.Batch

    init(store: ProjectionStore, accounts: Database, batch: BalancesProjection.Batch) {
        self.store = store
        self.accounts = accounts
        self.batch = batch
        self.slots = Array(repeating: -1, count: batch.accounts.count)
        let lines = batch.postings.count * 2 / Self.partitions + 16
        self.lines = Array(repeating: [], count: Self.partitions)
        self.refs = Array(repeating: [], count: Self.partitions)
        for partition in 0..<Self.partitions {
            self.lines[partition].reserveCapacity(lines * (StatementChunk.fixedBytes + 16))
            self.refs[partition].reserveCapacity(lines)
        }
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

    /// Posts the posting's amount from `debit` to `credit` (indexes from ``index(_:_:)``),
    /// with a statement line on each.
    mutating func post(debit: Int, credit: Int, _ posting: BalancesProjection.Posting) {
        self.line(debit, isDebit: true, posting)
        self.line(credit, isDebit: false, posting)
    }

    private mutating func line(_ index: Int, isDebit: Bool, _ posting: BalancesProjection.Posting) {
        if isDebit { self.balances[index].debitsPosted &+= posting.amount } else { self.balances[index].creditsPosted &+= posting.amount }
        let debits = self.balances[index].debitsPosted
        let credits = self.balances[index].creditsPosted
        let partition = index % Self.partitions
        self.refs[partition].append((Int32(truncatingIfNeeded: index), Int32(truncatingIfNeeded: self.lines[partition].count)))
        self.batch.withBytes(posting.transfer) { transfer in
            StatementChunk.append(
                position: posting.position, isDebit: isDebit, amount: posting.amount, debitsPosted: debits, creditsPosted: credits,
                recordedAt: posting.recordedAt, transfer: transfer, to: &self.lines[partition])
        }
    }

    /// The index of the batch's account `number` in `balances`.
    mutating func index(number: Int32, _ posting: BalancesProjection.Posting) throws -> Int {
        let slot = Int(number)
        if self.slots[slot] >= 0 { return self.slots[slot] }
        let index = try self.index(self.batch.account(number), posting)
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
        let ordered = self.ids.indices.map { (key: Array(self.ids[$0].utf8), index: $0) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var order = [Int](repeating: 0, count: self.balances.count)
        for (rank, account) in ordered.enumerated() { order[account.index] = rank }
        // Each account's lines in position order, into chunks laid end to end in `chunked`,
        // one partition at a time; `ofAccount` holds each account's range of `written`.
        var chunked: [UInt8] = []
        chunked.reserveCapacity(self.lines.reduce(0) { $0 + $1.count })
        var written: [(first: UInt64, order: Int, start: Int, end: Int)] = []
        var ofAccount = [Range<Int>](repeating: 0..<0, count: self.balances.count)
        var begin = [Int](repeating: 0, count: self.balances.count)
        var end = [Int](repeating: 0, count: self.balances.count)
        var byAccount: [Int32] = []
        for partition in 0..<Self.partitions where !self.refs[partition].isEmpty {
            // A counting sort of the partition's lines by account (stable: positions stay in order).
            let refs = self.refs[partition]
            for ref in refs { end[Int(ref.account)] += 1 }
            let members = stride(from: partition, to: self.balances.count, by: Self.partitions)
            var total = 0
            for account in members {
                begin[account] = total
                total += end[account]
                end[account] = begin[account]
            }
            byAccount.removeAll(keepingCapacity: true)
            byAccount.append(contentsOf: repeatElement(0, count: refs.count))
            for ref in refs {
                byAccount[end[Int(ref.account)]] = ref.offset
                end[Int(ref.account)] += 1
            }
            self.lines[partition].withUnsafeBytes { lines in
                for account in members {
                    let from = written.count
                    var chunkStart = -1
                    for offset in byAccount[begin[account]..<end[account]] {
                        let line = StatementChunk.line(in: lines, at: Int(offset))
                        if chunkStart < 0 || chunked.count - chunkStart + line.count > StatementChunk.bytesMax {
                            if chunkStart >= 0 { written[written.count - 1].end = chunked.count }
                            chunkStart = chunked.count
                            written.append((line.loadUnaligned(as: UInt64.self).littleEndian, order[account], chunkStart, chunkStart))
                        }
                        chunked.append(contentsOf: line)
                    }
                    if chunkStart >= 0 { written[written.count - 1].end = chunked.count }
                    ofAccount[account] = from..<written.count
                }
            }
        }
        for (account, index) in ordered {
            try self.store.put(self.accounts, key: account, value: self.balances[index].encoded)
            for chunk in written[ofAccount[index]] {
                try StatementChunk.indexKey(account: account, first: chunk.first).withUnsafeBytes { key in
                    try self.store.put(chunks, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0))
                }
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
