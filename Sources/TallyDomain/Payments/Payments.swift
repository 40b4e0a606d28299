/// The payments rules: `decide` (command + state → events or a rejection) and `evolve`
/// (state + event → state), both pure.
public enum Payments {
    /// The longest timeout a pending transfer may have (30 days).
    public static let timeoutNanosecondsMax: UInt64 = 30 * 86_400 * 1_000_000_000

    /// Decides `command` against `state` plus `changes` at wall-clock time `now` (ns since 1970).
    public static func decide(
        _ command: PaymentCommand, state: borrowing PaymentsState, changes: borrowing PaymentChanges, now: UInt64
    ) -> PaymentOutcome {
        do throws(Rejection) {
            switch command {
            case .openAccount(let account):
                return try self.openAccount(account, state: state, changes: changes)
            case .closeAccount(let id):
                guard let account = changes.account(id, state) else { throw self.notFound(id) }
                if account.isClosed { throw Rejection(.accountClosed, "account \(id) is already closed") }
                guard account.debitsPending == 0 && account.creditsPending == 0 else {
                    throw Rejection(
                        .accountHasPendingTransfers,
                        "account \(id) has pending transfers (\(account.debitsPending) debit, \(account.creditsPending) credit); "
                            + "commit, void or let them expire first")
                }
                return .applied([.accountClosed(id)])
            case .transfer(let request):
                return try self.transfer(request, state: state, changes: changes, now: now)
            case .commitPending(let id, let amount):
                return try self.closePending(id, commitAmount: amount, isVoid: false, state: state, changes: changes, now: now)
            case .voidPending(let id):
                return try self.closePending(id, commitAmount: nil, isVoid: true, state: state, changes: changes, now: now)
            case .reverse(let id, let original, let amount, let memo):
                return try self.reverse(id, of: original, amount: amount, memo: memo, state: state, changes: changes)
            case .expireDue:
                return .applied(changes.duePending(state, now: now).map { PaymentEvent.transferExpired($0) })
            }
        } catch {
            return .rejected(error)
        }
    }

    /// Decides a linked batch: every command succeeds or none does. On success returns the
    /// outcomes and the changes with the batch's events folded in; otherwise the failing
    /// command's rejection and `linked_event_failed` for the others, and `changes` untouched.
    public static func decideLinked(
        _ commands: [PaymentCommand], state: borrowing PaymentsState, changes: PaymentChanges, now: UInt64
    ) -> (outcomes: [PaymentOutcome], changes: PaymentChanges?) {
        var trial = changes
        var outcomes: [PaymentOutcome] = []
        outcomes.reserveCapacity(commands.count)
        for (index, command) in commands.enumerated() {
            let outcome = self.decide(command, state: state, changes: trial, now: now)
            if case .rejected(let rejection) = outcome {
                var failed = [PaymentOutcome](
                    repeating: .rejected(
                        Rejection(.linkedEventFailed, "item \(index) of the linked batch failed (\(rejection.code)); nothing was applied")),
                    count: commands.count)
                failed[index] = outcome
                return (failed, nil)
            }
            if case .applied(let events) = outcome {
                for event in events {
                    do { try self.evolve(event, state: state, changes: &trial) } catch {
                        preconditionFailure("a decided event does not evolve: \(error)")
                    }
                }
            }
            outcomes.append(outcome)
        }
        return (outcomes, trial)
    }

    static func notFound(_ id: DomainID) -> Rejection {
        Rejection(.accountNotFound, "no account has id \(id); open it first with `tally accounts open`")
    }

    private static func openAccount(
        _ account: Account, state: borrowing PaymentsState, changes: borrowing PaymentChanges
    ) throws(Rejection) -> PaymentOutcome {
        try FreeText.validate(account.externalReference, field: "external_ref", max: FreeText.referenceBytesMax)
        if account.flags.contains(.debitsMustNotExceedCredits) && account.flags.contains(.creditsMustNotExceedDebits) {
            throw Rejection(.invalidField, "flags debits_must_not_exceed_credits and credits_must_not_exceed_debits exclude each other")
        }
        if let existing = changes.account(account.id, state) {
            guard existing.hasSameFields(as: account) else {
                throw Rejection(
                    .accountExistsWithDifferentFields,
                    "account \(account.id) exists with other fields (agent \(existing.agent), currency \(existing.currency)); "
                        + "use a new id")
            }
            return .exists(.accountExists)
        }
        var fresh = Account(id: account.id, agent: account.agent, currency: account.currency, flags: account.flags)
        fresh.externalReference = account.externalReference
        return .applied([.accountOpened(fresh)])
    }
}
