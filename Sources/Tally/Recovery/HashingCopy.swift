import Foundation
import Synchronization
import TallyChecksum

/// Writes what a producer (LMDB's copy) sends into a pipe to a file, computing its XXH3-64
/// and SHA-256 on the way: the checksums cost no second read, and they run on another core
/// while LMDB walks its B-trees.
enum HashingCopy {
    /// Runs `produce` with the pipe's write end on its own thread and copies the pipe to
    /// `directory/path`, fsynced. Returns the file's digest.
    static func run(into directory: String, path: String, _ produce: @escaping @Sendable (Int32) throws -> Void) async throws -> FileDigest {
        let target = directory + "/" + path
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw RecoveryError(.io, "cannot create a pipe: \(String(cString: strerror(errno)))", file: target) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // A 1 MiB pipe instead of 64 KiB: far fewer wake-ups between LMDB's writer and us.
        _ = fcntl(writeEnd, 1031, Int32(1 << 20))  // F_SETPIPE_SZ (Linux; not exported to Swift)
        let output = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard output >= 0 else {
            close(readEnd)
            close(writeEnd)
            throw RecoveryError(.io, "cannot create \(target): \(String(cString: strerror(errno)))", file: target)
        }
        let producerError = Mutex<(any Error)?>(nil)
        let producer = Thread {
            do { try produce(writeEnd) } catch { producerError.withLock { $0 = error } }
            close(writeEnd)
        }
        producer.start()
        let result: Result<FileDigest, any Error> = await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(returning: Result { try Self.drain(readEnd, into: output, target: target, path: path) })
            }
        }
        close(readEnd)
        close(output)
        if let error = producerError.withLock({ $0 }) { throw error }
        return try result.get()
    }

    private static func drain(_ input: Int32, into output: Int32, target: String, path: String) throws -> FileDigest {
        var xxh3 = XXH3Stream()
        var sha256 = SHA256Stream()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var bytes: UInt64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else { throw RecoveryError(.io, "cannot read the copy of \(path): \(String(cString: strerror(errno)))", file: target) }
            if count == 0 { break }
            try buffer.withUnsafeBytes { raw in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[0..<count])
                xxh3.update(chunk)
                sha256.update(chunk)
                var written = 0
                while written < count {
                    let n = write(output, chunk.baseAddress?.advanced(by: written), count - written)
                    if n < 0, errno == EINTR { continue }
                    guard n > 0 else { throw RecoveryError(.io, "cannot write \(target): \(String(cString: strerror(errno)))", file: target) }
                    written += n
                }
            }
            bytes += UInt64(count)
        }
        guard fsync(output) == 0 else { throw RecoveryError(.io, "fsync of \(target) failed: \(String(cString: strerror(errno)))", file: target) }
        return FileDigest(path: path, bytes: bytes, xxh3: XXH3.hex(xxh3.digest()), sha256: sha256.hex())
    }
}
