import TallyDomain

extension BalancesProjection {
    /// A batch prepared for ``BalancesProjection/apply(_:in:)``: its postings, and the bytes
    /// of the ids they name, with the accounts numbered in the order of first use. Made on
    /// the thread that prepares (the reader's core during a catch-up), so that the views
    /// writer neither builds strings nor hashes ids.
    public struct Batch: Sendable {
        /// The postings, in log order.
        public private(set) var postings: [Posting] = []
        /// Every transfer and account id the postings name, back to back.
        private(set) var bytes: [UInt8] = []
        /// Account number → where its id lies in `bytes`.
        private(set) var accounts: [IDRange] = []
        /// Currencies of opened accounts (`.opened` postings point here).
        private(set) var currencies: [String] = []
        /// Open addressing: a slot holds an account number + 1, 0 when empty.
        private var table: [Int32]
        private static let seed = UInt64.random(in: 1 ... .max)

        init(capacity: Int) {
            self.postings.reserveCapacity(capacity)
            self.bytes.reserveCapacity(capacity * 24)
            self.table = Array(repeating: 0, count: 1 << 12)
        }

        /// Adds the effect of the event at `position`.
        mutating func append(position: UInt64, recordedAt: UInt64, _ effect: PaymentEffect) {
            var posting = Posting(position: position, recordedAt: recordedAt)
            switch effect {
            case .opened(let account, let currency):
                posting.kind = .opened
                posting.debit = self.number(account)
                posting.credit = Int32(truncatingIfNeeded: self.currencies.count)
                self.currencies.append(currency)
            case .held(let transfer, let debit, let credit, let amount), .posted(let transfer, let debit, let credit, let amount):
                if case .held = effect { posting.kind = .held } else { posting.kind = .posted }
                posting.transfer = self.store(transfer)
                posting.debit = self.number(debit)
                posting.credit = self.number(credit)
                posting.amount = amount
            case .committed(let transfer, let amount):
                posting.kind = .committed
                posting.transfer = self.store(transfer)
                posting.amount = amount
            case .released(let transfer):
                posting.kind = .released
                posting.transfer = self.store(transfer)
            case .none:
                return
            }
            self.postings.append(posting)
        }

        /// Adds a transfer event read in place (the fast path: no strings).
        mutating func append(position: UInt64, recordedAt: UInt64, _ fields: PaymentEffect.TransferFields) {
            var posting = Posting(position: position, recordedAt: recordedAt)
            posting.transfer = self.store(fields.transfer)
            posting.amount = fields.amount
            switch fields.kind {
            case .held, .posted:
                posting.kind = fields.kind == .held ? .held : .posted
                posting.debit = self.number(fields.debit)
                posting.credit = self.number(fields.credit)
            case .committed: posting.kind = .committed
            case .released: posting.kind = .released
            }
            self.postings.append(posting)
        }

        /// The bytes of `range` (valid during the call).
        func withBytes<T>(_ range: IDRange, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
            try self.bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[Int(range.offset)..<(Int(range.offset) + Int(range.count))])) }
        }

        /// The id of account `number`.
        func account(_ number: Int32) -> String { self.withBytes(self.accounts[Int(number)]) { String(decoding: $0, as: UTF8.self) } }

        private mutating func store(_ id: String) -> IDRange {
            var id = id
            return id.withUTF8 { self.store(UnsafeRawBufferPointer($0)) }
        }

        private mutating func store(_ id: UnsafeRawBufferPointer) -> IDRange {
            let range = IDRange(offset: Int32(truncatingIfNeeded: self.bytes.count), count: UInt8(clamping: id.count))
            self.bytes.append(contentsOf: id)
            return range
        }

        private mutating func number(_ id: String) -> Int32 {
            var id = id
            return id.withUTF8 { self.number(UnsafeRawBufferPointer($0)) }
        }

        /// The number of the account `id`, given on first use.
        private mutating func number(_ id: UnsafeRawBufferPointer) -> Int32 {
            var mask = self.table.count - 1
            var slot = Int(truncatingIfNeeded: Self.hash(id)) & mask
            while true {
                let entry = self.table[slot]
                if entry == 0 { break }
                let known = self.accounts[Int(entry - 1)]
                if self.withBytes(known, { Self.same($0, id) }) { return entry - 1 }
                slot = (slot + 1) & mask
            }
            let number = Int32(truncatingIfNeeded: self.accounts.count)
            self.accounts.append(self.store(id))
            self.table[slot] = number + 1
            if self.accounts.count * 2 > self.table.count {
                // Grow at half full: rehash every number into a table twice the size.
                self.table = Array(repeating: 0, count: self.table.count * 2)
                mask = self.table.count - 1
                for (index, range) in self.accounts.enumerated() {
                    var slot = self.withBytes(range) { Int(truncatingIfNeeded: Self.hash($0)) } & mask
                    while self.table[slot] != 0 { slot = (slot + 1) & mask }
                    self.table[slot] = Int32(index + 1)
                }
            }
            return number
        }

        /// Whether two ids have the same bytes.
        private static func same(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Bool {
            guard left.count == right.count else { return false }
            var offset = 0
            while offset + 8 <= left.count {
                if left.loadUnaligned(fromByteOffset: offset, as: UInt64.self) != right.loadUnaligned(fromByteOffset: offset, as: UInt64.self) { return false }
                offset += 8
            }
            while offset < left.count {
                if left[offset] != right[offset] { return false }
                offset += 1
            }
            return true
        }

        /// A hash of an id's bytes, eight at a time (ids are short), seeded per process.
        private static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
            var hash = Self.seed ^ (UInt64(bytes.count) &* 0x9E37_79B9_7F4A_7C15)
            var offset = 0
            while offset + 8 <= bytes.count {
                hash = (hash ^ bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
                hash ^= hash >> 31
                offset += 8
            }
            var tail: UInt64 = 0
            while offset < bytes.count {
                tail = tail << 8 | UInt64(bytes[offset])
                offset += 1
            }
            hash = (hash ^ tail) &* 0x94D0_49BB_1331_11EB
            return hash ^ (hash >> 29)
        }
    }

    /// Where an id lies in a ``Batch``'s bytes.
    struct IDRange: Sendable {
        var offset: Int32 = 0
        var count: UInt8 = 0
    }

    /// One payment event's effect on balances, as ``Batch`` keeps it: numbers and ranges, no
    /// strings.
    public struct Posting: Sendable {
        enum Kind: UInt8, Sendable { case opened, held, posted, committed, released }
        var kind: Kind = .posted
        /// The event's position in the log.
        public let position: UInt64
        /// The event's recorded-at, nanoseconds since 1970 (the statement line's time).
        public let recordedAt: UInt64
        var amount: UInt64 = 0
        /// The transfer's id (not for `.opened`).
        var transfer = IDRange()
        /// The debit account's number (`.opened`: the account's).
        var debit: Int32 = -1
        /// The credit account's number (`.opened`: its currency's index).
        var credit: Int32 = -1

        init(position: UInt64, recordedAt: UInt64) {
            self.position = position
            self.recordedAt = recordedAt
        }
    }
}
