import Foundation
import TallyChecksum

/// The file format of an incremental backup, `log.segment`: the exact record bytes after a
/// base's head and the seals of their commits, framed, with a checksummed trailer.
///
/// Little-endian throughout (docs/format.md has the table):
/// - header, 72 bytes: `TALLYSEG`, version u16 (1), 6 zero bytes, first position u64, the
///   checksum at the base's head u64, the base's seal head (32 bytes), 8 zero bytes;
/// - frames: kind u8 (1 record, 2 seal), 3 zero bytes, length u32, then the bytes (a
///   stored record; or first u64 ‖ last u64 ‖ the 32-byte seal);
/// - trailer, 40 bytes: `TALLYEND`, last position u64, records u64, seals u64, XXH3-64 of
///   every byte before the trailer.
public enum LogSegment {
    /// The segment's file name in a backup directory.
    public static let fileName = "log.segment"
    static let headerMagic = Array("TALLYSEG".utf8)
    static let trailerMagic = Array("TALLYEND".utf8)
    static let headerBytes = 72
    static let trailerBytes = 40
    static let recordFrame: UInt8 = 1
    static let sealFrame: UInt8 = 2
    static let frameHeaderBytes = 8
    /// A frame longer than this is damage, not data (records are at most ~1.1 MiB).
    static let frameBytesMax = 4 << 20
}

extension Array where Element == UInt8 {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { self.append(contentsOf: $0) }
    }

    func loadLE<T: FixedWidthInteger>(_: T.Type, at offset: Int) -> T {
        self.withUnsafeBytes { T(littleEndian: $0.loadUnaligned(fromByteOffset: offset, as: T.self)) }
    }
}

/// Writes a ``LogSegment`` file.
final class SegmentWriter {
    private let handle: FileHandle
    private let path: String
    private var buffer: [UInt8] = []
    private var checksum = XXH3Stream()
    private var records: UInt64 = 0
    private var seals: UInt64 = 0
    private var lastPosition: UInt64

    /// Creates `path` and writes the header for a segment after `base`.
    init(path: String, after base: LogHead) throws {
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw RecoveryError(.io, "cannot create \(path)", file: path)
        }
        self.handle = handle
        self.path = path
        self.lastPosition = base.position
        var header = LogSegment.headerMagic
        header.appendLE(UInt16(1))
        header.append(contentsOf: [UInt8](repeating: 0, count: 6))
        header.appendLE(base.position + 1)
        header.appendLE(base.checksum)
        header.append(contentsOf: base.seal)
        header.append(contentsOf: [UInt8](repeating: 0, count: 8))
        self.append(header)
    }

    func add(_ item: LogItem) throws {
        switch item {
        case .record(let bytes):
            self.frame(LogSegment.recordFrame, length: bytes.count)
            self.buffer.append(contentsOf: bytes)
            self.records += 1
            self.lastPosition += 1
        case .seal(let first, let last, let digest):
            self.frame(LogSegment.sealFrame, length: 48)
            self.buffer.appendLE(first)
            self.buffer.appendLE(last)
            self.buffer.append(contentsOf: digest)
            self.seals += 1
        }
        if self.buffer.count >= 1 << 20 { try self.flush() }
    }

    /// Writes the trailer, flushes and fsyncs.
    func finish() throws {
        try self.flush()
        var trailer = LogSegment.trailerMagic
        trailer.appendLE(self.lastPosition)
        trailer.appendLE(self.records)
        trailer.appendLE(self.seals)
        trailer.appendLE(self.checksum.digest())
        do {
            try self.handle.write(contentsOf: trailer)
            try self.handle.synchronize()
            try self.handle.close()
        } catch {
            throw RecoveryError(.io, "cannot write \(self.path): \(error.localizedDescription)", file: self.path)
        }
    }

    private func frame(_ kind: UInt8, length: Int) {
        self.buffer.append(contentsOf: [kind, 0, 0, 0])
        self.buffer.appendLE(UInt32(length))
    }

    private func append(_ bytes: [UInt8]) { self.buffer.append(contentsOf: bytes) }

    private func flush() throws {
        guard !self.buffer.isEmpty else { return }
        self.buffer.withUnsafeBytes { self.checksum.update($0) }
        do {
            try self.handle.write(contentsOf: self.buffer)
        } catch {
            throw RecoveryError(.io, "cannot write \(self.path): \(error.localizedDescription)", file: self.path)
        }
        self.buffer.removeAll(keepingCapacity: true)
    }
}
