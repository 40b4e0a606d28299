/// A transfer as the write model remembers it: what was asked (to answer retries and
/// reversals) and, for a pending one, whether it is still open.
public struct Transfer: Hashable, Sendable {
    /// How the transfer was made.
    public enum Kind: String, Hashable, Sendable {
        /// Moved the amount at once.
        case posted
        /// Reserved the amount until committed, voided or expired.
        case pending
        /// A compensating transfer for an earlier one (`reversalOf`).
        case reversal
    }

    /// Where a pending transfer stands.
    public enum State: String, Hashable, Sendable {
        /// Posted (or a reversal): final.
        case posted
        /// Waiting for commit, void or expiry.
        case pending
        /// The pending amount (or part of it) was posted.
        case committed
        case voided
        case expired
    }

    public var id: DomainID
    public var kind: Kind
    public var debitAccount: DomainID
    public var creditAccount: DomainID
    public var amount: UInt64
    public var currency: Currency
    public var memo: String?
    public var externalReference: String?
    /// For a pending transfer: when it expires (nanoseconds since 1970, UTC).
    public var expiresAt: UInt64?
    /// For a pending transfer: the timeout it was created with.
    public var timeoutNanoseconds: UInt64?
    /// For a reversal: the transfer it reverses.
    public var reversalOf: DomainID?
    public var state: State
    /// For a committed pending transfer: the amount posted.
    public var committedAmount: UInt64?
    /// For a posted or committed transfer: the sum of its reversals so far.
    public var reversedAmount: UInt64 = 0

    /// A transfer record; `state` defaults to what a new transfer of `kind` starts in.
    public init(
        id: DomainID, kind: Kind, debitAccount: DomainID, creditAccount: DomainID, amount: UInt64, currency: Currency,
        memo: String? = nil, externalReference: String? = nil, expiresAt: UInt64? = nil, timeoutNanoseconds: UInt64? = nil,
        reversalOf: DomainID? = nil, state: State? = nil
    ) {
        self.id = id
        self.kind = kind
        self.debitAccount = debitAccount
        self.creditAccount = creditAccount
        self.amount = amount
        self.currency = currency
        self.memo = memo
        self.externalReference = externalReference
        self.expiresAt = expiresAt
        self.timeoutNanoseconds = timeoutNanoseconds
        self.reversalOf = reversalOf
        self.state = state ?? (kind == .pending ? .pending : .posted)
    }

    /// The amount that moved for good (what a reversal may give back in total).
    public var postedAmount: UInt64 {
        switch self.state {
        case .posted: self.amount
        case .committed: self.committedAmount ?? 0
        case .pending, .voided, .expired: 0
        }
    }
}
