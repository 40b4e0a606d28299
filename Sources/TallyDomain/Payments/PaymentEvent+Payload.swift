extension PaymentEvent {
    /// The JSON payload (keys in documented order, absent optionals left out).
    public var payload: [UInt8] {
        var json = JSONWriter()
        switch self {
        case .accountOpened(let account):
            json.string("account", account.id.rawValue)
            json.string("agent", account.agent.rawValue)
            json.string("currency", account.currency.rawValue)
            json.strings("flags", account.flags.names)
            json.string("external_ref", account.externalReference)
        case .accountClosed(let id):
            json.string("account", id.rawValue)
        case .transferCreated(let transfer):
            json.string("transfer", transfer.id.rawValue)
            json.string("debit_account", transfer.debitAccount.rawValue)
            json.string("credit_account", transfer.creditAccount.rawValue)
            json.digits("amount", transfer.amount)
            json.string("currency", transfer.currency.rawValue)
            json.string("memo", transfer.memo)
            json.string("external_ref", transfer.externalReference)
            json.digits("timeout_ns", transfer.timeoutNanoseconds)
            json.digits("expires_at_ns", transfer.expiresAt)
            json.string("reversal_of", transfer.reversalOf?.rawValue)
        case .transferCommitted(let id, let amount):
            json.string("transfer", id.rawValue)
            json.digits("amount", amount)
        case .transferVoided(let id), .transferExpired(let id):
            json.string("transfer", id.rawValue)
        }
        return json.finish()
    }

    /// Decodes an event of one of ``types`` from its type and payload.
    public init(type: String, payload: [UInt8]) throws(Rejection) {
        let fields = try JSONFields(payload, type: type)
        switch type {
        case "account.opened":
            var account = Account(
                id: try fields.id("account"), agent: try fields.id("agent"), currency: try Currency(try fields.string("currency")),
                flags: try AccountFlags(names: try fields.strings("flags")))
            account.externalReference = try fields.optionalString("external_ref")
            self = .accountOpened(account)
        case "account.closed":
            self = .accountClosed(try fields.id("account"))
        case "transfer.posted", "transfer.pending", "transfer.reversed":
            let kind: Transfer.Kind = type == "transfer.posted" ? .posted : type == "transfer.pending" ? .pending : .reversal
            self = .transferCreated(
                Transfer(
                    id: try fields.id("transfer"), kind: kind, debitAccount: try fields.id("debit_account"),
                    creditAccount: try fields.id("credit_account"), amount: try fields.digits("amount"),
                    currency: try Currency(try fields.string("currency")), memo: try fields.optionalString("memo"),
                    externalReference: try fields.optionalString("external_ref"),
                    expiresAt: try fields.optionalDigits("expires_at_ns"),
                    timeoutNanoseconds: try fields.optionalDigits("timeout_ns"),
                    reversalOf: try fields.optionalID("reversal_of"), state: kind == .pending ? .pending : .posted))
        case "transfer.committed":
            self = .transferCommitted(try fields.id("transfer"), amount: try fields.digits("amount"))
        case "transfer.voided":
            self = .transferVoided(try fields.id("transfer"))
        case "transfer.expired":
            self = .transferExpired(try fields.id("transfer"))
        default:
            throw Rejection(.invalidField, "\(type) is not a payment event type")
        }
    }
}
