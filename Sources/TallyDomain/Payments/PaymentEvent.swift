/// The payment facts the log records, one event each.
///
/// Streams: `account-<id>` for account events, `transfer-<id>` for everything a transfer
/// goes through (created, then at most one of committed, voided, expired). Payloads are JSON
/// objects with a fixed key order (documented in docs/format.md); amounts and times are
/// strings of decimal digits so no JSON reader loses precision.
public enum PaymentEvent: Hashable, Sendable {
    case accountOpened(Account)
    case accountClosed(DomainID)
    /// A posted transfer, a pending one (`kind == .pending`) or a reversal.
    case transferCreated(Transfer)
    case transferCommitted(DomainID, amount: UInt64)
    case transferVoided(DomainID)
    case transferExpired(DomainID)

    /// The event type.
    public var type: String {
        switch self {
        case .accountOpened: "account.opened"
        case .accountClosed: "account.closed"
        case .transferCreated(let transfer):
            switch transfer.kind {
            case .posted: "transfer.posted"
            case .pending: "transfer.pending"
            case .reversal: "transfer.reversed"
            }
        case .transferCommitted: "transfer.committed"
        case .transferVoided: "transfer.voided"
        case .transferExpired: "transfer.expired"
        }
    }

    /// Every type this enum encodes.
    public static let types: Set<String> = [
        "account.opened", "account.closed", "transfer.posted", "transfer.pending", "transfer.reversed",
        "transfer.committed", "transfer.voided", "transfer.expired",
    ]

    /// The stream the event belongs to.
    public var streamID: String {
        switch self {
        case .accountOpened(let account): Self.accountStream(account.id)
        case .accountClosed(let id): Self.accountStream(id)
        case .transferCreated(let transfer): Self.transferStream(transfer.id)
        case .transferCommitted(let id, _), .transferVoided(let id), .transferExpired(let id): Self.transferStream(id)
        }
    }

    /// Its version in that stream: 0 for the opening event, 1 for the closing one.
    public var streamVersion: UInt64 {
        switch self {
        case .accountOpened, .transferCreated: 0
        case .accountClosed, .transferCommitted, .transferVoided, .transferExpired: 1
        }
    }

    public static func accountStream(_ id: DomainID) -> String { "account-\(id.rawValue)" }
    public static func transferStream(_ id: DomainID) -> String { "transfer-\(id.rawValue)" }

    /// The stream id prefixes of the payments domain: accounts and transfers.
    public static let streamPrefixes = ["account-", "transfer-"]

    /// Whether `streamID` belongs to the payments domain (only the domain may append there).
    public static func isPaymentStream(_ streamID: String) -> Bool {
        streamID.hasPrefix("account-") || streamID.hasPrefix("transfer-")
    }
}
