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
    public var state: State
    /// For a posted or committed transfer: the sum of its reversals so far.
    public var reversedAmount: UInt64 = 0
    /// The fields most transfers leave empty, out of line: the write model holds every
    /// transfer ever made, and inline they doubled its size (and the memory a batch of new
    /// transfers touches for the first time).
    private var details: DetailsBox?

    public var memo: String? {
        get { self.details?.value.memo }
        set { self.update { $0.memo = newValue } }
    }
    public var externalReference: String? {
        get { self.details?.value.externalReference }
        set { self.update { $0.externalReference = newValue } }
    }
    /// For a pending transfer: when it expires (nanoseconds since 1970, UTC).
    public var expiresAt: UInt64? {
        get { self.details?.value.expiresAt }
        set { self.update { $0.expiresAt = newValue } }
    }
    /// For a pending transfer: the timeout it was created with.
    public var timeoutNanoseconds: UInt64? {
        get { self.details?.value.timeoutNanoseconds }
        set { self.update { $0.timeoutNanoseconds = newValue } }
    }
    /// For a reversal: the transfer it reverses.
    public var reversalOf: DomainID? {
        get { self.details?.value.reversalOf }
        set { self.update { $0.reversalOf = newValue } }
    }
    /// For a committed pending transfer: the amount posted.
    public var committedAmount: UInt64? {
        get { self.details?.value.committedAmount }
        set { self.update { $0.committedAmount = newValue } }
    }

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
        self.state = state ?? (kind == .pending ? .pending : .posted)
        let details = Details(
            memo: memo, externalReference: externalReference, expiresAt: expiresAt, timeoutNanoseconds: timeoutNanoseconds,
            reversalOf: reversalOf, committedAmount: nil)
        self.details = details.isEmpty ? nil : DetailsBox(details)
    }

    public static func == (lhs: Transfer, rhs: Transfer) -> Bool {
        lhs.id == rhs.id && lhs.kind == rhs.kind && lhs.debitAccount == rhs.debitAccount && lhs.creditAccount == rhs.creditAccount
            && lhs.amount == rhs.amount && lhs.currency == rhs.currency && lhs.state == rhs.state
            && lhs.reversedAmount == rhs.reversedAmount && lhs.detailsValue == rhs.detailsValue
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.id)
        hasher.combine(self.kind)
        hasher.combine(self.debitAccount)
        hasher.combine(self.creditAccount)
        hasher.combine(self.amount)
        hasher.combine(self.currency)
        hasher.combine(self.state)
        hasher.combine(self.reversedAmount)
        hasher.combine(self.detailsValue)
    }

    private var detailsValue: Details { self.details?.value ?? Details() }

    private mutating func update(_ change: (inout Details) -> Void) {
        var details = self.detailsValue
        change(&details)
        self.details = details.isEmpty ? nil : DetailsBox(details)
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

extension Transfer {
    /// The optional fields of a transfer.
    fileprivate struct Details: Hashable, Sendable {
        var memo: String?
        var externalReference: String?
        var expiresAt: UInt64?
        var timeoutNanoseconds: UInt64?
        var reversalOf: DomainID?
        var committedAmount: UInt64?

        var isEmpty: Bool { self == Details() }
    }

    /// Immutable, so copies of a transfer share it; a change makes a new one.
    fileprivate final class DetailsBox: Sendable {
        let value: Details
        init(_ value: Details) { self.value = value }
    }
}
