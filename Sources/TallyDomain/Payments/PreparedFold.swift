/// What folding an accepted posted transfer into a batch takes, found while deciding it:
/// the transfer and its two accounts with the amount already added. Folding it is three
/// writes, where ``Payments/evolve(_:state:changes:)`` would look the accounts up again.
public struct PreparedFold: Sendable {
    let transfer: Transfer
    let debit: Account
    let credit: Account
}

/// How ``Payments/decideMade(_:state:changes:)`` decided a transfer made ahead.
public enum MadeDecision: Sendable {
    /// Accepted as made: its event is the one made; fold it with this.
    case accepted(PreparedFold)
    /// Not accepted as made: the outcome is this (`transfer_exists` or a rejection).
    case decided(PaymentOutcome)
}

extension Payments {
    /// Decides `command` as ``decide(_:state:changes:now:)`` does and, for an accepted posted
    /// transfer, returns its ``PreparedFold`` too (`nil` otherwise: fold the events with
    /// ``evolve(_:state:changes:)``).
    public static func decideForFold(
        _ command: PaymentCommand, state: borrowing PaymentsState, changes: borrowing PaymentChanges, now: UInt64
    ) -> (outcome: PaymentOutcome, fold: PreparedFold?) {
        guard case .transfer(let request) = command else { return (self.decide(command, state: state, changes: changes, now: now), nil) }
        do throws(Rejection) {
            return try self.transferDecision(request, state: state, changes: changes, now: now)
        } catch {
            return (.rejected(error), nil)
        }
    }

    /// Folds a decided posted transfer into `changes` and `state`: what
    /// ``evolve(_:state:changes:)`` does with its `transfer.created` event, with the accounts
    /// as they were when it was decided (the batch has not changed since: fold it right
    /// after its events are appended). The transfer goes into `state`'s table as
    /// uncommitted: ``PaymentsState/apply(_:)`` publishes it with `changes`, and
    /// ``PaymentsState/discardUncommitted()`` forgets it if the batch fails. So do the two
    /// accounts when `changes` holds no account (``PaymentsState/writeThrough(_:)`` keeps it
    /// so between commands); otherwise they go into `changes`, which may hold them.
    public static func fold(_ prepared: PreparedFold, into changes: inout PaymentChanges, state: inout PaymentsState) {
        if changes.accounts.isEmpty {
            state.accounts.update(prepared.debit)
            state.accounts.update(prepared.credit)
        } else {
            changes.accounts[prepared.debit.id] = prepared.debit
            changes.accounts[prepared.credit.id] = prepared.credit
        }
        state.transfers.addUncommitted(prepared.transfer)
    }
}
