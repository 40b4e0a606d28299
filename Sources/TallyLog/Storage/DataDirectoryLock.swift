import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The lock that makes one process the writer of a data directory.
///
/// An exclusive `flock` on `<data>/writer.lock`, holding the writer's pid. The kernel
/// releases it when the process dies, even by SIGKILL, so a crashed writer never blocks
/// the next one. Read-only opens do not take it.
final class DataDirectoryLock: Sendable {
    private let fd: Int32
    let path: String

    private init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// Takes the lock or throws `locked` naming the holder's pid.
    static func acquire(directory: String) throws(LogError) -> DataDirectoryLock {
        let path = directory + "/writer.lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw LogError(.storage, "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno
            let holder = Self.readHolder(fd: fd)
            close(fd)
            if reason == EWOULDBLOCK {
                throw LogError(
                    .locked,
                    "data directory \(directory) is in use by process \(holder ?? "unknown") as its writer; "
                        + "stop that process, or open read-only (verify, stats and read work while it runs)")
            }
            throw LogError(.storage, "cannot lock \(path): \(String(cString: strerror(reason)))")
        }
        let pid = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = pid.withCString { pwrite(fd, $0, strlen($0), 0) }
        return DataDirectoryLock(fd: fd, path: path)
    }

    private static func readHolder(fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = pread(fd, &buffer, 31, 0)
        guard count > 0 else { return nil }
        let text = String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? nil : text
    }

    /// Releases the lock.
    func release() {
        _ = flock(self.fd, LOCK_UN)
        close(self.fd)
    }
}

extension EventLog {
    /// Runs `body` while holding the data directory's writer lock, so no other process
    /// writes meanwhile (offline maintenance such as compaction).
    ///
    /// - Throws: ``LogError`` `locked` naming the writer's pid, or what `body` throws.
    public static func withWriterLock<T>(directory: String, _ body: () async throws -> T) async throws -> T {
        let lock = try DataDirectoryLock.acquire(directory: directory)
        defer { lock.release() }
        return try await body()
    }
}
