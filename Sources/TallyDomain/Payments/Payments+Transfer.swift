extension Payments {
    /// The transfer `request` creates if it is accepted; a pending one's expiry is set when
    /// it is decided (from the time then).
    public static func newTransfer(_ request: TransferRequest) -> Transfer {
        Transfer(
            id: request.id, kind: request.timeoutNanoseconds == nil ? .posted : .pending, debitAccount: request.debitAccount,
            creditAccount: request.creditAccount, amount: request.amount, currency: request.currency, memo: request.memo,
            externalReference: request.externalReference, expiresAt: nil, timeoutNanoseconds: request.timeoutNanoseconds,
            reversalOf: nil, state: request.timeoutNanoseconds == nil ? .posted : .pending)
    }

    static func transfer(
        _ request: TransferRequest, state: borrowing PaymentsState, changes: borrowing PaymentChanges, now: UInt64
    ) throws(Rejection) -> PaymentOutcome {
        try self.transferDecision(request, state: state, changes: changes, now: now).outcome
    }

    /// Decides a transfer request; for an accepted posted transfer also what folding it
    /// takes (the two accounts were looked up to decide it).
    static func transferDecision(
        _ request: TransferRequest, state: borrowing PaymentsState, changes: borrowing PaymentChanges, now: UInt64
    ) throws(Rejection) -> (outcome: PaymentOutcome, fold: PreparedFold?) {
        var transfer = Self.newTransfer(request)
        if let exists = try self.existing(transfer, state: state, changes: changes) { return (exists, nil) }
        if let timeout = request.timeoutNanoseconds, timeout == 0 || timeout > Self.timeoutNanosecondsMax {
            throw Rejection(.invalidTimeout, "a pending transfer's timeout must be between 1 ns and 30 days; got \(timeout) ns")
        }
        if let timeout = request.timeoutNanoseconds {
            let (expiry, overflow) = now.addingReportingOverflow(timeout)
            transfer.expiresAt = overflow ? .max : expiry
        }
        guard transfer.kind == .posted else {
            try self.checkMovable(transfer, state: state, changes: changes)
            return (.applied([.transferCreated(transfer)]), nil)
        }
        return (.applied([.transferCreated(transfer)]), try self.postedFold(transfer, state: state, changes: changes))
    }

    /// Decides a posted transfer made ahead, off the writer, from its request
    /// (``newTransfer(_:)``): accepted as made (with what folding it takes), or another
    /// outcome (`transfer_exists` or a rejection), exactly as ``transferDecision(_:state:changes:now:)``
    /// decides the request. The transfer carries every field of the request, so the writer
    /// needs nothing else.
    public static func decideMade(
        _ transfer: Transfer, state: borrowing PaymentsState, changes: borrowing PaymentChanges
    ) -> MadeDecision {
        precondition(transfer.kind == .posted && transfer.state == .posted, "only a posted transfer made from its request")
        do throws(Rejection) {
            if let exists = try self.existing(transfer, state: state, changes: changes) { return .decided(exists) }
            return .accepted(try self.postedFold(transfer, state: state, changes: changes))
        } catch {
            return .decided(.rejected(error))
        }
    }

    /// A posted transfer's accounts with its amount added, if it may move.
    private static func postedFold(
        _ transfer: Transfer, state: borrowing PaymentsState, changes: borrowing PaymentChanges
    ) throws(Rejection) -> PreparedFold {
        var (debit, credit) = try self.checkMovable(transfer, state: state, changes: changes)
        // checkMovable refused an amount that overflows either balance.
        debit.debitsPosted += transfer.amount
        credit.creditsPosted += transfer.amount
        return PreparedFold(transfer: transfer, debit: debit, credit: credit)
    }

    /// `transfer_exists` when a transfer with the id of `made` (a request's, ``newTransfer(_:)``)
    /// exists with the same fields; a rejection when its fields differ or the request's free
    /// text is invalid; else `nil`.
    private static func existing(
        _ made: Transfer, state: borrowing PaymentsState, changes: borrowing PaymentChanges
    ) throws(Rejection) -> PaymentOutcome? {
        try FreeText.validate(made.memo, field: "memo", max: FreeText.memoBytesMax)
        try FreeText.validate(made.externalReference, field: "external_ref", max: FreeText.referenceBytesMax)
        guard let existing = changes.transfer(made.id, state) else { return nil }
        let same =
            existing.kind == made.kind && existing.debitAccount == made.debitAccount && existing.creditAccount == made.creditAccount
            && existing.amount == made.amount && existing.currency == made.currency && existing.memo == made.memo
            && existing.externalReference == made.externalReference && existing.timeoutNanoseconds == made.timeoutNanoseconds
        guard same else { throw Self.existsWithDifferentFields(made.id) }
        return .exists(.transferExists)
    }

    private static func existsWithDifferentFields(_ id: DomainID) -> Rejection {
        Rejection(
            .transferExistsWithDifferentFields,
            "transfer \(id) exists with other fields; a retry must resend the same fields, a new transfer needs a new id")
    }

    /// The checks every new transfer (posted, pending or reversal) passes, in TigerBeetle's order.
    @discardableResult
    private static func checkMovable(
        _ transfer: Transfer, state: borrowing PaymentsState, changes: borrowing PaymentChanges
    ) throws(Rejection) -> (debit: Account, credit: Account) {
        guard transfer.debitAccount != transfer.creditAccount else {
            throw Rejection(.accountsMustBeDifferent, "transfer \(transfer.id) debits and credits the same account \(transfer.debitAccount)")
        }
        guard transfer.amount > 0 else {
            throw Rejection(.amountMustBePositive, "transfer \(transfer.id) has amount 0; amounts are positive minor units")
        }
        guard let debit = changes.account(transfer.debitAccount, state) else { throw self.notFound(transfer.debitAccount) }
        guard let credit = changes.account(transfer.creditAccount, state) else { throw self.notFound(transfer.creditAccount) }
        // Debit first, then credit (written out: an array of the two cost two allocations a transfer).
        if debit.isClosed { throw Self.closed(debit) }
        if credit.isClosed { throw Self.closed(credit) }
        if debit.currency != transfer.currency { throw Self.currencyMismatch(transfer, debit) }
        if credit.currency != transfer.currency { throw Self.currencyMismatch(transfer, credit) }
        let isPending = transfer.kind == .pending
        // Overflow: each balance that grows, and the sums the limits compare.
        let debitSide = isPending ? debit.debitsPending : debit.debitsPosted
        let creditSide = isPending ? credit.creditsPending : credit.creditsPosted
        guard
            !debitSide.addingReportingOverflow(transfer.amount).overflow,
            !creditSide.addingReportingOverflow(transfer.amount).overflow
        else {
            throw Rejection(.overflow, "transfer \(transfer.id) would take a balance past 2^64 - 1 minor units")
        }
        if debit.flags.contains(.debitsMustNotExceedCredits) {
            let debits = UInt128(debit.debitsPosted) + UInt128(debit.debitsPending) + UInt128(transfer.amount)
            guard debits <= UInt128(debit.creditsPosted) else {
                throw Rejection(
                    .exceedsCredits,
                    "account \(debit.id) has \(debit.available) \(debit.currency) available; transfer \(transfer.id) needs \(transfer.amount)")
            }
        }
        if credit.flags.contains(.creditsMustNotExceedDebits) {
            let credits = UInt128(credit.creditsPosted) + UInt128(credit.creditsPending) + UInt128(transfer.amount)
            guard credits <= UInt128(credit.debitsPosted) else {
                throw Rejection(
                    .exceedsDebits,
                    "account \(credit.id) may not hold more credits than debits; transfer \(transfer.id) would exceed them by "
                        + "\(credits - UInt128(credit.debitsPosted))")
            }
        }
        return (debit, credit)
    }

    private static func closed(_ account: Account) -> Rejection {
        Rejection(.accountClosed, "account \(account.id) is closed and takes no new transfers")
    }

    private static func currencyMismatch(_ transfer: Transfer, _ account: Account) -> Rejection {
        Rejection(
            .currencyMismatch, "transfer \(transfer.id) is in \(transfer.currency) but account \(account.id) holds \(account.currency)")
    }

    static func closePending(
        _ id: DomainID, commitAmount: UInt64?, isVoid: Bool, state: borrowing PaymentsState,
        changes: borrowing PaymentChanges, now: UInt64
    ) throws(Rejection) -> PaymentOutcome {
        guard let transfer = changes.transfer(id, state), transfer.kind == .pending else {
            throw Rejection(.pendingTransferNotFound, "no pending transfer has id \(id)")
        }
        switch transfer.state {
        case .pending:
            break
        case .committed where !isVoid && (commitAmount == nil || commitAmount == transfer.committedAmount):
            return .exists(.transferExists)
        case .voided where isVoid:
            return .exists(.transferExists)
        case .expired:
            throw Rejection(.pendingTransferExpired, "pending transfer \(id) expired; nothing was posted")
        default:
            throw Rejection(.pendingTransferAlreadyClosed, "pending transfer \(id) is already \(transfer.state.rawValue)")
        }
        if let expiry = transfer.expiresAt, expiry <= now {
            throw Rejection(.pendingTransferExpired, "pending transfer \(id) expired; nothing was posted")
        }
        if isVoid { return .applied([.transferVoided(id)]) }
        let amount = commitAmount ?? transfer.amount
        guard amount > 0 else { throw Rejection(.amountMustBePositive, "a commit must post a positive amount; void it instead") }
        guard amount <= transfer.amount else {
            throw Rejection(.amountExceedsPending, "pending transfer \(id) holds \(transfer.amount); a commit cannot post \(amount)")
        }
        guard
            let debit = changes.account(transfer.debitAccount, state), let credit = changes.account(transfer.creditAccount, state)
        else { throw self.notFound(transfer.debitAccount) }
        guard
            !debit.debitsPosted.addingReportingOverflow(amount).overflow,
            !credit.creditsPosted.addingReportingOverflow(amount).overflow
        else {
            throw Rejection(.overflow, "committing \(id) would take a posted balance past 2^64 - 1 minor units")
        }
        return .applied([.transferCommitted(id, amount: amount)])
    }

    static func reverse(
        _ id: DomainID, of originalID: DomainID, amount: UInt64?, memo: String?, state: borrowing PaymentsState,
        changes: borrowing PaymentChanges
    ) throws(Rejection) -> PaymentOutcome {
        try FreeText.validate(memo, field: "memo", max: FreeText.memoBytesMax)
        if let existing = changes.transfer(id, state) {
            let same =
                existing.kind == .reversal && existing.reversalOf == originalID && existing.memo == memo
                && (amount == nil || amount == existing.amount)
            guard same else {
                throw Rejection(
                    .transferExistsWithDifferentFields,
                    "transfer \(id) exists with other fields; a reversal needs a new transfer id")
            }
            return .exists(.transferExists)
        }
        guard let original = changes.transfer(originalID, state) else {
            throw Rejection(.transferNotFound, "no transfer has id \(originalID)")
        }
        guard original.kind != .reversal, original.state == .posted || original.state == .committed else {
            throw Rejection(
                .transferNotReversible,
                "transfer \(originalID) is \(original.kind == .reversal ? "a reversal" : original.state.rawValue); "
                    + "only posted or committed transfers can be reversed")
        }
        let remaining = original.postedAmount - original.reversedAmount
        let reversal = amount ?? remaining
        guard reversal > 0 || amount != nil else {
            throw Rejection(.reversalExceedsOriginal, "transfer \(originalID) is already fully reversed")
        }
        guard reversal <= remaining else {
            throw Rejection(
                .reversalExceedsOriginal,
                "transfer \(originalID) moved \(original.postedAmount) and \(original.reversedAmount) is reversed already; "
                    + "at most \(remaining) can be reversed")
        }
        let transfer = Transfer(
            id: id, kind: .reversal, debitAccount: original.creditAccount, creditAccount: original.debitAccount, amount: reversal,
            currency: original.currency, memo: memo, externalReference: nil, expiresAt: nil, timeoutNanoseconds: nil,
            reversalOf: originalID, state: .posted)
        try self.checkMovable(transfer, state: state, changes: changes)
        return .applied([.transferCreated(transfer)])
    }
}
