/// What a payment event does to account balances: the few fields a balances fold needs,
/// read straight from the event's type and payload bytes.
///
/// ``decode(type:payload:)`` reads the transfer events' payloads as ``JSONWriter`` writes
/// them (a flat object of plain strings and nulls) in one pass without building a
/// ``PaymentEvent``: a rebuild reads millions of them. Anything else (escapes, lists, other
/// types, a field missing or malformed) goes through ``PaymentEvent/init(type:payload:)``,
/// so both accept and refuse exactly the same payloads, with the same messages.
public enum PaymentEffect: Sendable, Equatable {
    /// An account opened (or reopened): its balances start at zero.
    case opened(account: String, currency: String)
    /// A pending transfer holds `amount` on both accounts.
    case held(transfer: String, debit: String, credit: String, amount: UInt64)
    /// A posted transfer (or a reversal) moves `amount`.
    case posted(transfer: String, debit: String, credit: String, amount: UInt64)
    /// A pending transfer committed: its hold is released and `amount` posted.
    case committed(transfer: String, amount: UInt64)
    /// A pending transfer voided or expired: its hold is released.
    case released(transfer: String)
    /// No effect on balances (an account closed).
    case none

    /// The effect of the payment event `type` with `payload`.
    ///
    /// - Throws: ``Rejection`` `invalid_field` when the payload does not decode as that type.
    public static func decode(type: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) throws(Rejection) -> PaymentEffect {
        if let fields = Self.transferFields(type: type, payload: payload) { return fields.effect }
        let event = try PaymentEvent(type: String(decoding: type, as: UTF8.self), payload: Array(payload))
        return Self(event)
    }

    /// A transfer event's fields, read in place: each id is a range of the payload's bytes
    /// (valid as long as the payload is), checked as the full decoder checks it.
    public struct TransferFields {
        /// What the event does: `.held`, `.posted`, `.committed` or `.released` (its ids empty).
        public enum Kind: Sendable { case held, posted, committed, released }
        public let kind: Kind
        public let transfer: UnsafeRawBufferPointer
        /// For `.held` and `.posted`.
        public let debit: UnsafeRawBufferPointer
        /// For `.held` and `.posted`.
        public let credit: UnsafeRawBufferPointer
        /// For `.held`, `.posted` and `.committed`.
        public let amount: UInt64

        /// The same as a ``PaymentEffect``.
        public var effect: PaymentEffect {
            let transfer = String(decoding: self.transfer, as: UTF8.self)
            switch self.kind {
            case .held:
                return .held(transfer: transfer, debit: String(decoding: self.debit, as: UTF8.self), credit: String(decoding: self.credit, as: UTF8.self), amount: self.amount)
            case .posted:
                return .posted(transfer: transfer, debit: String(decoding: self.debit, as: UTF8.self), credit: String(decoding: self.credit, as: UTF8.self), amount: self.amount)
            case .committed: return .committed(transfer: transfer, amount: self.amount)
            case .released: return .released(transfer: transfer)
            }
        }
    }

    /// The fields of a transfer event in the writer's form, without building a string; `nil`
    /// for any other type or form (``decode(type:payload:)`` then asks the full decoder,
    /// which accepts or refuses it with its message).
    public static func transferFields(type: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer) -> TransferFields? {
        guard let kind = TransferType(type) else { return nil }
        return Self.fastTransfer(kind, payload)
    }

    /// The effect of a decoded event.
    public init(_ event: PaymentEvent) {
        switch event {
        case .accountOpened(let account): self = .opened(account: account.id.rawValue, currency: account.currency.rawValue)
        case .accountClosed: self = .none
        case .transferCreated(let transfer) where transfer.kind == .pending:
            self = .held(
                transfer: transfer.id.rawValue, debit: transfer.debitAccount.rawValue, credit: transfer.creditAccount.rawValue,
                amount: transfer.amount)
        case .transferCreated(let transfer):
            self = .posted(
                transfer: transfer.id.rawValue, debit: transfer.debitAccount.rawValue, credit: transfer.creditAccount.rawValue,
                amount: transfer.amount)
        case .transferCommitted(let id, let amount): self = .committed(transfer: id.rawValue, amount: amount)
        case .transferVoided(let id), .transferExpired(let id): self = .released(transfer: id.rawValue)
        }
    }

    /// The transfer types the fast path reads.
    private enum TransferType {
        case posted, pending, reversed, committed, voided, expired

        init?(_ type: UnsafeRawBufferPointer) {
            // "transfer." then the rest; compared on bytes, no String built.
            let prefix: StaticString = "transfer."
            guard type.count > prefix.utf8CodeUnitCount,
                PaymentEffect.equal(UnsafeRawBufferPointer(rebasing: type[..<prefix.utf8CodeUnitCount]), prefix)
            else { return nil }
            let rest = UnsafeRawBufferPointer(rebasing: type[prefix.utf8CodeUnitCount...])
            func equals(_ word: StaticString) -> Bool { PaymentEffect.equal(rest, word) }
            if equals("posted") { self = .posted } else if equals("pending") { self = .pending }
            else if equals("reversed") { self = .reversed } else if equals("committed") { self = .committed }
            else if equals("voided") { self = .voided } else if equals("expired") { self = .expired } else { return nil }
        }
    }

    /// The payload keys of the transfer events, each with the check the full decoder makes.
    private enum Key: Int, CaseIterable {
        case transfer, debitAccount, creditAccount, amount, currency, memo, externalRef, timeout, expiresAt, reversalOf

        var name: StaticString {
            switch self {
            case .transfer: "transfer"
            case .debitAccount: "debit_account"
            case .creditAccount: "credit_account"
            case .amount: "amount"
            case .currency: "currency"
            case .memo: "memo"
            case .externalRef: "external_ref"
            case .timeout: "timeout_ns"
            case .expiresAt: "expires_at_ns"
            case .reversalOf: "reversal_of"
            }
        }

        init?(_ bytes: UnsafeRawBufferPointer) {
            // Candidates by length first: most keys are told apart by it.
            func either(_ first: Key, _ second: Key? = nil) -> Key? {
                if PaymentEffect.equal(bytes, first.name) { return first }
                if let second, PaymentEffect.equal(bytes, second.name) { return second }
                return nil
            }
            let found: Key?
            switch bytes.count {
            case 4: found = either(.memo)
            case 6: found = either(.amount)
            case 8: found = either(.transfer, .currency)
            case 10: found = either(.timeout)
            case 11: found = either(.reversalOf)
            case 12: found = either(.externalRef)
            case 13: found = either(.debitAccount, .expiresAt)
            case 14: found = either(.creditAccount)
            default: found = nil
            }
            guard let key = found else { return nil }
            self = key
        }
    }

    /// A value's bytes between its quotes, or `nil` for JSON `null`.
    private typealias Value = UnsafeRawBufferPointer?

    /// The fast path, or `nil` to let the full decoder answer (and word any error).
    private static func fastTransfer(_ kind: TransferType, _ payload: UnsafeRawBufferPointer) -> TransferFields? {
        var values = InlineArray<10, Value?>(repeating: nil)
        guard Self.scan(payload, into: &values) else { return nil }
        func string(_ key: Key) -> UnsafeRawBufferPointer? { values[key.rawValue] ?? nil }
        func id(_ key: Key) -> UnsafeRawBufferPointer? {
            guard let bytes = string(key), Self.isID(bytes) else { return nil }
            return bytes
        }
        func digits(_ key: Key) -> UInt64? { string(key).flatMap(Self.digits) }
        // Optional fields the full decoder checks: a present digit field must be digits,
        // a present reversal_of an id, a present currency valid.
        if string(.timeout) != nil, digits(.timeout) == nil { return nil }
        if string(.expiresAt) != nil, digits(.expiresAt) == nil { return nil }
        guard let transfer = id(.transfer) else { return nil }
        let none = UnsafeRawBufferPointer(start: nil, count: 0)
        switch kind {
        case .posted, .pending, .reversed:
            if string(.reversalOf) != nil, id(.reversalOf) == nil { return nil }
            guard let debit = id(.debitAccount), let credit = id(.creditAccount), let amount = digits(.amount),
                let currency = string(.currency), Self.isCurrency(currency)
            else { return nil }
            return TransferFields(kind: kind == .pending ? .held : .posted, transfer: transfer, debit: debit, credit: credit, amount: amount)
        case .committed:
            guard let amount = digits(.amount) else { return nil }
            return TransferFields(kind: .committed, transfer: transfer, debit: none, credit: none, amount: amount)
        case .voided, .expired:
            return TransferFields(kind: .released, transfer: transfer, debit: none, credit: none, amount: 0)
        }
    }

    /// Reads a flat object of plain strings and nulls; `false` for anything else (escapes,
    /// lists, numbers, whitespace), which the full decoder then reads. Repeated keys: the
    /// last one wins, as there.
    private static func scan(_ bytes: UnsafeRawBufferPointer, into values: inout InlineArray<10, Value?>) -> Bool {
        var index = 0
        let count = bytes.count
        func take(_ byte: UInt8) -> Bool {
            guard index < count, bytes[index] == byte else { return false }
            index += 1
            return true
        }
        /// A quoted string without escapes: its bytes between the quotes.
        func plainString() -> UnsafeRawBufferPointer? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\") { return nil }
                index += 1
            }
            guard index < count else { return nil }
            index += 1
            return UnsafeRawBufferPointer(rebasing: bytes[start..<index - 1])
        }
        guard take(UInt8(ascii: "{")) else { return false }
        if take(UInt8(ascii: "}")) { return index == count }
        repeat {
            guard let key = plainString(), take(UInt8(ascii: ":")) else { return false }
            let value: Value
            if index + 4 <= count, bytes[index] == UInt8(ascii: "n") {
                guard bytes[index + 1] == UInt8(ascii: "u"), bytes[index + 2] == UInt8(ascii: "l"), bytes[index + 3] == UInt8(ascii: "l")
                else { return false }
                index += 4
                value = nil
            } else {
                guard let string = plainString() else { return false }
                value = string
            }
            if let known = Key(key) { values[known.rawValue] = .some(value) }
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}")) && index == count
    }

    /// Whether `bytes` are `word`'s.
    private static func equal(_ bytes: UnsafeRawBufferPointer, _ word: StaticString) -> Bool {
        guard bytes.count == word.utf8CodeUnitCount else { return false }
        let start = word.utf8Start
        for index in 0..<bytes.count where bytes[index] != start[index] { return false }
        return true
    }

    /// What ``DomainID`` accepts: 1 to 64 bytes of letters, digits and `. _ : -`.
    private static func isID(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard !bytes.isEmpty, bytes.count <= DomainID.bytesMax else { return false }
        return bytes.allSatisfy(DomainID.allowed)
    }

    /// What ``Currency`` accepts: 2 to 8 uppercase letters or digits.
    private static func isCurrency(_ bytes: UnsafeRawBufferPointer) -> Bool {
        (2...8).contains(bytes.count)
            && bytes.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
    }

    /// Decimal digits as `UInt64(String)` reads them (an optional `+`, no overflow), or `nil`.
    private static func digits(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        var slice = bytes[...]
        if slice.first == UInt8(ascii: "+") { slice = slice.dropFirst() }
        guard !slice.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in slice {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }
}
