extension Payments {
    /// Folds `event` into `changes` (over `state`). Throws when the event contradicts the
    /// state (an unknown account, a second close, an overdrawn balance): a log that does
    /// this was not written by `decide`, and replay stops there.
    public static func evolve(
        _ event: PaymentEvent, state: borrowing PaymentsState, changes: inout PaymentChanges
    ) throws(Rejection) {
        switch event {
        case .accountOpened(let account):
            guard changes.account(account.id, state) == nil else {
                throw Rejection(.accountExists, "account \(account.id) is opened twice")
            }
            changes.accounts[account.id] = account
        case .accountClosed(let id):
            guard var account = changes.account(id, state), !account.isClosed else { throw self.inconsistent(event) }
            account.isClosed = true
            changes.accounts[id] = account
        case .transferCreated(let transfer):
            guard changes.transfer(transfer.id, state) == nil else {
                throw Rejection(.transferExists, "transfer \(transfer.id) is created twice")
            }
            guard var debit = changes.account(transfer.debitAccount, state),
                var credit = changes.account(transfer.creditAccount, state)
            else { throw self.inconsistent(event) }
            if transfer.kind == .pending {
                debit.debitsPending = try self.add(debit.debitsPending, transfer.amount, event)
                credit.creditsPending = try self.add(credit.creditsPending, transfer.amount, event)
                changes.openPending[transfer.id] = .some(transfer.expiresAt ?? .max)
            } else {
                debit.debitsPosted = try self.add(debit.debitsPosted, transfer.amount, event)
                credit.creditsPosted = try self.add(credit.creditsPosted, transfer.amount, event)
            }
            changes.accounts[debit.id] = debit
            changes.accounts[credit.id] = credit
            changes.transfers[transfer.id] = transfer
            if let originalID = transfer.reversalOf {
                guard var original = changes.transfer(originalID, state) else { throw self.inconsistent(event) }
                original.reversedAmount = try self.add(original.reversedAmount, transfer.amount, event)
                guard original.reversedAmount <= original.postedAmount else { throw self.inconsistent(event) }
                changes.transfers[originalID] = original
            }
        case .transferCommitted(let id, let amount):
            try self.close(id, to: .committed, posting: amount, event: event, state: state, changes: &changes)
        case .transferVoided(let id):
            try self.close(id, to: .voided, posting: 0, event: event, state: state, changes: &changes)
        case .transferExpired(let id):
            try self.close(id, to: .expired, posting: 0, event: event, state: state, changes: &changes)
        }
    }

    private static func close(
        _ id: DomainID, to newState: Transfer.State, posting amount: UInt64, event: PaymentEvent,
        state: borrowing PaymentsState, changes: inout PaymentChanges
    ) throws(Rejection) {
        guard var transfer = changes.transfer(id, state), transfer.state == .pending, amount <= transfer.amount,
            var debit = changes.account(transfer.debitAccount, state),
            var credit = changes.account(transfer.creditAccount, state),
            debit.debitsPending >= transfer.amount, credit.creditsPending >= transfer.amount
        else { throw self.inconsistent(event) }
        debit.debitsPending -= transfer.amount
        credit.creditsPending -= transfer.amount
        debit.debitsPosted = try self.add(debit.debitsPosted, amount, event)
        credit.creditsPosted = try self.add(credit.creditsPosted, amount, event)
        transfer.state = newState
        if newState == .committed { transfer.committedAmount = amount }
        changes.accounts[debit.id] = debit
        changes.accounts[credit.id] = credit
        changes.transfers[id] = transfer
        changes.openPending[id] = .some(nil)
    }

    private static func add(_ lhs: UInt64, _ rhs: UInt64, _ event: PaymentEvent) throws(Rejection) -> UInt64 {
        let (sum, overflow) = lhs.addingReportingOverflow(rhs)
        guard !overflow else { throw Rejection(.overflow, "\(event.type) overflows a balance") }
        return sum
    }

    private static func inconsistent(_ event: PaymentEvent) -> Rejection {
        Rejection(.invalidField, "\(event.type) on \(event.streamID) contradicts the state before it")
    }
}
