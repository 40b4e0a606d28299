/// Balance limits of an account (TigerBeetle's account flags).
public struct AccountFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Debits may not exceed credits (posted debits plus pending debits): an agent wallet
    /// that cannot go negative.
    public static let debitsMustNotExceedCredits = AccountFlags(rawValue: 1 << 0)
    /// Credits may not exceed debits: an account that only holds what was debited from it.
    public static let creditsMustNotExceedDebits = AccountFlags(rawValue: 1 << 1)

    /// The flags' names as the CLI, the API and the event payloads spell them.
    public var names: [String] {
        var names: [String] = []
        if self.contains(.debitsMustNotExceedCredits) { names.append("debits_must_not_exceed_credits") }
        if self.contains(.creditsMustNotExceedDebits) { names.append("credits_must_not_exceed_debits") }
        return names
    }

    /// Parses flag names; unknown names are an `invalid_field` rejection.
    public init(names: [String]) throws(Rejection) {
        var flags: AccountFlags = []
        for name in names {
            switch name {
            case "debits_must_not_exceed_credits": flags.insert(.debitsMustNotExceedCredits)
            case "credits_must_not_exceed_debits": flags.insert(.creditsMustNotExceedDebits)
            default:
                throw Rejection(
                    .invalidField,
                    "unknown account flag \"\(name)\"; use debits_must_not_exceed_credits or credits_must_not_exceed_debits")
            }
        }
        self = flags
    }
}

/// An account: who owns it, its currency and limits, and its four balances in minor units.
public struct Account: Hashable, Sendable {
    public var id: DomainID
    /// The agent that owns it.
    public var agent: DomainID
    public var currency: Currency
    public var flags: AccountFlags
    public var externalReference: String?
    public var isClosed = false
    public var debitsPosted: UInt64 = 0
    public var creditsPosted: UInt64 = 0
    public var debitsPending: UInt64 = 0
    public var creditsPending: UInt64 = 0

    /// A new, open account with zero balances.
    public init(id: DomainID, agent: DomainID, currency: Currency, flags: AccountFlags = [], externalReference: String? = nil) {
        self.id = id
        self.agent = agent
        self.currency = currency
        self.flags = flags
        self.externalReference = externalReference
    }

    /// Credits minus debits, posted only (negative for an account that paid out more than it got).
    public var balance: Int128 { Int128(self.creditsPosted) - Int128(self.debitsPosted) }

    /// What the account can still pay: posted credits minus posted and pending debits.
    public var available: Int128 { Int128(self.creditsPosted) - Int128(self.debitsPosted) - Int128(self.debitsPending) }

    /// Whether the static fields (not balances, not closed) equal `other`'s.
    func hasSameFields(as other: Account) -> Bool {
        self.id == other.id && self.agent == other.agent && self.currency == other.currency && self.flags == other.flags
            && self.externalReference == other.externalReference
    }
}
