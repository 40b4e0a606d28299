/// Transfers by id: a dictionary of small entries (id → slot) over a dense array of the
/// transfers, in the order they were first stored.
///
/// The write model keeps every transfer ever made. As `[DomainID: Transfer]` each growth of
/// the table rehashed and moved every transfer to random places in a table twice the size;
/// here growth rehashes 24-byte entries and the transfers move in one sequential copy.
/// Lookups cost one hash, as before.
///
/// A batch being committed adds its new posted transfers here directly, as *uncommitted*
/// (past ``count``): every read but ``includingUncommitted(_:)`` skips them until
/// ``publishUncommitted()`` (the batch is durable) or ``discardUncommitted()`` (it failed).
/// Each new transfer is then stored once, where a layer of changes merged after the commit
/// stored it twice.
public struct TransferTable: Sendable, Equatable {
    private var slots: [DomainID: Int] = [:]
    private var items: [Transfer] = []
    /// Items before this index are committed.
    private var visible = 0

    public init() {}

    /// How many committed transfers it holds.
    public var count: Int { self.visible }

    public var isEmpty: Bool { self.visible == 0 }

    /// Every committed transfer, in the order each was first stored.
    public var values: ArraySlice<Transfer> { self.items[..<self.visible] }

    /// Whether a batch's uncommitted transfers are in the table.
    public var hasUncommitted: Bool { self.items.count > self.visible }

    /// The committed transfer with this id. Setting stores it committed, which is only
    /// possible while no uncommitted transfer is held; `nil` removes it (the last stored
    /// takes its slot).
    public subscript(id: DomainID) -> Transfer? {
        get { self.slots[id].flatMap { $0 < self.visible ? self.items[$0] : nil } }
        set {
            if let newValue {
                precondition(newValue.id == id, "a transfer is stored under its own id")
                if let slot = self.slots[id] {
                    precondition(slot < self.visible, "an uncommitted transfer is replaced only through its batch")
                    self.items[slot] = newValue
                } else {
                    precondition(!self.hasUncommitted, "publish or discard the batch's transfers first")
                    self.slots[id] = self.items.count
                    self.items.append(newValue)
                    self.visible = self.items.count
                }
            } else if let slot = self.slots[id] {
                precondition(!self.hasUncommitted, "publish or discard the batch's transfers first")
                self.slots[id] = nil
                let last = self.items.removeLast()
                if slot < self.items.count {
                    self.items[slot] = last
                    self.slots[last.id] = slot
                }
                self.visible = self.items.count
            }
        }
    }

    /// The transfer with this id, committed or added by the batch being committed.
    public func includingUncommitted(_ id: DomainID) -> Transfer? {
        self.slots[id].map { self.items[$0] }
    }

    /// Adds a new transfer of the batch being committed (its id must be new).
    public mutating func addUncommitted(_ transfer: Transfer) {
        let slot = self.items.count
        precondition(self.slots.updateValue(slot, forKey: transfer.id) == nil, "transfer \(transfer.id) is already stored")
        self.items.append(transfer)
    }

    /// The batch is durable: its transfers become committed.
    public mutating func publishUncommitted() {
        self.visible = self.items.count
    }

    /// The batch failed: its transfers are forgotten.
    public mutating func discardUncommitted() {
        for transfer in self.items[self.visible...] { self.slots[transfer.id] = nil }
        self.items.removeSubrange(self.visible...)
    }

    /// Makes room for `capacity` transfers without growing.
    public mutating func reserveCapacity(_ capacity: Int) {
        self.slots.reserveCapacity(capacity)
        self.items.reserveCapacity(capacity)
    }

    public mutating func removeAll(keepingCapacity: Bool = false) {
        self.slots.removeAll(keepingCapacity: keepingCapacity)
        self.items.removeAll(keepingCapacity: keepingCapacity)
        self.visible = 0
    }

    /// The same committed transfers under the same ids, whatever the order they were stored in.
    public static func == (lhs: TransferTable, rhs: TransferTable) -> Bool {
        lhs.count == rhs.count && lhs.values.allSatisfy { rhs[$0.id] == $0 }
    }
}
