/// The outcome of ``EventLog/verify(progress:)``.
public struct VerifyReport: Sendable, Codable, Equatable {
    /// Records whose checksum and chain were checked.
    public var recordsChecked: UInt64
    /// Seals recomputed and compared.
    public var sealsChecked: UInt64
    /// Index entries checked against the log.
    public var indexEntriesChecked: UInt64
    /// The last position of the log.
    public var headPosition: UInt64
    /// The first bad position, when something failed.
    public var firstBadPosition: UInt64?
    /// Why it is bad.
    public var reason: String?

    /// Whether everything verified.
    public var isClean: Bool { self.reason == nil }

    enum CodingKeys: String, CodingKey {
        case recordsChecked = "records_checked"
        case sealsChecked = "seals_checked"
        case indexEntriesChecked = "index_entries_checked"
        case headPosition = "head_position"
        case firstBadPosition = "first_bad_position"
        case reason
    }
}
