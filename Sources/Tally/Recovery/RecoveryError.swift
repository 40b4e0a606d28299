/// Why a backup, snapshot, restore or compaction was refused or failed.
///
/// `code` is stable (docs/rejections.md lists each); `message` says what is wrong and what
/// to do; `file` and `position` name where, when known.
public struct RecoveryError: Error, Sendable, CustomStringConvertible {
    /// A stable, snake_case code.
    public enum Code: String, Sendable {
        /// The directory holds no backup (`manifest.json` missing or unreadable).
        case backupNotFound = "backup_not_found"
        /// The manifest is malformed or disagrees with the files it describes.
        case manifestMismatch = "manifest_mismatch"
        /// A file's size, XXH3-64 or SHA-256 differs from the manifest.
        case fileChecksumMismatch = "file_checksum_mismatch"
        /// A segment ends before its trailer, or its framing is broken.
        case segmentTruncated = "segment_truncated"
        /// A segment does not start where its base ends, with the base's chain checksum.
        case segmentDoesNotChain = "segment_does_not_chain"
        /// Records or seals inside a backup do not verify.
        case corruption
        /// The target directory is not empty (restore without `--force`, or a backup into a
        /// used directory).
        case targetNotEmpty = "target_not_empty"
        /// The restore target lies outside what the backups hold.
        case targetOutOfRange = "target_out_of_range"
        /// The ledger moved on in a way the backup cannot follow (its log does not contain the base).
        case baseMismatch = "base_mismatch"
        /// A file could not be read or written.
        case io = "io_error"
    }

    /// What went wrong.
    public var code: Code
    /// A message a person can act on.
    public var message: String
    /// The file concerned, if any.
    public var file: String?
    /// The first bad position, if any.
    public var position: UInt64?

    /// Creates an error.
    public init(_ code: Code, _ message: String, file: String? = nil, position: UInt64? = nil) {
        self.code = code
        self.message = message
        self.file = file
        self.position = position
    }

    /// `code: message`.
    public var description: String { "\(self.code.rawValue): \(self.message)" }
}
