/// Accounts by id, numbered in the order they were opened: a compact index (``SlotIndex``)
/// over one array, with the batch being committed written straight into it.
///
/// Readers see only the *committed* accounts: ``subscript(_:)``, ``values`` and ``count``.
/// The writer works on the *current* ones (``current(_:)``): a batch's balance changes go
/// into the array as they are decided (``update(_:)``), the first change to an account in a
/// batch keeping its committed value aside, where readers find it. When the batch is durable
/// ``publish()`` forgets those values; if it fails ``rollback()`` puts them back. An account
/// opened by the batch is stored past ``count``, hidden until published.
///
/// Where a batch's changes were a dictionary layered over the state, deciding a transfer
/// looked each account up in both, folding it stored both accounts in the layer and
/// committing stored them again in the state: six hashed lookups of an ~8,000-entry table
/// per transfer, now two probes of a small index.
public struct AccountTable: Sendable, Equatable {
    private struct Entry: Sendable {
        var account: Account
        /// Where the committed value waits in `undo` while the batch changes it; -1: not changed.
        var undoSlot: Int32 = -1
    }

    private struct Undo: Sendable {
        let number: Int
        let committed: Account
    }

    private var index = SlotIndex()
    private var entries: [Entry] = []
    private var undo: [Undo] = []
    /// Accounts numbered below this are committed.
    private var visible = 0

    public init() {}

    // MARK: Committed (readers)

    /// How many committed accounts it holds.
    public var count: Int { self.visible }

    public var isEmpty: Bool { self.visible == 0 }

    /// The committed account with this id.
    public subscript(id: DomainID) -> Account? {
        guard let number = self.number(of: id), number < self.visible else { return nil }
        return self.committed(number)
    }

    /// Every committed account, in the order they were opened.
    public var values: Values { Values(table: self) }

    /// The committed accounts in the order they were opened.
    public struct Values: RandomAccessCollection, Sendable {
        fileprivate let table: AccountTable

        public var startIndex: Int { 0 }
        public var endIndex: Int { self.table.visible }

        public subscript(position: Int) -> Account {
            precondition(position >= 0 && position < self.table.visible, "index \(position) out of 0..<\(self.table.visible)")
            return self.table.committed(position)
        }
    }

    /// The same committed accounts under the same ids, whatever the order they were opened in.
    public static func == (lhs: AccountTable, rhs: AccountTable) -> Bool {
        lhs.count == rhs.count && lhs.values.allSatisfy { rhs[$0.id] == $0 }
    }

    // MARK: Current (the writer)

    /// The account with this id as the batch being committed left it (or as committed).
    func current(_ id: DomainID) -> Account? {
        self.number(of: id).map { self.entries[$0].account }
    }

    /// Writes `account` (found by its id) as the batch being committed changed it, keeping
    /// the committed value for readers the first time; a new id is opened, uncommitted.
    mutating func update(_ account: Account) {
        guard let number = self.number(of: account.id) else {
            self.append(account)
            return
        }
        if number < self.visible && self.entries[number].undoSlot < 0 {
            self.entries[number].undoSlot = Int32(truncatingIfNeeded: self.undo.count)
            self.undo.append(Undo(number: number, committed: self.entries[number].account))
        }
        self.entries[number].account = account
    }

    /// Reads the accounts whose ``DomainID/hashWord``s `words` holds: first every home
    /// bucket, then every entry they name (balances included), each pass a short loop of
    /// independent reads. Overwrites `words`; returns a value made from what it read
    /// (``PaymentsState/warm(_:_:)``).
    func warm(_ words: UnsafeMutableBufferPointer<UInt64>) -> UInt64 {
        for index in words.indices {
            words[index] = self.index.candidate(words[index]).map { UInt64(truncatingIfNeeded: $0) &+ 1 } ?? 0
        }
        var read: UInt64 = 0
        self.entries.withUnsafeBufferPointer { entries in
            for word in words where word > 0 && word <= UInt64(entries.count) {
                let account = entries[Int(word) - 1].account
                read &+= account.id.hashWord &+ account.debitsPosted &+ account.creditsPending
            }
        }
        return read
    }

    /// Whether a batch's changes are in the table.
    public var hasUncommitted: Bool { !self.undo.isEmpty || self.entries.count > self.visible }

    /// The batch is durable: its changes become committed.
    public mutating func publish() {
        for saved in self.undo { self.entries[saved.number].undoSlot = -1 }
        self.undo.removeAll(keepingCapacity: true)
        self.visible = self.entries.count
    }

    /// The batch failed: its changes are undone and the accounts it opened forgotten.
    public mutating func rollback() {
        for saved in self.undo {
            self.entries[saved.number].account = saved.committed
            self.entries[saved.number].undoSlot = -1
        }
        self.undo.removeAll(keepingCapacity: true)
        while self.entries.count > self.visible {
            let last = self.entries.removeLast()
            self.index.remove(last.account.id, slot: self.entries.count)
        }
    }

    // MARK: Storing committed accounts (restore, replay)

    /// Stores `account` as committed, replacing one with its id; only while no batch's
    /// changes are held.
    public mutating func store(_ account: Account) {
        precondition(!self.hasUncommitted, "publish or roll back the batch's changes first")
        if let number = self.number(of: account.id) {
            self.entries[number].account = account
        } else {
            self.append(account)
            self.visible = self.entries.count
        }
    }

    /// Makes room for `capacity` accounts without growing.
    public mutating func reserveCapacity(_ capacity: Int) {
        self.index.reserveCapacity(capacity)
        self.entries.reserveCapacity(capacity)
    }

    // MARK: Storage

    @inline(__always)
    private func number(of id: DomainID) -> Int? {
        self.index.slot(for: id) { self.entries[$0].account.id == id }
    }

    private func committed(_ number: Int) -> Account {
        let entry = self.entries[number]
        return entry.undoSlot < 0 ? entry.account : self.undo[Int(entry.undoSlot)].committed
    }

    private mutating func append(_ account: Account) {
        let number = self.entries.count
        let added: Bool
        do {
            // A reference of its own, gone before the entries are mutated below.
            let entries = self.entries
            added = self.index.insert(account.id, slot: number) { entries[$0].account.id == account.id }
        }
        precondition(added, "account \(account.id) is already stored")
        self.entries.append(Entry(account: account))
    }
}
