import Foundation
import TallyChecksum

/// Reads and checks a ``LogSegment`` file as a stream: the header, every frame (record
/// checksums, positions, the chain, each commit's seal recomputed), the trailer (counts and
/// the XXH3-64 of the file before it). Any damage throws a ``RecoveryError`` naming the
/// file, the byte offset and the first position concerned.
final class SegmentReader {
    let path: String
    /// The first position the segment holds (its base's head + 1).
    let firstPosition: UInt64
    /// The head the segment chains onto: position, checksum and seal of its base.
    let base: LogHead
    /// The head after the items read so far.
    private(set) var head: LogHead
    /// Set once the trailer has been read and checked.
    private(set) var finished = false

    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private var bufferOffset = 0
    private var fileOffset: UInt64 = 0
    private var checksum = XXH3Stream()
    private var records: UInt64 = 0
    private var seals: UInt64 = 0
    private var seal: SealChain?
    private var commitFirst: UInt64 = 0

    init(path: String) throws {
        self.path = path
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw RecoveryError(.backupNotFound, "cannot read \(path)", file: path)
        }
        self.handle = handle
        var header: [UInt8] = []
        if let bytes = try Self.read(handle, LogSegment.headerBytes, path: path) { header = bytes }
        guard header.count == LogSegment.headerBytes else {
            throw RecoveryError(.segmentTruncated, "\(path) is truncated: it ends inside its \(LogSegment.headerBytes)-byte header", file: path)
        }
        guard Array(header[0..<8]) == LogSegment.headerMagic, header.loadLE(UInt16.self, at: 8) == 1 else {
            throw RecoveryError(.manifestMismatch, "\(path) is not a Tally log segment (version 1): its header is wrong at byte 0", file: path)
        }
        self.firstPosition = header.loadLE(UInt64.self, at: 16)
        guard self.firstPosition > 0 else {
            throw RecoveryError(.corruption, "\(path) names first position 0 in its header (byte 16)", file: path)
        }
        self.base = LogHead(
            position: self.firstPosition - 1, checksum: header.loadLE(UInt64.self, at: 24), seal: Array(header[32..<64]),
            recordedAtNanoseconds: 0)
        self.head = self.base
        header.withUnsafeBytes { self.checksum.update($0) }
        self.fileOffset = UInt64(LogSegment.headerBytes)
    }

    deinit { try? self.handle.close() }

    /// The next items, up to `limit` records; empty once the trailer has been checked.
    func next(limit: Int = 10_000) throws -> [LogImporter.Item] {
        var items: [LogImporter.Item] = []
        var count = 0
        while !self.finished, count < limit {
            guard let kind = try self.take(1)?.first else {
                throw self.truncated("it ends at byte \(self.fileOffset) without its trailer")
            }
            if kind == LogSegment.trailerMagic[0] {
                try self.readTrailer()
                break
            }
            guard kind == LogSegment.recordFrame || kind == LogSegment.sealFrame, let rest = try self.take(7), rest.count == 7 else {
                if kind != LogSegment.recordFrame && kind != LogSegment.sealFrame {
                    throw RecoveryError(
                        .corruption, "\(self.path) has an unknown frame kind \(kind) at byte \(self.fileOffset - 1), after position \(self.head.position)",
                        file: self.path, position: self.head.position + 1)
                }
                throw self.truncated("it ends inside a frame header at byte \(self.fileOffset)")
            }
            let length = Int([UInt8](rest[3..<7]).loadLE(UInt32.self, at: 0))
            guard length <= LogSegment.frameBytesMax else {
                throw RecoveryError(
                    .corruption, "\(self.path) has a frame of \(length) bytes at byte \(self.fileOffset - 8), after position \(self.head.position)",
                    file: self.path, position: self.head.position + 1)
            }
            guard let bytes = try self.take(length), bytes.count == length else {
                throw self.truncated("it ends inside the frame of position \(self.head.position + 1) (byte \(self.fileOffset))")
            }
            if kind == LogSegment.recordFrame {
                try self.check(record: bytes)
                items.append(.record(bytes))
                count += 1
            } else {
                items.append(.endCommit(expectedSeal: try self.check(seal: bytes)))
            }
        }
        return items
    }

    private func check(record bytes: [UInt8]) throws {
        let expected = self.head.position + 1
        let (checksum, recordedAt) = try bytes.withUnsafeBytes { raw throws -> (UInt64, UInt64) in
            guard let view = try? RecordView(raw), view.position == expected, view.computeChecksum() == view.storedChecksum else {
                throw RecoveryError(
                    .corruption, "\(self.path): the record of position \(expected) (byte \(self.fileOffset - UInt64(bytes.count))) fails its checksum or is malformed",
                    file: self.path, position: expected)
            }
            guard view.previousChecksum == self.head.checksum else {
                throw RecoveryError(
                    .corruption, "\(self.path): record \(expected) does not chain onto record \(expected - 1)", file: self.path, position: expected)
            }
            if self.seal == nil {
                self.seal = SealChain(previous: self.head.seal, first: expected)
                self.commitFirst = expected
            }
            self.seal?.add(raw)
            return (view.storedChecksum, view.recordedAtNanoseconds)
        }
        self.head.position = expected
        self.head.checksum = checksum
        self.head.recordedAtNanoseconds = recordedAt
        self.records += 1
    }

    private func check(seal bytes: [UInt8]) throws -> [UInt8] {
        // The length first: a short frame (a damaged file) must be refused, not read past.
        guard bytes.count == 48 else {
            throw RecoveryError(
                .corruption, "\(self.path): the seal frame at byte \(self.fileOffset - UInt64(bytes.count)) has \(bytes.count) bytes, not 48",
                file: self.path, position: self.head.position)
        }
        let first = bytes.loadLE(UInt64.self, at: 0)
        let last = bytes.loadLE(UInt64.self, at: 8)
        let stored = Array(bytes[16..<48])
        guard let chain = self.seal.take(), first == self.commitFirst, last == self.head.position else {
            throw RecoveryError(
                .corruption, "\(self.path): a seal frame at byte \(self.fileOffset - UInt64(bytes.count)) does not close the records before it",
                file: self.path, position: self.head.position)
        }
        let digest = chain.finish()
        guard digest == stored else {
            throw RecoveryError(
                .corruption, "\(self.path): the seal of positions \(first)...\(last) does not match its records", file: self.path,
                position: first)
        }
        self.head.seal = digest
        self.seals += 1
        return digest
    }

    private func readTrailer() throws {
        // The magic's first byte is already consumed; the trailer covers what came before it.
        let digest = self.pendingDigest
        guard let rest = try self.take(LogSegment.trailerBytes - 1), rest.count == LogSegment.trailerBytes - 1 else {
            throw self.truncated("it ends inside its trailer")
        }
        let trailer = [LogSegment.trailerMagic[0]] + rest
        guard Array(trailer[0..<8]) == LogSegment.trailerMagic else {
            throw RecoveryError(.corruption, "\(self.path): the trailer at byte \(self.fileOffset - 40) is damaged", file: self.path)
        }
        let last = trailer.loadLE(UInt64.self, at: 8)
        let records = trailer.loadLE(UInt64.self, at: 16)
        let seals = trailer.loadLE(UInt64.self, at: 24)
        guard trailer.loadLE(UInt64.self, at: 32) == digest else {
            throw RecoveryError(.corruption, "\(self.path): the trailer's XXH3-64 does not match the segment's bytes", file: self.path)
        }
        guard last == self.head.position, records == self.records, seals == self.seals, self.seal == nil else {
            throw RecoveryError(
                .corruption,
                "\(self.path): the trailer says \(records) records and \(seals) seals up to position \(last); the segment holds \(self.records) and \(self.seals) up to \(self.head.position)",
                file: self.path, position: self.head.position)
        }
        guard try self.take(1) == nil else {
            throw RecoveryError(.corruption, "\(self.path) has bytes after its trailer (byte \(self.fileOffset))", file: self.path)
        }
        self.finished = true
    }

    /// The XXH3 of the bytes before the last frame-kind byte that could start the trailer.
    private var pendingDigest: UInt64 = 0

    /// Takes `count` bytes (fewer at the end of the file, `nil` if none is left).
    private func take(_ count: Int) throws -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            if self.bufferOffset == self.buffer.count {
                guard let chunk = try Self.read(self.handle, 4 << 20, path: self.path), !chunk.isEmpty else { break }
                self.buffer = chunk
                self.bufferOffset = 0
            }
            let n = min(count - result.count, self.buffer.count - self.bufferOffset)
            result.append(contentsOf: self.buffer[self.bufferOffset..<(self.bufferOffset + n)])
            self.bufferOffset += n
        }
        guard !result.isEmpty else { return nil }
        // Everything before the trailer is covered by its checksum; remember the digest
        // before each byte that could start the trailer.
        if count == 1, result[0] == LogSegment.trailerMagic[0] { self.pendingDigest = self.checksum.digest() }
        result.withUnsafeBytes { self.checksum.update($0) }
        self.fileOffset += UInt64(result.count)
        return result
    }

    private func truncated(_ detail: String) -> RecoveryError {
        RecoveryError(
            .segmentTruncated,
            "\(self.path) is truncated: \(detail); the last complete record is position \(self.head.position). Take the incremental backup again",
            file: self.path, position: self.head.position + 1)
    }

    private static func read(_ handle: FileHandle, _ count: Int, path: String) throws -> [UInt8]? {
        do {
            guard let data = try handle.read(upToCount: count) else { return nil }
            return [UInt8](data)
        } catch {
            throw RecoveryError(.io, "cannot read \(path): \(error.localizedDescription)", file: path)
        }
    }
}
