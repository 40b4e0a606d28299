/// Transfers by id: a compact index (``SlotIndex``, id hash → slot) over the transfers in
/// fixed-size chunks, in the order they were first stored.
///
/// The write model keeps every transfer ever made, so the table only grows, by a batch of
/// thousands at a time. Growth never moves a transfer: a full chunk stays where it is and a
/// new one is started, and the index re-places 8-byte buckets without reading an id. (As a
/// `[DomainID: Transfer]` each growth rehashed and moved every transfer; as an
/// `[DomainID: Int]` over one array it still wrote 2× the table into fresh memory.)
///
/// A batch being committed adds its new posted transfers here directly, as *uncommitted*
/// (past ``count``): every read but ``includingUncommitted(_:)`` skips them until
/// ``publishUncommitted()`` (the batch is durable) or ``discardUncommitted()`` (it failed).
/// Each new transfer is then stored once, where a layer of changes merged after the commit
/// stored it twice.
public struct TransferTable: Sendable, Equatable {
    private var index = SlotIndex()
    private var chunks: [[Transfer]] = []
    /// Transfers held, committed or not.
    private var stored = 0
    /// Items before this slot are committed.
    private var visible = 0

    /// Transfers a chunk holds (about half a megabyte of them).
    static let chunkSize = 4_096

    public init() {}

    /// How many committed transfers it holds.
    public var count: Int { self.visible }

    public var isEmpty: Bool { self.visible == 0 }

    /// Every committed transfer, in the order each was first stored.
    public var values: Values { Values(chunks: self.chunks, count: self.visible) }

    /// Whether a batch's uncommitted transfers are in the table.
    public var hasUncommitted: Bool { self.stored > self.visible }

    /// The committed transfer with this id. Setting stores it committed, which is only
    /// possible while no uncommitted transfer is held; `nil` removes it (the last stored
    /// takes its slot).
    public subscript(id: DomainID) -> Transfer? {
        get { self.slot(of: id).flatMap { $0 < self.visible ? self.item($0) : nil } }
        set {
            if let newValue {
                precondition(newValue.id == id, "a transfer is stored under its own id")
                if let slot = self.slot(of: id) {
                    precondition(slot < self.visible, "an uncommitted transfer is replaced only through its batch")
                    self.chunks[slot / Self.chunkSize][slot % Self.chunkSize] = newValue
                } else {
                    precondition(!self.hasUncommitted, "publish or discard the batch's transfers first")
                    self.append(newValue)
                    self.visible = self.stored
                }
            } else if let slot = self.slot(of: id) {
                precondition(!self.hasUncommitted, "publish or discard the batch's transfers first")
                self.index.remove(id, slot: slot)
                let last = self.removeLast()
                if slot < self.stored {
                    self.index.renumber(last.id, from: self.stored, to: slot)
                    self.chunks[slot / Self.chunkSize][slot % Self.chunkSize] = last
                }
                self.visible = self.stored
            }
        }
    }

    /// The transfer with this id, committed or added by the batch being committed.
    public func includingUncommitted(_ id: DomainID) -> Transfer? {
        self.slot(of: id).map { self.item($0) }
    }

    /// Reads the home buckets of the ids whose ``DomainID/hashWord``s `words` holds, in one
    /// short loop; returns a value made from what it read (``PaymentsState/warm(_:_:)``).
    func warm(_ words: UnsafeBufferPointer<UInt64>) -> UInt64 {
        var read: UInt64 = 0
        for word in words { read &+= UInt64(truncatingIfNeeded: self.index.candidate(word) ?? 0) }
        return read
    }

    /// Adds a new transfer of the batch being committed (its id must be new).
    public mutating func addUncommitted(_ transfer: Transfer) {
        self.append(transfer)
    }

    /// The batch is durable: its transfers become committed.
    public mutating func publishUncommitted() {
        self.visible = self.stored
    }

    /// The batch failed: its transfers are forgotten.
    public mutating func discardUncommitted() {
        while self.stored > self.visible {
            let transfer = self.removeLast()
            self.index.remove(transfer.id, slot: self.stored)
        }
    }

    /// Makes room for `capacity` transfers without growing the index.
    public mutating func reserveCapacity(_ capacity: Int) {
        self.index.reserveCapacity(capacity)
    }

    public mutating func removeAll(keepingCapacity: Bool = false) {
        self.index.removeAll(keepingCapacity: keepingCapacity)
        self.chunks.removeAll(keepingCapacity: keepingCapacity)
        self.stored = 0
        self.visible = 0
    }

    /// The same committed transfers under the same ids, whatever the order they were stored in.
    public static func == (lhs: TransferTable, rhs: TransferTable) -> Bool {
        lhs.count == rhs.count && lhs.values.allSatisfy { rhs[$0.id] == $0 }
    }

    /// The committed transfers in the order they were first stored.
    public struct Values: RandomAccessCollection, Sendable {
        fileprivate let chunks: [[Transfer]]
        public let count: Int

        public var startIndex: Int { 0 }
        public var endIndex: Int { self.count }

        public subscript(position: Int) -> Transfer {
            precondition(position >= 0 && position < self.count, "index \(position) out of 0..<\(self.count)")
            return self.chunks[position / TransferTable.chunkSize][position % TransferTable.chunkSize]
        }
    }

    // MARK: Storage

    @inline(__always)
    private func slot(of id: DomainID) -> Int? {
        self.index.slot(for: id) { self.chunks[$0 / Self.chunkSize][$0 % Self.chunkSize].id == id }
    }

    @inline(__always)
    private func item(_ slot: Int) -> Transfer {
        self.chunks[slot / Self.chunkSize][slot % Self.chunkSize]
    }

    /// Stores a transfer whose id must be new.
    private mutating func append(_ transfer: Transfer) {
        let slot = self.stored
        let added: Bool
        do {
            // A reference of its own, gone before the chunks are mutated below (alive then,
            // it would make them copy).
            let chunks = self.chunks
            added = self.index.insert(transfer.id, slot: slot) { chunks[$0 / Self.chunkSize][$0 % Self.chunkSize].id == transfer.id }
        }
        precondition(added, "transfer \(transfer.id) is already stored")
        if slot % Self.chunkSize == 0 && slot / Self.chunkSize == self.chunks.count {
            var chunk: [Transfer] = []
            chunk.reserveCapacity(Self.chunkSize)
            self.chunks.append(chunk)
        }
        self.chunks[slot / Self.chunkSize].append(transfer)
        self.stored += 1
    }

    /// Takes the last stored transfer out of the chunks (not out of the index).
    private mutating func removeLast() -> Transfer {
        self.stored -= 1
        let chunk = self.stored / Self.chunkSize
        let transfer = self.chunks[chunk].removeLast()
        if self.chunks[chunk].isEmpty { self.chunks.removeLast() }
        return transfer
    }
}
