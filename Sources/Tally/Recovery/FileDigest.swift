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

    /// Reads `directory/path` once, in 1 MiB chunks into one reused buffer, and computes both
    /// checksums. (A fresh `Data` a chunk made the kernel's page faults and copies three
    /// quarters of the time; see docs/benchmarks.md.)
    public static func compute(_ path: String, in directory: String) throws -> FileDigest {
        let full = directory + "/" + path
        let input = open(full, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            throw RecoveryError(.io, "cannot read \(full): \(String(cString: strerror(errno)))", file: full)
        }
        defer { close(input) }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        var xxh3 = XXH3Stream()
        var sha256 = SHA256Stream()
        var bytes: UInt64 = 0
        while true {
            let count = read(input, buffer.baseAddress, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                throw RecoveryError(.io, "cannot read \(full) at byte \(bytes): \(String(cString: strerror(errno)))", file: full)
            }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            xxh3.update(chunk)
            sha256.update(chunk)
            bytes += UInt64(count)
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
