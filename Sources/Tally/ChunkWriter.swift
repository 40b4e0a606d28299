import Dispatch
import Foundation
import TallyChecksum

/// The writing half of a file writer on several cores (``HashingCopy``, ``HashedFileOutput``):
/// one thread computes the SHA-256 (when asked) of the chunks it is handed, another their
/// XXH3-64, and writes them, in order, and frees their slots, while the producer fills the
/// next chunk. Writes get their own thread because with `O_DIRECT` a write waits for the device:
/// on the hashing thread it kept the core idle for as long as the hashing took (an audit
/// export spent 65 ms of 140 in writes there).
///
/// After a failed write it keeps freeing slots (so the producer never blocks) and reports
/// the first error. Chunks come from buffers aligned for `O_DIRECT`; every chunk but the
/// last must be a whole number of 4 KiB blocks (the last one is written with `O_DIRECT`
/// turned off).
final class ChunkWriter: @unchecked Sendable {
    // @unchecked: the queues are locked; `error`, `xxh3` and `sha256` are written by the
    // threads before `done` is signalled and read by the producer only after waiting on it.
    let free: DispatchSemaphore
    let done = DispatchSemaphore(value: 0)
    private let toHash = ChunkQueue()
    private let toWrite = ChunkQueue()
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

    /// Starts the hashing and the writing thread.
    func start() {
        Thread { self.hashAll() }.start()
        Thread { self.writeAll() }.start()
    }

    func submit(_ chunk: UnsafeRawBufferPointer) { self.toHash.push(chunk) }

    /// No more chunks: the threads end after the queued ones, then `done` is signalled.
    func finish() { self.toHash.push(nil) }

    private func hashAll() {
        while let chunk = self.toHash.pop() {
            self.sha256?.update(chunk)
            self.toWrite.push(chunk)
        }
        self.toWrite.push(nil)
    }

    /// The XXH3 (fast: a tenth of the SHA-256's time) is taken here, on the thread that
    /// mostly waits for the device, so the hashing thread does the SHA-256 alone.
    private func writeAll() {
        while let chunk = self.toWrite.pop() {
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

/// A first-in first-out hand-over of chunks between two threads; `nil` ends it.
private final class ChunkQueue: @unchecked Sendable {
    // @unchecked: `items` is only touched under `lock`.
    private let lock = NSLock()
    private let ready = DispatchSemaphore(value: 0)
    private var items: [UnsafeRawBufferPointer?] = []
    private var head = 0

    func push(_ chunk: UnsafeRawBufferPointer?) {
        self.lock.withLock { self.items.append(chunk) }
        self.ready.signal()
    }

    /// Waits for the next chunk; `nil` at the end.
    func pop() -> UnsafeRawBufferPointer? {
        self.ready.wait()
        return self.lock.withLock {
            let chunk = self.items[self.head]
            self.head += 1
            if self.head == self.items.count {
                self.items.removeAll(keepingCapacity: true)
                self.head = 0
            }
            return chunk
        }
    }
}
