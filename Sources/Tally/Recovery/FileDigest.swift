import Foundation
import TallyChecksum

/// A file's size and checksums as a backup manifest records them.
public struct FileDigest: Sendable, Equatable, Codable {
    /// The path relative to the backup directory.
    public var path: String
    /// The size in bytes.
    public var bytes: UInt64
    /// XXH3-64, 16 hex digits (what `xxhsum -H3` prints).
    public var xxh3: String
    /// SHA-256, 64 hex digits (what `sha256sum` prints).
    public var sha256: String

    /// Reads `directory/path` once, in 1 MiB chunks, and computes both checksums.
    public static func compute(_ path: String, in directory: String) throws -> FileDigest {
        let full = directory + "/" + path
        guard let handle = FileHandle(forReadingAtPath: full) else {
            throw RecoveryError(.io, "cannot read \(full)", file: full)
        }
        defer { try? handle.close() }
        var xxh3 = XXH3Stream()
        var sha256 = SHA256Stream()
        var bytes: UInt64 = 0
        while true {
            let chunk = handle.readData(ofLength: 1 << 20)
            if chunk.isEmpty { break }
            bytes += UInt64(chunk.count)
            chunk.withUnsafeBytes { xxh3.update($0) }
            chunk.withUnsafeBytes { sha256.update($0) }
        }
        return FileDigest(path: path, bytes: bytes, xxh3: XXH3.hex(xxh3.digest()), sha256: sha256.hex())
    }

    /// Writes `XXH3SUMS` and `SHA256SUMS` into `directory`, in the formats `xxhsum -c` and
    /// `sha256sum -c` check (run them inside the directory).
    static func writeSums(_ digests: [FileDigest], in directory: String) throws {
        let xxh = digests.map { "XXH3 (\($0.path)) = \($0.xxh3)\n" }.joined()
        let sha = digests.map { "\($0.sha256)  \($0.path)\n" }.joined()
        do {
            try xxh.write(toFile: directory + "/XXH3SUMS", atomically: true, encoding: .utf8)
            try sha.write(toFile: directory + "/SHA256SUMS", atomically: true, encoding: .utf8)
        } catch {
            throw RecoveryError(.io, "cannot write the checksum files in \(directory): \(error.localizedDescription)", file: directory)
        }
    }
}
