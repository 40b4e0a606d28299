/// Transfers by id: a dictionary of small entries (id → slot) over a dense array of the
/// transfers, in the order they were first stored.
///
/// The write model keeps every transfer ever made. As `[DomainID: Transfer]` each growth of
/// the table rehashed and moved every ~190-byte transfer to random places in a table twice
/// the size; here growth rehashes 24-byte entries and the transfers move in one sequential
/// copy. Lookups cost one hash, as before.
public struct TransferTable: Sendable, Equatable {
    private var slots: [DomainID: Int] = [:]
    private var items: [Transfer] = []

    public init() {}

    /// How many transfers it holds.
    public var count: Int { self.items.count }

    public var isEmpty: Bool { self.items.isEmpty }

    /// Every transfer, in the order each was first stored.
    public var values: [Transfer] { self.items }

    /// The transfer with this id; setting `nil` removes it (the last stored takes its slot).
    public subscript(id: DomainID) -> Transfer? {
        get { self.slots[id].map { self.items[$0] } }
        set {
            if let newValue {
                precondition(newValue.id == id, "a transfer is stored under its own id")
                if let slot = self.slots[id] {
                    self.items[slot] = newValue
                } else {
                    self.slots[id] = self.items.count
                    self.items.append(newValue)
                }
            } else if let slot = self.slots.removeValue(forKey: id) {
                let last = self.items.removeLast()
                if slot < self.items.count {
                    self.items[slot] = last
                    self.slots[last.id] = slot
                }
            }
        }
    }

    /// Makes room for `capacity` transfers without growing.
    public mutating func reserveCapacity(_ capacity: Int) {
        self.slots.reserveCapacity(capacity)
        self.items.reserveCapacity(capacity)
    }

    public mutating func removeAll(keepingCapacity: Bool = false) {
        self.slots.removeAll(keepingCapacity: keepingCapacity)
        self.items.removeAll(keepingCapacity: keepingCapacity)
    }

    /// The same transfers under the same ids, whatever the order they were stored in.
    public static func == (lhs: TransferTable, rhs: TransferTable) -> Bool {
        lhs.count == rhs.count && lhs.items.allSatisfy { rhs[$0.id] == $0 }
    }
}
