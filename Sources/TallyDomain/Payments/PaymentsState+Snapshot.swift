extension PaymentsState {
    private static let snapshotVersion: UInt8 = 2

    /// The whole write model as bytes (a checkpoint kept behind the log; the log stays the truth).
    ///
    /// Version 2, compact because the checkpoint is rewritten as the state grows (each
    /// transfer is in about two of them): integers as LEB128 varints, strings with a varint
    /// length, a transfer's accounts as their numbers in the snapshot's account list, its kind,
    /// state and which optional fields follow in one byte. A posted transfer between two
    /// short ids takes ~25 bytes (version 1: ~110).
    public func snapshot() -> [UInt8] {
        var writer = BinaryWriter()
        writer.u8(Self.snapshotVersion)
        writer.varint(UInt64(self.accounts.count))
        // Dictionary order for accounts, first-stored order for transfers: a snapshot is
        // restored, never compared byte for byte.
        var numbers: [DomainID: Int] = [:]
        numbers.reserveCapacity(self.accounts.count)
        for account in self.accounts.values {
            numbers[account.id] = numbers.count
            writer.shortString(account.id.rawValue)
            writer.shortString(account.agent.rawValue)
            writer.shortString(account.currency.rawValue)
            let bits =
                UInt8(truncatingIfNeeded: account.flags.rawValue & 0x3) | (account.isClosed ? 0x4 : 0)
                | (account.externalReference == nil ? 0 : 0x8)
            writer.u8(bits)
            if let reference = account.externalReference { writer.shortString(reference) }
            for value in [account.debitsPosted, account.creditsPosted, account.debitsPending, account.creditsPending] {
                writer.varint(value)
            }
        }
        writer.varint(UInt64(self.transfers.count))
        for transfer in self.transfers.values {
            Self.write(transfer, numbers: numbers, into: &writer)
        }
        return writer.bytes
    }

    private static func write(_ transfer: Transfer, numbers: [DomainID: Int], into writer: inout BinaryWriter) {
        guard let debit = numbers[transfer.debitAccount], let credit = numbers[transfer.creditAccount] else {
            preconditionFailure("transfer \(transfer.id) names an account the state does not hold")
        }
        var extras: UInt8 = 0
        if transfer.expiresAt != nil { extras |= 0x1 }
        if transfer.timeoutNanoseconds != nil { extras |= 0x2 }
        if transfer.reversalOf != nil { extras |= 0x4 }
        if transfer.committedAmount != nil { extras |= 0x8 }
        writer.shortString(transfer.id.rawValue)
        let header =
            Self.kindCode(transfer.kind) | Self.stateCode(transfer.state) << 2 | (transfer.memo == nil ? 0 : 0x20)
            | (transfer.externalReference == nil ? 0 : 0x40) | (extras == 0 ? 0 : 0x80)
        writer.u8(header)
        writer.varint(UInt64(debit))
        writer.varint(UInt64(credit))
        writer.varint(transfer.amount)
        writer.varint(transfer.reversedAmount)
        writer.shortString(transfer.currency.rawValue)
        if let memo = transfer.memo { writer.shortString(memo) }
        if let reference = transfer.externalReference { writer.shortString(reference) }
        guard extras != 0 else { return }
        writer.u8(extras)
        if let expiresAt = transfer.expiresAt { writer.varint(expiresAt) }
        if let timeout = transfer.timeoutNanoseconds { writer.varint(timeout) }
        if let original = transfer.reversalOf { writer.shortString(original.rawValue) }
        if let committed = transfer.committedAmount { writer.varint(committed) }
    }

    /// Restores a state from ``snapshot()`` (or a version 1 snapshot); throws on any
    /// malformed or invalid byte.
    public init(snapshot bytes: [UInt8]) throws(Rejection) {
        self.init()
        var reader = BinaryReader(bytes)
        do {
            switch try reader.u8() {
            case 1: try self.restoreVersion1(&reader, byteCount: bytes.count)
            case Self.snapshotVersion: try self.restoreVersion2(&reader, byteCount: bytes.count)
            default: throw Rejection(.invalidField, "unknown payments snapshot version")
            }
            guard reader.isAtEnd else { throw Rejection(.invalidField, "payments snapshot has trailing bytes") }
        } catch let error as BinaryReader.Malformed {
            throw Rejection(.invalidField, "\(error)")
        } catch let error as Rejection {
            throw error
        } catch {
            throw Rejection(.invalidField, "payments snapshot: \(error)")
        }
    }

    private static func kindCode(_ kind: Transfer.Kind) -> UInt8 {
        switch kind {
        case .posted: 0
        case .pending: 1
        case .reversal: 2
        }
    }

    private static func stateCode(_ state: Transfer.State) -> UInt8 {
        switch state {
        case .posted: 0
        case .pending: 1
        case .committed: 2
        case .voided: 3
        case .expired: 4
        }
    }

    private static let kinds: [Transfer.Kind] = [.posted, .pending, .reversal]
    private static let states: [Transfer.State] = [.posted, .pending, .committed, .voided, .expired]

    /// Reads the rest of a version 2 snapshot (``snapshot()``) into this empty state.
    private mutating func restoreVersion2(_ reader: inout BinaryReader, byteCount: Int) throws {
        // Straight into the state's tables, sized up front: restoring 1 M transfers spent
        // most of its time growing and copying tables.
        let accountCount = try reader.varint()
        guard accountCount <= UInt64(byteCount) else { throw Rejection(.invalidField, "payments snapshot: account count") }
        self.accounts.reserveCapacity(Int(accountCount))
        var ids: [DomainID] = []
        ids.reserveCapacity(Int(accountCount))
        for _ in 0..<accountCount {
            var account = Account(
                id: try DomainID(try reader.shortString(), field: "account"),
                agent: try DomainID(try reader.shortString(), field: "agent"), currency: try Currency(try reader.shortString()))
            let bits = try reader.u8()
            guard bits & 0xF0 == 0 else { throw Rejection(.invalidField, "payments snapshot: account bits") }
            account.flags = AccountFlags(rawValue: UInt32(bits & 0x3))
            account.isClosed = bits & 0x4 != 0
            if bits & 0x8 != 0 { account.externalReference = try reader.shortString() }
            account.debitsPosted = try reader.varint()
            account.creditsPosted = try reader.varint()
            account.debitsPending = try reader.varint()
            account.creditsPending = try reader.varint()
            ids.append(account.id)
            self.accounts.store(account)
        }
        let transferCount = try reader.varint()
        guard transferCount <= UInt64(byteCount) else { throw Rejection(.invalidField, "payments snapshot: transfer count") }
        self.transfers.reserveCapacity(Int(transferCount))
        for _ in 0..<transferCount {
            let transfer = try Self.readTransfer(&reader, accounts: ids)
            self.transfers[transfer.id] = transfer
            if transfer.state == .pending { self.openPending[transfer.id] = transfer.expiresAt ?? .max }
        }
    }

    private static func readTransfer(_ reader: inout BinaryReader, accounts: [DomainID]) throws -> Transfer {
        let id = try DomainID(try reader.shortString(), field: "transfer")
        let header = try reader.u8()
        let kindCode = Int(header & 0x3)
        let stateCode = Int(header >> 2 & 0x7)
        guard kindCode < Self.kinds.count, stateCode < Self.states.count else {
            throw Rejection(.invalidField, "payments snapshot: transfer \(id) has kind \(kindCode), state \(stateCode)")
        }
        func account() throws -> DomainID {
            let number = try reader.varint()
            guard number < UInt64(accounts.count) else { throw Rejection(.invalidField, "payments snapshot: account number \(number)") }
            return accounts[Int(number)]
        }
        let debit = try account()
        let credit = try account()
        let amount = try reader.varint()
        let reversed = try reader.varint()
        var transfer = Transfer(
            id: id, kind: Self.kinds[kindCode], debitAccount: debit, creditAccount: credit, amount: amount,
            currency: try Currency(try reader.shortString()), state: Self.states[stateCode])
        transfer.reversedAmount = reversed
        if header & 0x20 != 0 { transfer.memo = try reader.shortString() }
        if header & 0x40 != 0 { transfer.externalReference = try reader.shortString() }
        guard header & 0x80 != 0 else { return transfer }
        let extras = try reader.u8()
        guard extras & 0xF0 == 0, extras != 0 else { throw Rejection(.invalidField, "payments snapshot: transfer \(id) extras") }
        if extras & 0x1 != 0 { transfer.expiresAt = try reader.varint() }
        if extras & 0x2 != 0 { transfer.timeoutNanoseconds = try reader.varint() }
        if extras & 0x4 != 0 { transfer.reversalOf = try DomainID(try reader.shortString(), field: "reversal_of") }
        if extras & 0x8 != 0 { transfer.committedAmount = try reader.varint() }
        return transfer
    }
}
