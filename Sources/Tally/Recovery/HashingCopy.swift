import Dispatch
import Foundation
import Synchronization
import TallyChecksum

/// Writes what a producer (LMDB's copy) sends into a pipe to a file, computing its XXH3-64
/// and SHA-256 on the way: the checksums cost no second read, they run on another core while
/// LMDB walks its B-trees, and a writer thread computes the XXH3 of the previous chunk and
/// puts it on disk while the next one is read and its SHA-256 computed.
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
        var direct = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | Self.directFlag, 0o644)
        if direct < 0, errno == EINVAL {  // tmpfs and some others refuse O_DIRECT
            direct = open(target, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        let output = direct
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
        let writer = ChunkWriter(output: output, target: target, slots: Self.chunks)
        let thread = Thread { writer.run() }
        thread.start()
        var sha256 = SHA256Stream()
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
            sha256.update(chunk)
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
        return FileDigest(path: path, bytes: bytes, xxh3: XXH3.hex(writer.xxh3.digest()), sha256: sha256.hex())
    }
}

/// The writing half of a ``HashingCopy``: computes the XXH3 of the chunks it is handed and
/// writes them, in order, and frees their slots (the reading half computes the SHA-256, so
/// the two hashes run on two cores). After a failed write it keeps freeing slots (so the reader never
/// blocks) and reports the first error.
private final class ChunkWriter: @unchecked Sendable {
    // @unchecked: `queue` is guarded by `lock`; `error` and `xxh3` are written by the
    // writer thread before it signals `done` and read by the reader only after waiting on it.
    let free: DispatchSemaphore
    let done = DispatchSemaphore(value: 0)
    private let ready = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var queue: [UnsafeRawBufferPointer?] = []
    private(set) var error: RecoveryError?
    private(set) var xxh3 = XXH3Stream()
    private let output: Int32
    private let target: String

    init(output: Int32, target: String, slots: Int) {
        self.output = output
        self.target = target
        self.free = DispatchSemaphore(value: slots)
    }

    func submit(_ chunk: UnsafeRawBufferPointer) {
        self.lock.withLock { self.queue.append(chunk) }
        self.ready.signal()
    }

    /// No more chunks: the writer ends after the queued ones.
    func finish() {
        self.lock.withLock { self.queue.append(nil) }
        self.ready.signal()
    }

    func run() {
        while true {
            self.ready.wait()
            let next = self.lock.withLock { self.queue.removeFirst() }
            guard let chunk = next else { break }
            self.xxh3.update(chunk)
            if self.error == nil { self.write(chunk) }
            self.free.signal()
        }
        self.done.signal()
    }

    private func write(_ chunk: UnsafeRawBufferPointer) {
        if chunk.count % 4096 != 0 {  // the last, short chunk: O_DIRECT needs whole blocks
            let flags = fcntl(self.output, F_GETFL)
            if flags >= 0 { _ = fcntl(self.output, F_SETFL, flags & ~HashingCopy.directFlag) }
        }
        var written = 0
        while written < chunk.count {
            let n = Glibc.write(self.output, chunk.baseAddress?.advanced(by: written), chunk.count - written)
            if n < 0, errno == EINTR { continue }
            guard n > 0 else {
                self.error = RecoveryError(.io, "cannot write \(self.target): \(String(cString: strerror(errno)))", file: self.target)
                return
            }
            written += n
        }
    }
}
