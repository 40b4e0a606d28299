import Dispatch
import Foundation
import NIOConcurrencyHelpers
import TallyChecksum

/// Writes what a producer (LMDB's copy) sends into a pipe to a file, computing its XXH3-64
/// and SHA-256 on the way: the checksums cost no second read. Three threads beside LMDB's:
/// one reads the pipe into chunks, one computes their SHA-256 and nothing else (it is the
/// slowest stage: about as long as LMDB's whole copy), one their XXH3 and the writes.
/// (With the reads on the SHA-256 thread, `tally backup create` of a 1 M-event log took
/// 0.37-0.53 s, median 0.39; apart, 0.32-0.45 s, median 0.365, eight alternating runs each.)
///
/// The file is written with `O_DIRECT` where the filesystem allows it, as `mdb_copy` does:
/// a copy the size of the ledger then goes straight to the disk instead of first filling the
/// page cache (on the machine of docs/benchmarks.md, copying 433 MB into the page cache was
/// two thirds of a backup's time).
enum HashingCopy {
    /// Chunks of 1 MiB, aligned for `O_DIRECT`.
    static let chunkSize = 1 << 20
    /// Chunks in flight between the hashing and the writing thread.
    static let chunks = 3

    /// Runs `produce` with the pipe's write end on its own thread and copies the pipe to
    /// `directory/path`, fsynced. Returns the file's digest.
    static func run(into directory: String, path: String, _ produce: @escaping @Sendable (Int32) throws -> Void) async throws -> FileDigest {
        let target = directory + "/" + path
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw RecoveryError(.io, "cannot create a pipe: \(String(cString: strerror(errno)))", file: target) }
        let (readEnd, writeEnd) = (fds[0], fds[1])
        // A 1 MiB pipe instead of 64 KiB: far fewer wake-ups between LMDB's writer and us.
        _ = fcntl(writeEnd, 1031, Int32(Self.chunkSize))  // F_SETPIPE_SZ (Linux; not exported to Swift)
        let output = ChunkWriter.openOutput(target)
        guard output >= 0 else {
            close(readEnd)
            close(writeEnd)
            throw RecoveryError(.io, "cannot create \(target): \(String(cString: strerror(errno)))", file: target)
        }
        let producerError = NIOLockedValueBox<(any Error)?>(nil)
        let producer = Thread {
            do { try produce(writeEnd) } catch { producerError.withLockedValue { $0 = error } }
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
        if let error = producerError.withLockedValue({ $0 }) { throw error }
        return try result.get()
    }

    /// `O_DIRECT`, which Swift's Glibc module does not export (it is behind `_GNU_SOURCE`).
    static var directFlag: Int32 {
        #if os(Linux) && arch(x86_64)
            return 0o40000
        #elseif os(Linux) && arch(arm64)
            return 0o200000
        #else
            return 0
        #endif
    }

    private static func drain(_ input: Int32, into output: Int32, target: String, path: String) throws -> FileDigest {
        let buffers = (0..<Self.chunks).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 4096) }
        defer { for buffer in buffers { buffer.deallocate() } }
        let writer = ChunkWriter(output: output, target: target, slots: Self.chunks, hashesSHA256: true)
        writer.start()
        var bytes: UInt64 = 0
        var slot = 0
        var failure: RecoveryError?
        reading: while true {
            writer.free.wait()
            let buffer = buffers[slot]
            var count = 0
            while count < buffer.count {  // fill the whole chunk: O_DIRECT writes whole blocks
                let n = read(input, buffer.baseAddress?.advanced(by: count), buffer.count - count)
                if n < 0, errno == EINTR { continue }
                if n < 0 {
                    failure = RecoveryError(.io, "cannot read the copy of \(path): \(String(cString: strerror(errno)))", file: target)
                    writer.free.signal()
                    break reading
                }
                if n == 0 { break }
                count += n
            }
            if count == 0 {
                writer.free.signal()
                break
            }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            bytes += UInt64(count)
            writer.submit(chunk)
            slot = (slot + 1) % Self.chunks
            if count < buffer.count { break }
        }
        writer.finish()
        writer.done.wait()
        if let failure { throw failure }
        if let error = writer.error { throw error }
        guard fsync(output) == 0 else { throw RecoveryError(.io, "fsync of \(target) failed: \(String(cString: strerror(errno)))", file: target) }
        guard let sha256 = writer.sha256 else { preconditionFailure("the writer was asked for the SHA-256") }
        return FileDigest(path: path, bytes: bytes, xxh3: XXH3.hex(writer.xxh3.digest()), sha256: sha256.hex())
    }
}
