import Foundation
import TallyChecksum

/// Restores a data directory from a chain of backups, to the head or to a point in time.
///
/// ```swift
/// let report = try await Restore.run(from: "backups/inc-2", into: "data-restored", target: .position(120_000))
/// print(report.headPosition, report.chainHead)
/// ```
public enum Restore {
    /// How far to restore.
    public enum Target: Sendable, Equatable, CustomStringConvertible {
        /// Everything the backups hold.
        case head
        /// Up to and including this position.
        case position(UInt64)
        /// Every event recorded at or before this time (nanoseconds since 1970).
        case time(UInt64)

        /// How the CLI names it.
        public var description: String {
            switch self {
            case .head: "the newest backed-up position"
            case .position(let position): "position \(position)"
            case .time(let time): RFC3339.format(nanoseconds: time)
            }
        }
    }

    /// What a restore did.
    public struct Report: Sendable {
        /// The restored log's head.
        public var headPosition: UInt64
        /// The checksum at the head, hex.
        public var chainHead: String
        /// The last seal, hex.
        public var sealHead: String
        /// The restored log's figures (events, streams, bytes).
        public var stats: LogStats
        /// The backups applied, oldest first.
        public var backups: [String]
        /// The views snapshot the projections started from (`nil`: replayed from position 1).
        public var viewsSnapshot: String?
        /// Each projection after catching up.
        public var projections: [ProjectionStatus]
        /// Records checked while verifying the backups before writing anything.
        public var recordsVerified: UInt64
        /// Seconds spent verifying the backups, laying down the log, and bringing the views up
        /// (opening the restored ledger, the projections, verifying the restored log).
        public var verifySeconds: Double, importSeconds: Double, viewsSeconds: Double
        /// Of `viewsSeconds`, the projections alone: installing the snapshot and replaying the
        /// log after it (or the whole log without one). The part a snapshot keeps short.
        public var projectionsSeconds: Double
        /// Of `projectionsSeconds`, copying the snapshot's views file into place.
        public var snapshotCopySeconds: Double
    }

    /// Verifies every backup of the chain ending at `backup` first and writes nothing if any
    /// check fails; then lays down the log up to `target` in a staging directory beside
    /// `data`, rebuilds the write models and the views (from the newest views snapshot of
    /// the chain that matches the restored log, unless `useSnapshots` is false, then the
    /// events after it), verifies the result, and moves it to `data`.
    ///
    /// - Parameters:
    ///   - force: replace a `data` that is not empty.
    ///   - verify: checks one backup directory and returns the records it checked (by
    ///     default ``Backup/verify(_:)`` in this process; the CLI runs it in a child process,
    ///     so a damaged LMDB page cannot crash the restore).
    ///   - progress: positions laid down and the last position to lay down.
    /// - Throws: ``RecoveryError`` (naming the file and first bad position), ``LogError``.
    public static func run(
        from backup: String, into data: String, target: Target = .head, force: Bool = false, useSnapshots: Bool = true,
        verify: (String) async throws -> UInt64 = { try await Backup.verify($0).recordsChecked },
        progress: (UInt64, UInt64) -> Void = { _, _ in }
    ) async throws -> Report {
        let clock = ContinuousClock()
        let started = clock.now
        let chain = try Backup.chain(ending: backup)
        var recordsVerified: UInt64 = 0
        for link in chain { recordsVerified += try await verify(link.path) }
        let chainHead = chain.last?.manifest.headPosition ?? 0
        if case .position(let position) = target, position == 0 || position > chainHead {
            throw RecoveryError(
                .targetOutOfRange, "the backups hold positions 1...\(chainHead); choose --to-position within them", file: backup)
        }
        try Self.checkTarget(data, force: force)
        let verified = clock.now
        let staging = URL(fileURLWithPath: data).standardizedFileURL.path + ".restoring"
        try? FileManager.default.removeItem(atPath: staging)
        do {
            let last: UInt64 = if case .position(let position) = target { position } else { chainHead }
            let head = try await Self.layDown(chain, into: staging, target: target, last: last, progress: progress)
            let laidDown = clock.now
            CrashPoint.midRestore.hit()
            let ledger = try await Ledger.open(at: staging, expiryInterval: nil)
            var snapshot: String?
            var projectionsSeconds = 0.0
            var snapshotCopySeconds = 0.0
            let status: [ProjectionStatus]
            let stats: LogStats
            do {
                if useSnapshots {
                    snapshot = chain.reversed().map(\.path).first { path in
                        guard let views = chain.first(where: { $0.path == path })?.manifest.views else { return false }
                        return views.values.allSatisfy { $0.position <= head.position } && ViewSnapshot.matches(views, log: ledger.log)
                    }
                }
                let viewsStarted = clock.now
                if let snapshot { try ViewSnapshot.install(snapshot + "/views", into: staging) }
                snapshotCopySeconds = (clock.now - viewsStarted).inSeconds
                let (views, caughtUp) = try await ledger.catchUpProjections()
                views.close()
                status = caughtUp
                projectionsSeconds = (clock.now - viewsStarted).inSeconds
                let report = try ledger.log.verify()
                guard report.isClean else {
                    throw RecoveryError(
                        .corruption, "the restored log does not verify: \(report.reason ?? "")", file: staging, position: report.firstBadPosition)
                }
                stats = try ledger.log.stats()
                await ledger.close()
            } catch {
                await ledger.close()
                throw error
            }
            let done = clock.now
            try Self.move(staging, to: data)
            return Report(
                headPosition: head.position, chainHead: XXH3.hex(head.checksum), sealHead: Hex.string(head.seal), stats: stats,
                backups: chain.map(\.path), viewsSnapshot: snapshot, projections: status, recordsVerified: recordsVerified,
                verifySeconds: (verified - started).inSeconds, importSeconds: (laidDown - verified).inSeconds, viewsSeconds: (done - laidDown).inSeconds,
                projectionsSeconds: projectionsSeconds, snapshotCopySeconds: snapshotCopySeconds)
        } catch {
            try? FileManager.default.removeItem(atPath: staging)
            throw error
        }
    }

    private static func checkTarget(_ data: String, force: Bool) throws {
        let contents = (try? FileManager.default.contentsOfDirectory(atPath: data)) ?? []
        guard contents.isEmpty || force else {
            throw RecoveryError(
                .targetNotEmpty, "\(data) is not empty; restore into a new directory, or add --force to replace it", file: data)
        }
    }

    /// Feeds the chain's records, up to the target, into a new log at `staging`.
    private static func layDown(
        _ chain: [(path: String, manifest: BackupManifest)], into staging: String, target: Target, last: UInt64,
        progress: (UInt64, UInt64) -> Void
    ) async throws -> LogHead {
        // When the target lies at or after the full backup's head, its file is the start
        // (indexes and write-model checkpoints included); otherwise its records are laid
        // down one by one up to the target.
        var chain = chain
        var base: String?
        if let first = chain.first, first.manifest.kind == .full, Self.includes(target, first.manifest) {
            base = first.path
            chain.removeFirst()
        }
        let importer = try LogImporter.create(at: staging, base: base)
        progress(importer.head.position, last)
        var done = false
        /// Keeps the items up to the target; sets `done` past it.
        func admit(_ items: [LogImporter.Item]) -> [LogImporter.Item] {
            var kept: [LogImporter.Item] = []
            kept.reserveCapacity(items.count)
            var position = importer.head.position
            for item in items {
                if case .record(let bytes) = item {
                    let recordedAt = bytes.withUnsafeBytes { (try? RecordView($0))?.recordedAtNanoseconds ?? 0 }
                    switch target {
                    case .head: break
                    case .position(let limit): if position >= limit { done = true }
                    case .time(let limit): if recordedAt > limit { done = true }
                    }
                    if done { break }
                    position += 1
                }
                kept.append(item)
            }
            return kept
        }
        do {
            for link in chain where !done {
                switch link.manifest.kind {
                case .full:
                    let log = try await EventLog.open(at: link.path, configuration: LogConfiguration(readOnly: true, noLock: true))
                    do {
                        var position: UInt64 = 1
                        while !done {
                            let page = try log.items(fromPosition: position, limit: 10_000)
                            guard !page.isEmpty else { break }
                            var items: [LogImporter.Item] = []
                            items.reserveCapacity(page.count * 2)
                            for (record, seal) in page {
                                items.append(.record(record))
                                if let seal { items.append(.endCommit(expectedSeal: seal)) }
                            }
                            try await importer.add(admit(items))
                            position += UInt64(page.count)
                            progress(importer.head.position, last)
                        }
                        await log.close()
                    } catch {
                        await log.close()
                        throw error
                    }
                case .incremental:
                    guard importer.head.position == link.manifest.firstPosition - 1 else {
                        throw RecoveryError(
                            .segmentDoesNotChain,
                            "\(link.path) starts at position \(link.manifest.firstPosition), but the backups before it end at \(importer.head.position)",
                            file: link.path + "/" + LogSegment.fileName, position: link.manifest.firstPosition)
                    }
                    let reader = try SegmentReader(path: link.path + "/" + LogSegment.fileName)
                    while !done, !reader.finished {
                        try await importer.add(admit(try reader.next()))
                        progress(importer.head.position, last)
                    }
                }
            }
            return try await importer.finish()
        } catch {
            _ = try? await importer.finish()
            throw error
        }
    }

    /// Whether restoring to `target` keeps everything `manifest` holds.
    private static func includes(_ target: Target, _ manifest: BackupManifest) -> Bool {
        switch target {
        case .head: true
        case .position(let position): position >= manifest.headPosition
        case .time(let time): (manifest.headRecordedAtNanoseconds ?? .max) <= time
        }
    }

    private static func move(_ staging: String, to data: String) throws {
        let files = FileManager.default
        do {
            if files.fileExists(atPath: data) { try files.removeItem(atPath: data) }
            try files.moveItem(atPath: staging, toPath: data)
        } catch {
            throw RecoveryError(.io, "the restore is complete in \(staging) but cannot be moved to \(data): \(error.localizedDescription)", file: data)
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var inSeconds: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
