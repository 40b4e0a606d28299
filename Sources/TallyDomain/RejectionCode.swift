/// A stable, snake_case reason why the domain refused a command.
///
/// The raw value is what the CLI prints, the HTTP API returns and docs/rejections.md lists;
/// it never changes once published. The message beside it (in ``Rejection``) is for people.
public struct RejectionCode: Hashable, Sendable, CustomStringConvertible {
    /// The code as written in the CLI, HTTP problem details and docs.
    public let rawValue: String

    /// A code; use the named constants.
    public init(_ rawValue: String) { self.rawValue = rawValue }

    public var description: String { self.rawValue }

    /// No account has this id.
    public static let accountNotFound = RejectionCode("account_not_found")
    /// An account with this id and the same fields exists (the open was a retry).
    public static let accountExists = RejectionCode("account_exists")
    /// An account with this id exists with other fields.
    public static let accountExistsWithDifferentFields = RejectionCode("account_exists_with_different_fields")
    /// The account is closed: it takes no new transfers.
    public static let accountClosed = RejectionCode("account_closed")
    /// The account still has pending transfers, so it cannot be closed.
    public static let accountHasPendingTransfers = RejectionCode("account_has_pending_transfers")
    /// A transfer names the same account on both sides.
    public static let accountsMustBeDifferent = RejectionCode("accounts_must_be_different")
    /// The transfer's currency differs from an account's.
    public static let currencyMismatch = RejectionCode("currency_mismatch")
    /// A currency code is not 2 to 8 uppercase letters or digits.
    public static let invalidCurrency = RejectionCode("invalid_currency")
    /// An id, memo or reference is malformed; the message names the field.
    public static let invalidField = RejectionCode("invalid_field")
    /// A transfer amount of zero.
    public static let amountMustBePositive = RejectionCode("amount_must_be_positive")
    /// The debit would take an account with `debits_must_not_exceed_credits` below zero.
    public static let exceedsCredits = RejectionCode("exceeds_credits")
    /// The credit would take an account with `credits_must_not_exceed_debits` below zero.
    public static let exceedsDebits = RejectionCode("exceeds_debits")
    /// A balance would pass 2^64 - 1 minor units.
    public static let overflow = RejectionCode("overflow")
    /// A transfer with this id and the same fields exists (the command was a retry).
    public static let transferExists = RejectionCode("transfer_exists")
    /// A transfer with this id exists with other fields.
    public static let transferExistsWithDifferentFields = RejectionCode("transfer_exists_with_different_fields")
    /// No pending transfer has this id.
    public static let pendingTransferNotFound = RejectionCode("pending_transfer_not_found")
    /// The pending transfer was already committed, voided or expired.
    public static let pendingTransferAlreadyClosed = RejectionCode("pending_transfer_already_closed")
    /// The pending transfer's timeout passed before the commit or void.
    public static let pendingTransferExpired = RejectionCode("pending_transfer_expired")
    /// A commit asks for more than the pending amount.
    public static let amountExceedsPending = RejectionCode("amount_exceeds_pending")
    /// No posted transfer has the id a reversal names.
    public static let transferNotFound = RejectionCode("transfer_not_found")
    /// Only posted transfers (and committed pending ones) can be reversed.
    public static let transferNotReversible = RejectionCode("transfer_not_reversible")
    /// The reversals of a transfer would add up to more than its amount.
    public static let reversalExceedsOriginal = RejectionCode("reversal_exceeds_original")
    /// Another transfer of the same linked batch failed, so this one was not applied.
    public static let linkedEventFailed = RejectionCode("linked_event_failed")
    /// A timeout is zero or longer than the maximum.
    public static let invalidTimeout = RejectionCode("invalid_timeout")

    /// No deployment has this id.
    public static let deploymentNotFound = RejectionCode("deployment_not_found")
    /// A deployment with this id exists (with the same fields: the start was a retry).
    public static let deploymentExists = RejectionCode("deployment_exists")
    /// The deployment or service is not in a state that allows this step.
    public static let invalidTransition = RejectionCode("invalid_transition")
    /// This migration was already applied to this service.
    public static let migrationAlreadyApplied = RejectionCode("migration_already_applied")
    /// A health status other than healthy, degraded or unhealthy.
    public static let invalidStatus = RejectionCode("invalid_status")

    /// Every code with one line on what it means, in documentation order.
    public static let all: [(code: RejectionCode, meaning: String)] = [
        (.accountNotFound, "no account has this id"),
        (.accountExists, "an account with this id and the same fields exists; the open was a retry and changed nothing"),
        (.accountExistsWithDifferentFields, "an account with this id exists with other fields"),
        (.accountClosed, "the account is closed and takes no new transfers"),
        (.accountHasPendingTransfers, "the account has pending transfers; commit, void or let them expire before closing"),
        (.accountsMustBeDifferent, "a transfer names the same account as debit and credit"),
        (.currencyMismatch, "the transfer's currency differs from one of the accounts'"),
        (.invalidCurrency, "a currency code is not 2 to 8 uppercase letters or digits"),
        (.invalidField, "an id, agent, memo or reference is malformed; the message names the field"),
        (.amountMustBePositive, "the amount is zero"),
        (.exceedsCredits, "the debit would overdraw an account flagged debits_must_not_exceed_credits"),
        (.exceedsDebits, "the credit would overdraw an account flagged credits_must_not_exceed_debits"),
        (.overflow, "a balance would pass 2^64 - 1 minor units"),
        (.transferExists, "a transfer with this id and the same fields exists; the retry returns the original and writes nothing"),
        (.transferExistsWithDifferentFields, "a transfer with this id exists with other fields"),
        (.pendingTransferNotFound, "no pending transfer has this id"),
        (.pendingTransferAlreadyClosed, "the pending transfer was already committed, voided or expired"),
        (.pendingTransferExpired, "the pending transfer's timeout passed"),
        (.amountExceedsPending, "the commit asks for more than the pending amount"),
        (.transferNotFound, "the transfer a reversal names does not exist"),
        (.transferNotReversible, "only posted (or committed) transfers can be reversed, and reversals cannot be"),
        (.reversalExceedsOriginal, "the reversals of a transfer would add up to more than its amount"),
        (.linkedEventFailed, "another transfer of the same linked batch failed, so none was applied"),
        (.invalidTimeout, "a pending transfer's timeout is zero or longer than the maximum"),
        (.deploymentNotFound, "no deployment has this id"),
        (.deploymentExists, "a deployment with this id exists; with the same fields the start was a retry and changed nothing"),
        (.invalidTransition, "the deployment or service is not in a state that allows this step (e.g. succeed after fail)"),
        (.migrationAlreadyApplied, "this migration was already applied to this service"),
        (.invalidStatus, "a health status other than healthy, degraded or unhealthy"),
    ]
}

/// A refused command: a stable code and a message a person can act on.
public struct Rejection: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stable code.
    public var code: RejectionCode
    /// What was wrong and what to do.
    public var message: String

    /// A rejection with `code` and `message`.
    public init(_ code: RejectionCode, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(self.code): \(self.message)" }
}
