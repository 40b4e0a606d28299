import Foundation
import TallyChecksum

/// Hot, consistent backups of a data directory, full or incremental, that standard tools
/// can check (see ``BackupManifest`` and docs/operations.md).
///
/// ```swift
/// let full = try await Backup.create(data: "data", into: "backups/full-1")
/// let segment = try await Backup.create(data: "data", into: "backups/inc-1", since: "backups/full-1")
/// let report = try await Backup.verify("backups/inc-1")
/// ```
public enum Backup {
    /// The version of Tally written into manifests.
    public static let toolVersion = "0.1.0"

    /// Backs up the data directory `data` into the new directory `directory`.
    ///
    /// Hot: it opens `data` read-only, so writers in this or another process (a running
    /// server) keep going; the copy is one LMDB read snapshot. Without `since` it is a full
    /// backup (a compacted copy of the log); with `since` (a full or incremental backup of
    /// the same ledger) it is a log segment of the records after that backup's head. Both
    /// take a snapshot of the views when the ledger has them.
    ///
    /// - Throws: ``RecoveryError`` (`target_not_empty`, `base_mismatch`, `io_error`, …) or
    ///   ``LogError`` when `data` cannot be opened.
    public static func create(data: String, into directory: String, since base: String? = nil) async throws -> BackupManifest {
        try Self.prepareEmpty(directory)
        let log: EventLog
        do {
            log = try await EventLog.open(at: data, configuration: LogConfiguration(readOnly: true))
        } catch {
            throw error
        }
        do {
            let manifest = try await Self.write(log: log, views: nil, into: directory, since: base)
            await log.close()
            return manifest
        } catch {
            await log.close()
            throw error
        }
    }

    /// Backs up an open log (a server's, while it keeps writing) into the new directory
    /// `directory`; `views` are the views this process has open, if any. See
    /// ``create(data:into:since:)``.
    public static func create(log: EventLog, views: ViewStore?, into directory: String, since base: String? = nil) async throws
        -> BackupManifest
    {
        try Self.prepareEmpty(directory)
        return try await Self.write(log: log, views: views, into: directory, since: base)
    }

    /// Writes the backup into `directory.partial` and renames it to `directory` once every
    /// file and the manifest are on disk: a backup killed half-way leaves no directory that
    /// looks like a backup (the next attempt removes the partial one).
    private static func write(log: EventLog, views: ViewStore?, into directory: String, since base: String?) async throws -> BackupManifest {
        let final = URL(fileURLWithPath: directory).standardizedFileURL.path
        let staging = final + ".partial"
        let files = FileManager.default
        try? files.removeItem(atPath: staging)
        do {
            try Self.makeDirectory(staging)
            let manifest: BackupManifest
            if let base {
                manifest = try await Self.incremental(log: log, views: views, into: staging, final: final, since: base)
            } else {
                manifest = try await Self.full(log: log, views: views, into: staging)
            }
            try manifest.write(to: staging)
            if files.fileExists(atPath: final) { try files.removeItem(atPath: final) }
            try files.moveItem(atPath: staging, toPath: final)
            try Self.sync(URL(fileURLWithPath: final).deletingLastPathComponent().path)
            return manifest
        } catch {
            // A failed backup leaves nothing that looks like one.
            try? files.removeItem(atPath: staging)
            if error is RecoveryError || error is LogError { throw error }
            throw RecoveryError(.io, "cannot write the backup \(final): \(error.localizedDescription)", file: final)
        }
    }

    private static func full(log: EventLog, views: ViewStore?, into directory: String) async throws -> BackupManifest {
        let logCopy = directory + "/log"
        try Self.makeDirectory(logCopy)
        // The views are copied beside the log, not after it: each copy's SHA-256 (the slowest
        // stage of each) then has a core. A views snapshot is never ahead of what a restore
        // can use: its checkpoints are checked against the log when it is installed.
        async let viewsCopy = Self.snapshotViews(views, into: directory, log: log)
        let logFile = try await HashingCopy.run(into: directory, path: "log/data.mdb") { fd in try log.copyEnvironment(toFileDescriptor: fd) }
        CrashPoint.midBackup.hit()
        // The head comes from the copy itself, so the manifest describes exactly what it holds.
        let head = try EventLog.readHead(directory: directory)
        let snapshot = try await viewsCopy
        return Self.manifest(kind: .full, base: nil, first: 1, head: head, views: snapshot?.checkpoints, files: [logFile] + (snapshot.map { [$0.file] } ?? []))
    }

    private static func incremental(log: EventLog, views: ViewStore?, into directory: String, final: String, since base: String) async throws -> BackupManifest {
        let baseManifest = try BackupManifest.read(from: base)
        guard let baseHead = baseManifest.head else {
            throw RecoveryError(.manifestMismatch, "\(base)/manifest.json has no valid chain_head or seal_head", file: base)
        }
        guard let checksum = try log.checksum(at: baseHead.position), checksum == baseHead.checksum else {
            throw RecoveryError(
                .baseMismatch,
                "the ledger at \(log.directory) does not continue the backup \(base): its checksum at position \(baseHead.position) is not the base's chain head \(baseManifest.chainHead); take a full backup")
        }
        let path = directory + "/" + LogSegment.fileName
        let writer = try SegmentWriter(path: path, after: baseHead)
        let head = try log.forEachItem(after: baseHead.position) { item in try writer.add(item) }
        try writer.finish()
        let snapshot = try await Self.snapshotViews(views, into: directory, log: log)
        let files = [try FileDigest.compute(LogSegment.fileName, in: directory)] + (snapshot.map { [$0.file] } ?? [])
        let relative = Self.relativePath(from: final, to: base)
        return Self.manifest(
            kind: .incremental,
            base: BackupManifest.Base(id: baseManifest.id, path: relative, headPosition: baseHead.position, chainHead: baseManifest.chainHead),
            first: baseHead.position + 1, head: head, views: snapshot?.checkpoints, files: files)
    }

    /// Copies `<data>/views` into `directory/views` and records each projection's
    /// checkpoint with the log's checksum there.
    private static func snapshotViews(_ views: ViewStore?, into directory: String, log: EventLog) async throws
        -> (file: FileDigest, checkpoints: [String: BackupManifest.ProjectionCheckpoint])?
    {
        guard views != nil || ViewStore.exist(in: log.directory) else { return nil }
        let target = directory + "/views"
        try Self.makeDirectory(target)
        let digest = try await HashingCopy.run(into: directory, path: "views/data.mdb") { fd in
            if let views {
                try views.copy(toFileDescriptor: fd)
            } else {
                _ = try ViewStore.copy(dataDirectory: log.directory, toFileDescriptor: fd)
            }
        }
        return (digest, try ViewSnapshot.checkpoints(ofCopyAt: target, log: log))
    }

    private static func manifest(
        kind: BackupManifest.Kind, base: BackupManifest.Base?, first: UInt64, head: LogHead,
        views: [String: BackupManifest.ProjectionCheckpoint]?, files: [FileDigest]
    ) -> BackupManifest {
        BackupManifest(
            toolVersion: Self.toolVersion, id: UUID().uuidString.lowercased(), kind: kind,
            createdAt: RFC3339.format(nanoseconds: wallClockNow()), base: base, firstPosition: first, headPosition: head.position,
            chainHead: XXH3.hex(head.checksum), sealHead: Hex.string(head.seal),
            headRecordedAt: head.position == 0 ? nil : RFC3339.format(nanoseconds: head.recordedAtNanoseconds),
            headRecordedAtNanoseconds: head.position == 0 ? nil : head.recordedAtNanoseconds, views: views,
            files: files)
    }

    static func prepareEmpty(_ directory: String) throws {
        let files = FileManager.default
        if files.fileExists(atPath: directory) {
            let contents = (try? files.contentsOfDirectory(atPath: directory)) ?? ["?"]
            guard contents.isEmpty else {
                throw RecoveryError(.targetNotEmpty, "\(directory) is not empty; name a new directory for the backup", file: directory)
            }
        }
    }

    static func makeDirectory(_ path: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw RecoveryError(.io, "cannot create \(path): \(error.localizedDescription)", file: path)
        }
    }

    /// `to` as a path relative to the directory `from` (both made absolute first).
    static func relativePath(from: String, to: String) -> String {
        let fromParts = URL(fileURLWithPath: from).standardizedFileURL.pathComponents
        let toParts = URL(fileURLWithPath: to).standardizedFileURL.pathComponents
        var common = 0
        while common < min(fromParts.count, toParts.count), fromParts[common] == toParts[common] { common += 1 }
        let up = Array(repeating: "..", count: fromParts.count - common)
        return (up + toParts[common...]).joined(separator: "/")
    }
}

extension Backup {
    /// fsyncs a file (LMDB's copy does not sync what it writes; a backup must be on disk
    /// before its manifest says it exists).
    public static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw RecoveryError(.io, "cannot open \(path) to sync it: \(String(cString: strerror(errno)))", file: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw RecoveryError(.io, "fsync of \(path) failed: \(String(cString: strerror(errno)))", file: path) }
    }
}
