import TallyLMDB

/// One balances batch's view of `balances.accounts`, and the statement lines it adds: each
/// touched account is read once, changed in memory, and written once at the end with its
/// new lines in chunks (``StatementChunk``).
struct BalancesCache {
    struct Entry {
        var balance: AccountBalance
        /// The batch's statement lines of the account, encoded back to back.
        var lines: [UInt8] = []
        /// Where each chunk starts in `lines`.
        var chunkStarts: [Int] = []
    }

    let store: ProjectionStore
    let accounts: Database
    /// Account id → index in `entries`.
    private var indexes: [String: Int] = [:]
    private var entries: [Entry] = []
    private var ids: [String] = []

    init(store: ProjectionStore, accounts: Database) {
        self.store = store
        self.accounts = accounts
    }

    /// An account opened: its balances start at zero (a reopened id starts over).
    mutating func open(_ id: String, currency: String) {
        if let index = self.indexes[id] {
            self.entries[index].balance = AccountBalance(currency: currency)
        } else {
            self.append(id, Entry(balance: AccountBalance(currency: currency)))
        }
    }

    /// Changes the balances of `id`.
    mutating func change(_ id: String, _ posting: BalancesProjection.Posting, _ body: (inout AccountBalance) -> Void) throws {
        let index = try self.index(id, posting)
        body(&self.entries[index].balance)
    }

    /// Posts `amount` from `debit` to `credit`, with a statement line on each.
    mutating func post(_ transfer: String, debit: String, credit: String, amount: UInt64, _ posting: BalancesProjection.Posting) throws {
        try self.line(debit, transfer: transfer, isDebit: true, amount: amount, posting)
        try self.line(credit, transfer: transfer, isDebit: false, amount: amount, posting)
    }

    private mutating func line(_ account: String, transfer: String, isDebit: Bool, amount: UInt64, _ posting: BalancesProjection.Posting) throws {
        let index = try self.index(account, posting)
        var balance = self.entries[index].balance
        if isDebit { balance.debitsPosted &+= amount } else { balance.creditsPosted &+= amount }
        self.entries[index].balance = balance
        let line = StatementLine(
            position: posting.position, transfer: transfer, isDebit: isDebit, amount: amount, debitsPosted: balance.debitsPosted,
            creditsPosted: balance.creditsPosted, recordedAt: posting.recordedAtNanoseconds)
        StatementChunk.append(line, to: &self.entries[index])
    }

    /// The entry of `id` in `entries`, read from the view on first use.
    private mutating func index(_ id: String, _ posting: BalancesProjection.Posting) throws -> Int {
        if let index = self.indexes[id] { return index }
        guard let bytes = try self.store.get(self.accounts, key: Array(id.utf8)), let stored = AccountBalance(bytes) else {
            throw ProjectionError(position: posting.position, message: "account \(id) is unknown to the balances projection")
        }
        return self.append(id, Entry(balance: stored))
    }

    @discardableResult
    private mutating func append(_ id: String, _ entry: Entry) -> Int {
        self.indexes[id] = self.entries.count
        self.entries.append(entry)
        self.ids.append(id)
        return self.entries.count - 1
    }

    /// Writes each touched account in key order (every page of the tree visited once per
    /// batch), then the new statement chunks: appended at the end of `statements` in
    /// position order, with their entries in the `chunks` index.
    func flush(statements: Database, chunks: Database) throws {
        let ordered = self.ids.indices.map { (key: Array(self.ids[$0].utf8), index: $0) }.sorted { $0.key.lexicographicallyPrecedes($1.key) }
        var appended: [(first: UInt64, order: Int, start: Int, end: Int)] = []
        for (order, (account, index)) in ordered.enumerated() {
            let entry = self.entries[index]
            try self.store.put(self.accounts, key: account, value: entry.balance.encoded)
            for (number, start) in entry.chunkStarts.enumerated() {
                let end = number + 1 < entry.chunkStarts.count ? entry.chunkStarts[number + 1] : entry.lines.count
                let first = entry.lines.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(fromByteOffset: start, as: UInt64.self)) }
                try StatementChunk.indexKey(account: account, first: first).withUnsafeBytes { key in
                    try self.store.put(chunks, key: key, value: UnsafeRawBufferPointer(start: nil, count: 0))
                }
                appended.append((first, order, start, end))
            }
        }
        // Position, then account: every key sorts after the last batch's (their positions are
        // higher) and after the one before it in this batch.
        appended.sort { ($0.first, $0.order) < ($1.first, $1.order) }
        for chunk in appended {
            let (account, index) = ordered[chunk.order]
            let key = StatementChunk.dataKey(account: account, first: chunk.first)
            try self.entries[index].lines.withUnsafeBytes { lines in
                try key.withUnsafeBytes { key in
                    try self.store.put(statements, key: key, value: UnsafeRawBufferPointer(rebasing: lines[chunk.start..<chunk.end]), appending: true)
                }
            }
        }
    }
}
