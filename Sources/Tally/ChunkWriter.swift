import Dispatch
import Foundation
import TallyChecksum

/// The writing half of a two-thread file writer (``HashingCopy``, ``HashedFileOutput``): on
/// its own thread it computes the XXH3-64 (and, when asked, the SHA-256) of the chunks it is
/// handed, writes them in order, and frees their slots, while the producer fills the next
/// chunk on the other core. After a failed write it keeps freeing slots (so the producer
/// never blocks) and reports the first error.
///
/// Chunks come from buffers aligned for `O_DIRECT`; every chunk but the last must be a whole
/// number of 4 KiB blocks (the last one is written with `O_DIRECT` turned off).
final class ChunkWriter: @unchecked Sendable {
    // @unchecked: `queue` is guarded by `lock`; `error`, `xxh3` and `sha256` are written by
    // the writer thread before it signals `done` and read by the producer only after waiting on it.
    let free: DispatchSemaphore
    let done = DispatchSemaphore(value: 0)
    private let ready = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var queue: [UnsafeRawBufferPointer?] = []
    private(set) var error: RecoveryError?
    private(set) var xxh3 = XXH3Stream()
    private(set) var sha256: SHA256Stream?
    private let output: Int32
    private let target: String

    init(output: Int32, target: String, slots: Int, hashesSHA256: Bool) {
        self.output = output
        self.target = target
        self.free = DispatchSemaphore(value: slots)
        self.sha256 = hashesSHA256 ? SHA256Stream() : nil
    }

    /// Opens `path` for writing (created or truncated), with `O_DIRECT` where the filesystem
    /// allows it (tmpfs and some others refuse it); -1 with `errno` set when it cannot.
    static func openOutput(_ path: String) -> Int32 {
        let direct = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | HashingCopy.directFlag, 0o644)
        if direct < 0, errno == EINVAL { return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
        return direct
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
            self.sha256?.update(chunk)
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
