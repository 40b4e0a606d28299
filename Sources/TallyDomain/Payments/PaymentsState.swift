/// The payments write model: every account and transfer, folded from the log.
///
/// `PaymentsState` is what is committed, and what readers see. ``PaymentChanges`` is a layer
/// of uncommitted changes over it (a batch being decided); the batch's balance changes and
/// new posted transfers are written into ``accounts`` and ``transfers`` directly, as
/// uncommitted (``Payments/fold(_:into:state:)``, ``writeThrough(_:)``), and the tables
/// hide them from readers until ``apply(_:)``. The write model is exactly the fold of the
/// log: ``Payments/evolve(_:state:changes:)`` over every payment event, in order.
public struct PaymentsState: Sendable, Equatable {
    public internal(set) var accounts = AccountTable()
    public internal(set) var transfers = TransferTable()
    /// Open pending transfers → when they expire (nanoseconds since 1970, UTC).
    public internal(set) var openPending: [DomainID: UInt64] = [:]

    /// An empty ledger.
    public init() {}

    /// Makes `changes` part of the state, with the batch's transfers added to
    /// ``transfers`` as uncommitted (``Payments/fold(_:into:state:)``).
    public mutating func apply(_ changes: consuming PaymentChanges) {
        self.transfers.publishUncommitted()
        self.accounts.publish()
        for account in changes.accounts.values { self.accounts.store(account) }
        for transfer in changes.transfers.values { self.transfers[transfer.id] = transfer }
        for (id, expiry) in changes.openPending { self.openPending[id] = expiry }
    }

    /// Forgets what a failed batch wrote in: its transfers and balance changes
    /// (``Payments/fold(_:into:state:)``, ``writeThrough(_:)``).
    public mutating func discardUncommitted() {
        self.transfers.discardUncommitted()
        self.accounts.rollback()
    }

    /// Moves the accounts `changes` holds into ``accounts`` as uncommitted changes of the
    /// batch being committed, so that the layer holds none between two commands.
    public mutating func writeThrough(_ changes: inout PaymentChanges) {
        guard !changes.accounts.isEmpty else { return }
        for account in changes.accounts.values { self.accounts.update(account) }
        changes.accounts.removeAll(keepingCapacity: true)
    }

    /// Reads what deciding the transfers `transfer(0) ..< transfer(count)` will read (their
    /// accounts and their ids' places in the transfer index) and returns a value made from
    /// it, which the caller keeps so that the reads stay. `nil` transfers are skipped. A hint
    /// for speed only: it changes nothing.
    ///
    /// Deciding transfers one at a time waits for each table's cache miss in turn. Here each
    /// kind of read is a short loop over all of them with nothing else to do, so the
    /// processor overlaps the misses, and the decisions after it find the lines in cache.
    public func warm(_ count: Int, _ transfer: (Int) -> Transfer?) -> UInt64 {
        withUnsafeTemporaryAllocation(of: UInt64.self, capacity: 3 * max(1, count)) { words in
            var accounts = 0
            var ids = 2 * count
            for index in 0..<count {
                guard let transfer = transfer(index) else { continue }
                words[accounts] = transfer.debitAccount.hashWord
                words[accounts + 1] = transfer.creditAccount.hashWord
                words[ids] = transfer.id.hashWord
                accounts += 2
                ids += 1
            }
            let read = self.transfers.warm(UnsafeBufferPointer(rebasing: words[(2 * count)..<ids]))
            return read &+ self.accounts.warm(UnsafeMutableBufferPointer(rebasing: words[..<accounts]))
        }
    }

    /// Accounts owned by `agent`, by id.
    public func accounts(ofAgent agent: DomainID) -> [Account] {
        self.accounts.values.filter { $0.agent == agent }.sorted { $0.id < $1.id }
    }
}

/// Uncommitted changes layered over a ``PaymentsState``.
public struct PaymentChanges: Sendable {
    var accounts: [DomainID: Account] = [:]
    var transfers = TransferTable()
    /// `nil` value: the pending transfer closed.
    var openPending: [DomainID: UInt64?] = [:]

    /// No changes.
    public init() {}

    public var isEmpty: Bool { self.accounts.isEmpty && self.transfers.isEmpty && self.openPending.isEmpty }

    /// Forgets every change and keeps the tables' room for the next batch.
    public mutating func removeAll() {
        self.accounts.removeAll(keepingCapacity: true)
        self.transfers.removeAll(keepingCapacity: true)
        self.openPending.removeAll(keepingCapacity: true)
    }

    /// The account as the batch left it: in this layer, else as written into `state`.
    func account(_ id: DomainID, _ state: borrowing PaymentsState) -> Account? {
        if !self.accounts.isEmpty, let account = self.accounts[id] { return account }
        return state.accounts.current(id)
    }

    func transfer(_ id: DomainID, _ state: borrowing PaymentsState) -> Transfer? {
        self.transfers[id] ?? state.transfers.includingUncommitted(id)
    }

    /// Pending transfers open in `state` plus these changes that expire at or before `now`, by id.
    func duePending(_ state: borrowing PaymentsState, now: UInt64) -> [DomainID] {
        var due = Set(state.openPending.filter { $0.value <= now }.keys)
        for (id, expiry) in self.openPending {
            if let expiry, expiry <= now { due.insert(id) } else { due.remove(id) }
        }
        return due.sorted()
    }
}
