extension PaymentsState {
    /// Reads a version 1 snapshot (every integer u64, every string with a u64 length), as
    /// releases before version 2 wrote them, so that an upgraded ledger restores its
    /// checkpoint instead of replaying the log from position 1. `reader` is past the version.
    mutating func restoreVersion1(_ reader: inout BinaryReader, byteCount: Int) throws -> Void {
        // Straight into the state's dictionaries, sized up front: restoring 1 M transfers
        // spent most of its time growing and copying dictionaries.
        let accountCount = try reader.u64()
        self.accounts.reserveCapacity(Int(min(accountCount, UInt64(byteCount))))
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
            self.accounts.store(account)
        }
        let transferCount = try reader.u64()
        self.transfers.reserveCapacity(Int(min(transferCount, UInt64(byteCount))))
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
    }
}
