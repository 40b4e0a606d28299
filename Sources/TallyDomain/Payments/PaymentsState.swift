/// The payments write model: every account and transfer, folded from the log.
///
/// `PaymentsState` is what is committed; ``PaymentChanges`` is a layer of uncommitted
/// changes over it (a batch being decided). The write model is exactly the fold of the
/// log: ``Payments/evolve(_:state:changes:)`` over every payment event, in order.
public struct PaymentsState: Sendable, Equatable {
    public internal(set) var accounts: [DomainID: Account] = [:]
    public internal(set) var transfers = TransferTable()
    /// Open pending transfers → when they expire (nanoseconds since 1970, UTC).
    public internal(set) var openPending: [DomainID: UInt64] = [:]

    /// An empty ledger.
    public init() {}

    /// Makes `changes` part of the state, with the batch's transfers added to
    /// ``transfers`` as uncommitted (``Payments/fold(_:into:state:)``).
    public mutating func apply(_ changes: consuming PaymentChanges) {
        self.transfers.publishUncommitted()
        for (id, account) in changes.accounts { self.accounts[id] = account }
        for transfer in changes.transfers.values { self.transfers[transfer.id] = transfer }
        for (id, expiry) in changes.openPending { self.openPending[id] = expiry }
    }

    /// Forgets the transfers a failed batch folded in (``Payments/fold(_:into:state:)``).
    public mutating func discardUncommitted() {
        self.transfers.discardUncommitted()
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

    /// Makes room for what about `commands` more commands change, so a large batch does not
    /// grow its tables step by step.
    public mutating func reserve(commands: Int) {
        self.accounts.reserveCapacity(self.accounts.count + 2 * commands)
    }

    /// Forgets every change and keeps the tables' room for the next batch.
    public mutating func removeAll() {
        self.accounts.removeAll(keepingCapacity: true)
        self.transfers.removeAll(keepingCapacity: true)
        self.openPending.removeAll(keepingCapacity: true)
    }

    func account(_ id: DomainID, _ state: borrowing PaymentsState) -> Account? {
        self.accounts[id] ?? state.accounts[id]
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
