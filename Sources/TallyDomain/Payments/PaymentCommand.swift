/// A request to change the books. Built from validated values; `Payments.decide` turns it
/// into events or a ``Rejection``.
public enum PaymentCommand: Hashable, Sendable {
    case openAccount(Account)
    case closeAccount(DomainID)
    case transfer(TransferRequest)
    /// Posts a pending transfer: all of it (`amount == nil`) or part; the rest is released.
    case commitPending(DomainID, amount: UInt64?)
    case voidPending(DomainID)
    /// A compensating transfer `id` for `of`: the remaining amount (`nil`) or part.
    case reverse(DomainID, of: DomainID, amount: UInt64?, memo: String?)
    /// Expires every pending transfer whose timeout passed by `now`.
    case expireDue
}

/// A new transfer: posted at once, or pending (escrow) when `timeoutNanoseconds` is set.
public struct TransferRequest: Hashable, Sendable {
    public var id: DomainID
    public var debitAccount: DomainID
    public var creditAccount: DomainID
    public var amount: UInt64
    public var currency: Currency
    public var memo: String?
    public var externalReference: String?
    /// `nil`: posted. Otherwise pending until committed, voided or this long has passed.
    public var timeoutNanoseconds: UInt64?

    public init(
        id: DomainID, debitAccount: DomainID, creditAccount: DomainID, amount: UInt64, currency: Currency,
        memo: String? = nil, externalReference: String? = nil, timeoutNanoseconds: UInt64? = nil
    ) {
        self.id = id
        self.debitAccount = debitAccount
        self.creditAccount = creditAccount
        self.amount = amount
        self.currency = currency
        self.memo = memo
        self.externalReference = externalReference
        self.timeoutNanoseconds = timeoutNanoseconds
    }
}

/// What a command did, per item (TigerBeetle's create_transfers results).
public enum PaymentOutcome: Hashable, Sendable {
    /// The command was applied by these events.
    case applied([PaymentEvent])
    /// The same command was applied before (`account_exists` or `transfer_exists`):
    /// nothing was written; the retry succeeds.
    case exists(RejectionCode)
    case rejected(Rejection)

    /// The stable code: `ok`, `account_exists`, `transfer_exists` or the rejection's code.
    public var code: String {
        switch self {
        case .applied: "ok"
        case .exists(let code): code.rawValue
        case .rejected(let rejection): rejection.code.rawValue
        }
    }

    /// Whether the command took effect now or earlier.
    public var succeeded: Bool {
        if case .rejected = self { return false }
        return true
    }
}
