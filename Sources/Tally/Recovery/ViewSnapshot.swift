import Foundation
import TallyChecksum

/// Snapshots of `<data>/views`: compacted copies tagged with each projection's checkpoint
/// and the log's checksum there, in `<data>/snapshots/<name>/` (`views/data.mdb` and
/// `manifest.json`). Replay and restore start from the newest snapshot that matches the log,
/// never from one that does not.
public enum ViewSnapshot {
    /// `manifest.json` of a snapshot.
    public struct Manifest: Sendable, Equatable, Codable {
        /// Always `tally.snapshot`.
        public var format = "tally.snapshot"
        /// The manifest's format version (1).
        public var formatVersion = 1
        /// When it was taken, RFC 3339 UTC.
        public var createdAt: String
        /// The log head when it was taken.
        public var logPosition: UInt64
        /// Each projection's checkpoint in the copy, with the log's checksum there.
        public var projections: [String: BackupManifest.ProjectionCheckpoint]
        /// The copy's size and checksums.
        public var file: FileDigest

        enum CodingKeys: String, CodingKey {
            case format, formatVersion = "format_version", createdAt = "created_at", logPosition = "log_position", projections, file
        }

        /// The lowest checkpoint: replay after installing it starts here at the latest.
        public var position: UInt64 { self.projections.values.map(\.position).min() ?? 0 }
    }

    /// A snapshot on disk.
    public struct Entry: Sendable {
        /// Its directory.
        public var path: String
        /// Its manifest.
        public var manifest: Manifest
    }

    /// The snapshots directory of a data directory.
    public static func directory(in data: String) -> String { data + "/snapshots" }

    /// Takes a snapshot of the views of `log`'s data directory: from `views` when this
    /// process has them open (a server), otherwise by opening them read-only.
    ///
    /// - Throws: ``RecoveryError`` `io_error`, or `not_initialized` when there are no views yet.
    @discardableResult
    public static func create(log: EventLog, views: ViewStore? = nil) throws -> Entry {
        let data = log.directory
        let stamp = RFC3339.format(nanoseconds: wallClockNow()).filter { $0.isNumber }
        let staging = Self.directory(in: data) + "/.partial-\(stamp)"
        try? FileManager.default.removeItem(atPath: staging)
        try Backup.makeDirectory(staging + "/views")
        do {
            if let views {
                try views.copy(to: staging + "/views")
            } else {
                guard try ViewStore.copy(dataDirectory: data, to: staging + "/views") else {
                    throw RecoveryError(.io, "\(data) has no views yet: run `tally projections` (or the server) first", file: data + "/views")
                }
            }
            let projections = try Self.checkpoints(ofCopyAt: staging + "/views", log: log)
            let manifest = Manifest(
                createdAt: RFC3339.format(nanoseconds: wallClockNow()), logPosition: log.headPosition, projections: projections,
                file: try FileDigest.compute("views/data.mdb", in: staging))
            let name = String(format: "%020llu-%@", manifest.position, String(stamp.prefix(20)))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            try encoder.encode(manifest).write(to: URL(fileURLWithPath: staging + "/manifest.json"))
            let final = Self.directory(in: data) + "/" + name
            try FileManager.default.moveItem(atPath: staging, toPath: final)
            return Entry(path: final, manifest: manifest)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            if error is RecoveryError { throw error }
            throw RecoveryError(.io, "cannot take a snapshot of \(data)/views: \(error)", file: data + "/views")
        }
    }

    /// The snapshots of `data`, newest (highest checkpoint) first.
    public static func list(data: String) -> [Entry] {
        let root = Self.directory(in: data)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        let entries = names.filter { !$0.hasPrefix(".") }.compactMap { name -> Entry? in
            let path = root + "/" + name
            guard let bytes = FileManager.default.contents(atPath: path + "/manifest.json"),
                let manifest = try? JSONDecoder().decode(Manifest.self, from: bytes)
            else { return nil }
            return Entry(path: path, manifest: manifest)
        }
        return entries.sorted { ($0.manifest.position, $0.manifest.createdAt) > ($1.manifest.position, $1.manifest.createdAt) }
    }

    /// Deletes all but the newest `keep` snapshots; returns the deleted paths.
    @discardableResult
    public static func prune(data: String, keep: Int) throws -> [String] {
        let doomed = Self.list(data: data).dropFirst(max(0, keep)).map(\.path)
        for path in doomed {
            do { try FileManager.default.removeItem(atPath: path) } catch {
                throw RecoveryError(.io, "cannot delete \(path): \(error.localizedDescription)", file: path)
            }
        }
        return Array(doomed)
    }

    /// Each projection's checkpoint in the views copy at `directory`, with `log`'s checksum
    /// at that position.
    static func checkpoints(ofCopyAt directory: String, log: EventLog) throws -> [String: BackupManifest.ProjectionCheckpoint] {
        var result: [String: BackupManifest.ProjectionCheckpoint] = [:]
        for (name, meta) in try ViewStore.metas(ofCopyAt: directory) {
            guard let version = meta.version else { continue }
            guard let checksum = try log.checksum(at: meta.position) else {
                throw RecoveryError(
                    .corruption, "the views copy says \(name) applied position \(meta.position), which the log does not have",
                    file: directory, position: meta.position)
            }
            result[name] = BackupManifest.ProjectionCheckpoint(position: meta.position, version: version, checksum: XXH3.hex(checksum))
        }
        return result
    }

    /// Whether every checkpoint names a position `log` has, with the same checksum there.
    public static func matches(_ checkpoints: [String: BackupManifest.ProjectionCheckpoint], log: EventLog) -> Bool {
        !checkpoints.isEmpty
            && checkpoints.values.allSatisfy { checkpoint in
                (try? log.checksum(at: checkpoint.position)).flatMap { $0 }.map { XXH3.hex($0) == checkpoint.checksum } ?? false
            }
    }

    /// Replaces `<data>/views` with the copy in `viewsDirectory` (`data.mdb`). The views
    /// must not be open anywhere.
    static func install(_ viewsDirectory: String, into data: String) throws {
        let target = ViewStore.path(in: data)
        do {
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.createDirectory(atPath: target, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: viewsDirectory + "/data.mdb", toPath: target + "/data.mdb")
        } catch {
            throw RecoveryError(.io, "cannot install the views snapshot \(viewsDirectory) into \(target): \(error.localizedDescription)", file: target)
        }
    }
}

extension Ledger {
    /// Rebuilds every built-in projection: from the newest snapshot in `<data>/snapshots`
    /// that matches the log (then the events after it), or from position 1 when none does or
    /// `fromScratch`. The views must not be open in another process.
    ///
    /// - Returns: the snapshot used (`nil`: replayed from position 1) and each projection's status.
    public func replayAll(fromScratch: Bool = false, progress: (UInt64, UInt64) -> Void = { _, _ in }) async throws
        -> (snapshot: String?, status: [ProjectionStatus])
    {
        let snapshot = fromScratch ? nil : ViewSnapshot.list(data: self.log.directory).first { ViewSnapshot.matches($0.manifest.projections, log: self.log) }
        if let snapshot {
            try ViewSnapshot.install(snapshot.path + "/views", into: self.log.directory)
        } else {
            try? FileManager.default.removeItem(atPath: ViewStore.path(in: self.log.directory))
        }
        let (views, status) = try await self.catchUpProjections(progress: progress)
        views.close()
        return (snapshot?.path, status)
    }
}
