public import Foundation
import TallyChecksum

/// `manifest.json` of a backup directory: what the backup holds and how to check it.
///
/// A full backup holds `log/data.mdb` (a compacted copy of the log) and, when the ledger
/// had views, `views/data.mdb` (a snapshot of them); an incremental one holds
/// `log.segment` (the record bytes after its base's head) and maybe `views/data.mdb`.
/// `XXH3SUMS` and `SHA256SUMS` beside it list every file (the manifest too) for `xxhsum -c`
/// and `sha256sum -c`.
public struct BackupManifest: Sendable, Equatable, Codable {
    /// `full` or `incremental`.
    public enum Kind: String, Sendable, Codable { case full, incremental }

    /// What an incremental backup chains onto.
    public struct Base: Sendable, Equatable, Codable {
        /// The base's id.
        public var id: String
        /// The base's directory, relative to this backup's directory.
        public var path: String
        /// The base's head position.
        public var headPosition: UInt64
        /// The checksum of the record at the base's head, hex.
        public var chainHead: String

        enum CodingKeys: String, CodingKey {
            case id, path, headPosition = "head_position", chainHead = "chain_head"
        }
    }

    /// Where one projection of the views snapshot stood.
    public struct ProjectionCheckpoint: Sendable, Equatable, Codable {
        /// The last position applied.
        public var position: UInt64
        /// The projection version it was built with.
        public var version: UInt32
        /// The log's checksum at `position`, hex: the snapshot is used only where the log matches.
        public var checksum: String
    }

    /// Always `tally.backup`.
    public var format = "tally.backup"
    /// The manifest's format version (1).
    public var formatVersion = 1
    /// The Tally version that wrote it.
    public var toolVersion: String
    /// A unique id, named by backups that chain onto this one.
    public var id: String
    /// Full or incremental.
    public var kind: Kind
    /// When the backup was made, RFC 3339 UTC.
    public var createdAt: String
    /// The base of an incremental backup.
    public var base: Base?
    /// The first position this backup holds (1 for a full one).
    public var firstPosition: UInt64
    /// The last position it holds (its head; 0 for an empty ledger).
    public var headPosition: UInt64
    /// The checksum of the record at the head, hex.
    public var chainHead: String
    /// The seal of the last commit, hex.
    public var sealHead: String
    /// The recorded-at of the head record, RFC 3339 (absent for an empty ledger).
    public var headRecordedAt: String?
    /// The same, in nanoseconds since 1970 (exact; RFC 3339 parsers may round).
    public var headRecordedAtNanoseconds: UInt64?
    /// The projections' checkpoints in `views/data.mdb`, if the backup has a views snapshot.
    public var views: [String: ProjectionCheckpoint]?
    /// Every file of the backup but the manifest and the sums files.
    public var files: [FileDigest]

    enum CodingKeys: String, CodingKey {
        case format, formatVersion = "format_version", toolVersion = "tool_version", id, kind, createdAt = "created_at", base
        case firstPosition = "first_position", headPosition = "head_position", chainHead = "chain_head", sealHead = "seal_head"
        case headRecordedAt = "head_recorded_at", headRecordedAtNanoseconds = "head_recorded_at_ns", views, files
    }

    /// The manifest's file name.
    public static let fileName = "manifest.json"

    /// The head this backup ends at.
    public var head: LogHead? {
        guard let checksum = UInt64(self.chainHead, radix: 16), let seal = Hex.bytes(self.sealHead), seal.count == 32 else { return nil }
        return LogHead(
            position: self.headPosition, checksum: checksum, seal: seal,
            recordedAtNanoseconds: self.headRecordedAtNanoseconds ?? 0)
    }

    /// Reads `directory/manifest.json`.
    public static func read(from directory: String) throws -> BackupManifest {
        let path = directory + "/" + Self.fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RecoveryError(.backupNotFound, "\(directory) is not a backup: it has no \(Self.fileName)", file: path)
        }
        return try Self.decode(data, path: path)
    }

    /// Decodes the bytes of a backup manifest read from `path` (named in errors): throws
    /// ``RecoveryError`` `manifest_mismatch` when they are not JSON of this format, version 1.
    public static func decode(_ data: Data, path: String) throws -> BackupManifest {
        do {
            let manifest = try JSONDecoder().decode(BackupManifest.self, from: data)
            guard manifest.format == "tally.backup", manifest.formatVersion == 1 else {
                throw RecoveryError(
                    .manifestMismatch, "\(path) is format \(manifest.format) version \(manifest.formatVersion); this Tally reads tally.backup 1",
                    file: path)
            }
            return manifest
        } catch let error as RecoveryError {
            throw error
        } catch {
            throw RecoveryError(.manifestMismatch, "\(path) is not a valid backup manifest: \(error)", file: path)
        }
    }

    /// Writes `directory/manifest.json` and the sums files over every file plus the manifest.
    func write(to directory: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        do {
            try encoder.encode(self).write(to: URL(fileURLWithPath: directory + "/" + Self.fileName))
        } catch {
            throw RecoveryError(.io, "cannot write \(directory)/\(Self.fileName): \(error.localizedDescription)", file: directory)
        }
        try Backup.sync(directory + "/" + Self.fileName)
        try FileDigest.writeSums(self.files + [try FileDigest.compute(Self.fileName, in: directory)], in: directory)
        try Backup.sync(directory + "/SHA256SUMS")
        try Backup.sync(directory + "/XXH3SUMS")
        try Backup.sync(directory)
    }
}

/// Hex encoding of byte strings.
enum Hex {
    static func string(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef")
        var text = ""
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return text
    }

    static func bytes(_ text: String) -> [UInt8]? {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(characters.count / 2)
        var index = 0
        while index < characters.count {
            guard let high = Self.nibble(characters[index]), let low = Self.nibble(characters[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
