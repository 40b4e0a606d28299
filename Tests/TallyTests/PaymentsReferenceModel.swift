import Tally

/// A small, obviously-correct model of the payment rules, written independently of
/// TallyDomain for the property test: plain dictionaries, one rule per line, in the order
/// docs/rejections.md lists the checks.
struct ReferenceModel {
    struct Acct: Equatable {
        var agent: String
        var currency: String
        var flags: AccountFlags
        var closed = false
        var dp: UInt64 = 0, cp: UInt64 = 0, dpend: UInt64 = 0, cpend: UInt64 = 0
    }

    struct Xfer {
        var pending: Bool
        var reversalOf: String?
        var debit: String, credit: String, amount: UInt64, currency: String
        var timeout: UInt64?
        var memo: String?
        /// Set when created in the call `createdIn`; a 1 ns timeout is expired in any later call.
        var createdIn: Int
        var state: String  // posted, pending, committed, voided, expired
        var committed: UInt64 = 0
        var reversed: UInt64 = 0
        var posted: UInt64 { self.state == "posted" ? self.amount : self.state == "committed" ? self.committed : 0 }
    }

    var accounts: [String: Acct] = [:]
    var transfers: [String: Xfer] = [:]
    var call = 0

    /// Applies a batch; returns the code per command.
    mutating func run(_ commands: [PaymentCommand], linked: Bool) -> [String] {
        self.call += 1
        if linked {
            var trial = self
            var codes: [String] = []
            for (index, command) in commands.enumerated() {
                let code = trial.apply(command)
                if !["ok", "account_exists", "transfer_exists"].contains(code) {
                    var failed = [String](repeating: "linked_event_failed", count: commands.count)
                    failed[index] = code
                    return failed
                }
                codes.append(code)
            }
            self = trial
            return codes
        }
        return commands.map { self.apply($0) }
    }

    private func isExpired(_ transfer: Xfer) -> Bool {
        transfer.timeout == 1 && transfer.createdIn < self.call
    }

    private mutating func apply(_ command: PaymentCommand) -> String {
        switch command {
        case .openAccount(let account):
            if account.flags == [.debitsMustNotExceedCredits, .creditsMustNotExceedDebits] { return "invalid_field" }
            if let existing = self.accounts[account.id.rawValue] {
                let same = existing.agent == account.agent.rawValue && existing.currency == account.currency.rawValue
                    && existing.flags == account.flags
                return same ? "account_exists" : "account_exists_with_different_fields"
            }
            self.accounts[account.id.rawValue] = Acct(agent: account.agent.rawValue, currency: account.currency.rawValue, flags: account.flags)
            return "ok"
        case .closeAccount(let id):
            guard let account = self.accounts[id.rawValue] else { return "account_not_found" }
            if account.closed { return "account_closed" }
            if account.dpend > 0 || account.cpend > 0 { return "account_has_pending_transfers" }
            self.accounts[id.rawValue]?.closed = true
            return "ok"
        case .transfer(let request):
            if let existing = self.transfers[request.id.rawValue] {
                let same = existing.reversalOf == nil && existing.pending == (request.timeoutNanoseconds != nil)
                    && existing.debit == request.debitAccount.rawValue && existing.credit == request.creditAccount.rawValue
                    && existing.amount == request.amount && existing.currency == request.currency.rawValue
                    && existing.timeout == request.timeoutNanoseconds && existing.memo == request.memo
                return same ? "transfer_exists" : "transfer_exists_with_different_fields"
            }
            let xfer = Xfer(
                pending: request.timeoutNanoseconds != nil, reversalOf: nil, debit: request.debitAccount.rawValue,
                credit: request.creditAccount.rawValue, amount: request.amount, currency: request.currency.rawValue,
                timeout: request.timeoutNanoseconds, memo: request.memo, createdIn: self.call,
                state: request.timeoutNanoseconds != nil ? "pending" : "posted")
            return self.move(request.id.rawValue, xfer)
        case .commitPending(let id, let amount):
            guard let xfer = self.transfers[id.rawValue], xfer.pending else { return "pending_transfer_not_found" }
            if xfer.state == "committed" && (amount == nil || amount == xfer.committed) { return "transfer_exists" }
            if xfer.state == "expired" { return "pending_transfer_expired" }
            if xfer.state != "pending" { return "pending_transfer_already_closed" }
            if self.isExpired(xfer) { return "pending_transfer_expired" }
            let posted = amount ?? xfer.amount
            if posted == 0 { return "amount_must_be_positive" }
            if posted > xfer.amount { return "amount_exceeds_pending" }
            self.close(id.rawValue, to: "committed", posting: posted)
            return "ok"
        case .voidPending(let id):
            guard let xfer = self.transfers[id.rawValue], xfer.pending else { return "pending_transfer_not_found" }
            if xfer.state == "voided" { return "transfer_exists" }
            if xfer.state == "expired" { return "pending_transfer_expired" }
            if xfer.state != "pending" { return "pending_transfer_already_closed" }
            if self.isExpired(xfer) { return "pending_transfer_expired" }
            self.close(id.rawValue, to: "voided", posting: 0)
            return "ok"
        case .reverse(let id, let originalID, let amount, let memo):
            if let existing = self.transfers[id.rawValue] {
                let same = existing.reversalOf == originalID.rawValue && existing.memo == memo && (amount == nil || amount == existing.amount)
                return same ? "transfer_exists" : "transfer_exists_with_different_fields"
            }
            guard let original = self.transfers[originalID.rawValue] else { return "transfer_not_found" }
            if original.reversalOf != nil || !(original.state == "posted" || original.state == "committed") {
                return "transfer_not_reversible"
            }
            let remaining = original.posted - original.reversed
            let value = amount ?? remaining
            if value == 0 && amount == nil { return "reversal_exceeds_original" }
            if value > remaining { return "reversal_exceeds_original" }
            let xfer = Xfer(
                pending: false, reversalOf: originalID.rawValue, debit: original.credit, credit: original.debit, amount: value,
                currency: original.currency, timeout: nil, memo: memo, createdIn: self.call, state: "posted")
            let code = self.move(id.rawValue, xfer)
            if code == "ok" { self.transfers[originalID.rawValue]?.reversed += value }
            return code
        case .expireDue:
            for (id, xfer) in self.transfers where xfer.state == "pending" && self.isExpired(xfer) {
                self.close(id, to: "expired", posting: 0)
            }
            return "ok"
        }
    }

    private mutating func move(_ id: String, _ xfer: Xfer) -> String {
        if xfer.debit == xfer.credit { return "accounts_must_be_different" }
        if xfer.amount == 0 { return "amount_must_be_positive" }
        guard let debit = self.accounts[xfer.debit] else { return "account_not_found" }
        guard let credit = self.accounts[xfer.credit] else { return "account_not_found" }
        if debit.closed || credit.closed { return "account_closed" }
        if debit.currency != xfer.currency || credit.currency != xfer.currency { return "currency_mismatch" }
        if debit.flags.contains(.debitsMustNotExceedCredits) && debit.dp + debit.dpend + xfer.amount > debit.cp {
            return "exceeds_credits"
        }
        if credit.flags.contains(.creditsMustNotExceedDebits) && credit.cp + credit.cpend + xfer.amount > credit.dp {
            return "exceeds_debits"
        }
        if xfer.pending {
            self.accounts[xfer.debit]?.dpend += xfer.amount
            self.accounts[xfer.credit]?.cpend += xfer.amount
        } else {
            self.accounts[xfer.debit]?.dp += xfer.amount
            self.accounts[xfer.credit]?.cp += xfer.amount
        }
        self.transfers[id] = xfer
        return "ok"
    }

    private mutating func close(_ id: String, to state: String, posting amount: UInt64) {
        guard let xfer = self.transfers[id] else { return }
        self.accounts[xfer.debit]?.dpend -= xfer.amount
        self.accounts[xfer.credit]?.cpend -= xfer.amount
        self.accounts[xfer.debit]?.dp += amount
        self.accounts[xfer.credit]?.cp += amount
        self.transfers[id]?.state = state
        if state == "committed" { self.transfers[id]?.committed = amount }
    }
}
