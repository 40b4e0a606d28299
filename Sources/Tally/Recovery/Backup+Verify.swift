import Foundation
import TallyChecksum

extension Backup {
    /// What ``verify(_:)`` checked.
    public struct Report: Sendable, Equatable {
        /// The backup's manifest.
        public var manifest: BackupManifest
        /// Records whose checksum, position and chain were checked.
        public var recordsChecked: UInt64
        /// Files whose size, XXH3-64 and SHA-256 were checked.
        public var filesChecked: Int
    }

    /// Checks one backup: the manifest against `SHA256SUMS`, every file's size, XXH3-64 and
    /// SHA-256, and the data itself (a full backup's log is verified like `tally verify`:
    /// records, chain, seals, indexes; a segment's framing, records, chain, seals and
    /// trailer), and that the manifest's positions and heads are what the data holds.
    ///
    /// - Throws: ``RecoveryError`` naming the file and, for damaged data, the first bad position.
    public static func verify(_ directory: String) async throws -> Report {
        let manifest = try BackupManifest.read(from: directory)
        try Self.checkSums(of: manifest, in: directory)
        for file in manifest.files {
            let actual = try FileDigest.compute(file.path, in: directory)
            guard actual == file else {
                let what = actual.bytes != file.bytes ? "is \(actual.bytes) bytes, the manifest says \(file.bytes)" : "does not match its checksums in the manifest"
                throw RecoveryError(.fileChecksumMismatch, "\(directory)/\(file.path) \(what): it was changed or damaged", file: directory + "/" + file.path)
            }
        }
        guard let expected = manifest.head else {
            throw RecoveryError(.manifestMismatch, "\(directory)/manifest.json has no valid chain_head or seal_head", file: directory + "/manifest.json")
        }
        let (head, records) = try await Self.verifyData(manifest, in: directory)
        guard head.position == expected.position, head.checksum == expected.checksum, head.seal == expected.seal else {
            throw RecoveryError(
                .manifestMismatch,
                "\(directory)/manifest.json says the backup ends at position \(expected.position) (chain head \(manifest.chainHead)); its data ends at \(head.position) (\(XXH3.hex(head.checksum)))",
                file: directory + "/manifest.json", position: min(head.position, expected.position))
        }
        if let views = manifest.views {
            let metas = try ViewStore.metas(ofCopyAt: directory + "/views")
            for (name, checkpoint) in views where metas[name]?.position != checkpoint.position || metas[name]?.version != checkpoint.version {
                throw RecoveryError(
                    .manifestMismatch, "\(directory)/manifest.json and views/data.mdb disagree on the checkpoint of \(name)",
                    file: directory + "/views/data.mdb")
            }
        }
        return Report(manifest: manifest, recordsChecked: records, filesChecked: manifest.files.count + 1)
    }

    /// `manifest.json` must be the one `SHA256SUMS` names (an edited manifest is refused).
    private static func checkSums(of manifest: BackupManifest, in directory: String) throws {
        let sumsPath = directory + "/SHA256SUMS"
        guard let sums = FileManager.default.contents(atPath: sumsPath).map({ String(decoding: $0, as: UTF8.self) }) else {
            throw RecoveryError(.manifestMismatch, "\(directory) has no SHA256SUMS; the backup is incomplete", file: sumsPath)
        }
        let listed = sums.split(separator: "\n").first { $0.hasSuffix("  " + BackupManifest.fileName) }.map { String($0.prefix(64)) }
        let actual = try FileDigest.compute(BackupManifest.fileName, in: directory)
        guard listed == actual.sha256 else {
            throw RecoveryError(
                .manifestMismatch, "\(directory)/manifest.json does not match its SHA-256 in SHA256SUMS: the manifest was edited",
                file: directory + "/" + BackupManifest.fileName)
        }
    }

    private static func verifyData(_ manifest: BackupManifest, in directory: String) async throws -> (LogHead, UInt64) {
        switch manifest.kind {
        case .full:
            let log: EventLog
            do {
                log = try await EventLog.open(at: directory, configuration: LogConfiguration(readOnly: true, noLock: true))
            } catch let error as LogError {
                let at = error.position.map { "first bad position \($0): " } ?? ""
                throw RecoveryError(.corruption, "\(directory)/log/data.mdb does not verify: \(at)\(error.message)", file: directory + "/log/data.mdb", position: error.position)
            }
            do {
                let report = try log.verify()
                guard report.isClean else {
                    throw RecoveryError(
                        .corruption, "\(directory)/log/data.mdb does not verify: first bad position \(report.firstBadPosition ?? 0): \(report.reason ?? "")", file: directory + "/log/data.mdb",
                        position: report.firstBadPosition)
                }
                let head = try log.head()
                await log.close()
                return (head, report.recordsChecked)
            } catch {
                await log.close()
                throw error
            }
        case .incremental:
            let path = directory + "/" + LogSegment.fileName
            let reader = try SegmentReader(path: path)
            if let base = manifest.base {
                guard reader.firstPosition == base.headPosition + 1, XXH3.hex(reader.base.checksum) == base.chainHead else {
                    throw RecoveryError(
                        .segmentDoesNotChain,
                        "\(path) starts after position \(reader.firstPosition - 1) (chain \(XXH3.hex(reader.base.checksum))), but its base ends at \(base.headPosition) (\(base.chainHead))",
                        file: path, position: reader.firstPosition)
                }
            }
            while !reader.finished { _ = try reader.next() }
            return (reader.head, reader.head.position - reader.base.position)
        }
    }

    /// The backups from the full one to `directory`, oldest first, following each
    /// incremental backup's `base` (its relative path, or a sibling with the base's id), and
    /// checking that each segment starts where its base ends.
    public static func chain(ending directory: String) throws -> [(path: String, manifest: BackupManifest)] {
        var chain: [(String, BackupManifest)] = []
        var current = URL(fileURLWithPath: directory).standardizedFileURL.path
        var manifest = try BackupManifest.read(from: current)
        while true {
            chain.insert((current, manifest), at: 0)
            guard manifest.kind == .incremental else { return chain }
            guard let base = manifest.base else {
                throw RecoveryError(.manifestMismatch, "\(current)/manifest.json is incremental but names no base", file: current + "/manifest.json")
            }
            let basePath = Self.locate(base, from: current)
            guard let basePath, let baseManifest = try? BackupManifest.read(from: basePath), baseManifest.id == base.id else {
                throw RecoveryError(
                    .backupNotFound, "the base \(base.path) (id \(base.id)) of \(current) is missing; restore needs every backup of the chain",
                    file: current)
            }
            guard baseManifest.headPosition == base.headPosition, baseManifest.chainHead == base.chainHead else {
                throw RecoveryError(
                    .segmentDoesNotChain,
                    "\(current) starts after position \(base.headPosition) (\(base.chainHead)), but its base \(basePath) ends at \(baseManifest.headPosition) (\(baseManifest.chainHead))",
                    file: current + "/" + LogSegment.fileName, position: base.headPosition + 1)
            }
            guard chain.count < 10_000 else { throw RecoveryError(.manifestMismatch, "the chain of \(directory) loops", file: directory) }
            current = basePath
            manifest = baseManifest
        }
    }

    private static func locate(_ base: BackupManifest.Base, from directory: String) -> String? {
        let direct = URL(fileURLWithPath: directory).appendingPathComponent(base.path).standardizedFileURL.path
        if (try? BackupManifest.read(from: direct))?.id == base.id { return direct }
        let parent = URL(fileURLWithPath: directory).deletingLastPathComponent().path
        let siblings = (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
        return siblings.map { parent + "/" + $0 }.first { (try? BackupManifest.read(from: $0))?.id == base.id }
    }
}
