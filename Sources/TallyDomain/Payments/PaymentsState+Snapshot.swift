extension PaymentsState {
    private static let snapshotVersion: UInt8 = 1

    /// The whole write model as bytes (a checkpoint kept behind the log; the log stays the truth).
    public func snapshot() -> [UInt8] {
        var writer = BinaryWriter()
        writer.u8(Self.snapshotVersion)
        writer.u64(UInt64(self.accounts.count))
        // Dictionary order for accounts, first-stored order for transfers: a snapshot is
        // restored, never compared byte for byte.
        for account in self.accounts.values {
            writer.string(account.id.rawValue)
            writer.string(account.agent.rawValue)
            writer.string(account.currency.rawValue)
            writer.u64(UInt64(account.flags.rawValue))
            writer.optionalString(account.externalReference)
            writer.u8(account.isClosed ? 1 : 0)
            for value in [account.debitsPosted, account.creditsPosted, account.debitsPending, account.creditsPending] {
                writer.u64(value)
            }
        }
        writer.u64(UInt64(self.transfers.count))
        for transfer in self.transfers.values {
            writer.string(transfer.id.rawValue)
            writer.string(transfer.kind.rawValue)
            writer.string(transfer.debitAccount.rawValue)
            writer.string(transfer.creditAccount.rawValue)
            writer.u64(transfer.amount)
            writer.string(transfer.currency.rawValue)
            writer.optionalString(transfer.memo)
            writer.optionalString(transfer.externalReference)
            writer.optionalU64(transfer.expiresAt)
            writer.optionalU64(transfer.timeoutNanoseconds)
            writer.optionalString(transfer.reversalOf?.rawValue)
            writer.string(transfer.state.rawValue)
            writer.optionalU64(transfer.committedAmount)
            writer.u64(transfer.reversedAmount)
        }
        return writer.bytes
    }

    /// Restores a state from ``snapshot()``; throws on any malformed or invalid byte.
    public init(snapshot bytes: [UInt8]) throws(Rejection) {
        self.init()
        var reader = BinaryReader(bytes)
        do {
            guard try reader.u8() == Self.snapshotVersion else {
                throw Rejection(.invalidField, "unknown payments snapshot version")
            }
            // Straight into the state's dictionaries, sized up front: restoring 1 M transfers
            // spent most of its time growing and copying dictionaries.
            let accountCount = try reader.u64()
            self.accounts.reserveCapacity(Int(min(accountCount, UInt64(bytes.count))))
            for _ in 0..<accountCount {
                var account = Account(
                    id: try DomainID(try reader.string(), field: "account"), agent: try DomainID(try reader.string(), field: "agent"),
                    currency: try Currency(try reader.string()), flags: AccountFlags(rawValue: UInt32(truncatingIfNeeded: try reader.u64())))
                account.externalReference = try reader.optionalString()
                account.isClosed = try reader.u8() == 1
                account.debitsPosted = try reader.u64()
                account.creditsPosted = try reader.u64()
                account.debitsPending = try reader.u64()
                account.creditsPending = try reader.u64()
                self.accounts[account.id] = account
            }
            let transferCount = try reader.u64()
            self.transfers.reserveCapacity(Int(min(transferCount, UInt64(bytes.count))))
            for _ in 0..<transferCount {
                let id = try DomainID(try reader.string(), field: "transfer")
                guard let kind = Transfer.Kind(rawValue: try reader.string()) else { throw Rejection(.invalidField, "transfer kind") }
                var transfer = Transfer(
                    id: id, kind: kind, debitAccount: try DomainID(try reader.string(), field: "debit_account"),
                    creditAccount: try DomainID(try reader.string(), field: "credit_account"), amount: try reader.u64(),
                    currency: try Currency(try reader.string()), memo: try reader.optionalString(),
                    externalReference: try reader.optionalString(), expiresAt: try reader.optionalU64(),
                    timeoutNanoseconds: try reader.optionalU64(),
                    reversalOf: try reader.optionalString().map { raw throws(Rejection) in try DomainID(raw, field: "reversal_of") })
                guard let state = Transfer.State(rawValue: try reader.string()) else { throw Rejection(.invalidField, "transfer state") }
                transfer.state = state
                transfer.committedAmount = try reader.optionalU64()
                transfer.reversedAmount = try reader.u64()
                self.transfers[id] = transfer
                if state == .pending { self.openPending[id] = transfer.expiresAt ?? .max }
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
}
