import Foundation
import TallyChecksum

/// A file written on several cores: the caller appends bytes into 1 MiB chunks while
/// ``ChunkWriter``'s threads compute the XXH3-64 and SHA-256 of the chunks before and write
/// them (with `O_DIRECT` where the filesystem allows it). The audit export writes its lines
/// through one, so formatting and hashing overlap.
final class HashedFileOutput {
    static let chunkSize = 1 << 20
    static let chunks = 4

    private let path: String
    private let descriptor: Int32
    private let buffers: [UnsafeMutableRawBufferPointer]
    private let writer: ChunkWriter
    private var slot = 0
    private var filled = 0
    private var holding = false
    private var bytes: UInt64 = 0
    private var finished = false

    /// Creates (or truncates) `path` and starts the writer thread.
    init(path: String) throws(RecoveryError) {
        let descriptor = ChunkWriter.openOutput(path)
        guard descriptor >= 0 else { throw RecoveryError(.io, "cannot create \(path): \(String(cString: strerror(errno)))", file: path) }
        self.path = path
        self.descriptor = descriptor
        self.buffers = (0..<Self.chunks).map { _ in UnsafeMutableRawBufferPointer.allocate(byteCount: Self.chunkSize, alignment: 4096) }
        self.writer = ChunkWriter(output: descriptor, target: path, slots: Self.chunks, hashesSHA256: true)
        self.writer.start()
    }

    deinit {
        if !self.finished { _ = try? self.finish() }
        for buffer in self.buffers { buffer.deallocate() }
    }

    /// Copies `bytes` into the current chunk, handing each full chunk to the writer.
    func append(_ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            if !self.holding {
                self.writer.free.wait()
                self.holding = true
                self.filled = 0
            }
            let count = min(bytes.count - offset, Self.chunkSize - self.filled)
            guard let target = self.buffers[self.slot].baseAddress, let source = bytes.baseAddress else { return }
            (target + self.filled).copyMemory(from: source + offset, byteCount: count)
            self.filled += count
            offset += count
            if self.filled == Self.chunkSize { self.submit() }
        }
    }

    private func submit() {
        self.writer.submit(UnsafeRawBufferPointer(rebasing: self.buffers[self.slot][0..<self.filled]))
        self.bytes += UInt64(self.filled)
        self.slot = (self.slot + 1) % Self.chunks
        self.holding = false
    }

    /// Writes what is left, waits for the writer and closes the file; returns its size and
    /// checksums (`path` as given).
    func finish() throws(RecoveryError) -> FileDigest {
        self.finished = true
        if self.holding {
            if self.filled > 0 {
                self.submit()
            } else {
                self.writer.free.signal()
                self.holding = false
            }
        }
        self.writer.finish()
        self.writer.done.wait()
        close(self.descriptor)
        if let error = self.writer.error { throw error }
        return FileDigest(path: self.path, bytes: self.bytes, xxh3: XXH3.hex(self.writer.xxh3.digest()), sha256: self.writer.sha256?.hex() ?? "")
    }
}
