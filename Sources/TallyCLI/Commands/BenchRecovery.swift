import Foundation
import Tally

/// W8: backup beside LMDB's own compacting copy of the same environments, then restore and
/// replay (recovery time), with and without a views snapshot; then the log doubled and the
/// restores again, to show what grows with the log before the snapshot.
struct BenchRecovery {
    let root: String
    let report: ([String: Any]) -> Void

    /// Backs up, restores both ways, appends `grow` more 200-byte events (1,000 an append)
    /// and restores both ways again.
    func run(_ ledger: Ledger, mdbCopy: String?, grow events: Int, ids: BenchIDs, payload: [UInt8]) async throws {
        try await self.backupAndRestore(ledger, mdbCopy: mdbCopy, round: 1)
        var appended = 0
        while appended < events {
            let count = min(1_000, events - appended)
            _ = try await ledger.log.append((0..<count).map { index in
                StreamAppend(streamID: "grow-\((appended + index) % 10_000)", events: [ProposedEvent(id: ids.next(), type: "bench.appended", payload: payload)])
            })
            appended += count
        }
        try await self.backupAndRestore(ledger, mdbCopy: mdbCopy, round: 2)
    }

    private func backupAndRestore(_ ledger: Ledger, mdbCopy: String?, round: Int) async throws {
        let log = ledger.log
        try await log.checkpointIndex()
        // The views at the head, so a backup carries a snapshot a restore can start from.
        let (views, _) = try await ledger.catchUpProjections()
        views.close()
        let events = log.headPosition
        let work = self.root + "-recovery"
        try? FileManager.default.removeItem(atPath: work)
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }

        // What the backup copies: the log and, beside it, the views environment. Each way of
        // copying below copies both, so the ratios compare the same work. Each is timed
        // `Self.copyRuns` times, the three ways taking turns, and the medians are compared:
        // one copy of 200 k events takes 50-100 ms here, where one run alone swung ±30%.
        let hasViews = ViewStore.exist(in: self.root)
        var raws: [Double] = []
        var tools: [Double] = []
        var backups: [Double] = []
        var manifest: BackupManifest?
        var bytes = 0
        for run in 1...Self.copyRuns {
            for name in ["raw", "tool", "full"] { try? FileManager.default.removeItem(atPath: work + "/" + name) }
            for name in ["raw/log", "raw/views", "tool/log", "tool/views"] {
                try FileManager.default.createDirectory(atPath: work + "/" + name, withIntermediateDirectories: true)
            }
            sync()  // the removed copies' blocks freed before anything is timed
            // The raw limit: mdb_env_copy2(MDB_CP_COMPACT) of each plus an fsync of each copy.
            let rawStart = ContinuousClock.now
            try log.copyEnvironment(to: work + "/raw/log")
            try Backup.sync(work + "/raw/log/data.mdb")
            if hasViews, try ViewStore.copy(dataDirectory: self.root, to: work + "/raw/views") { try Backup.sync(work + "/raw/views/data.mdb") }
            raws.append((ContinuousClock.now - rawStart).secondsDouble)
            if run == 1 { bytes = (try? FileManager.default.attributesOfItem(atPath: work + "/raw/log/data.mdb")[.size] as? Int) ?? 0 }
            if let mdbCopy {
                let start = ContinuousClock.now
                for name in hasViews ? ["log", "views"] : ["log"] {
                    let copy = Process()
                    copy.executableURL = URL(fileURLWithPath: mdbCopy)
                    copy.arguments = ["-c", self.root + "/" + name, work + "/tool/" + name]
                    try copy.run()
                    copy.waitUntilExit()
                }
                tools.append((ContinuousClock.now - start).secondsDouble)
            }
            let start = ContinuousClock.now
            manifest = try await Backup.create(log: log, views: nil, into: work + "/full")
            backups.append((ContinuousClock.now - start).secondsDouble)
        }
        guard let manifest else { preconditionFailure("at least one backup run") }
        let backup = Self.median(backups)
        let raw = Self.median(raws)
        var row: [String: Any] = [
            "workload": "backup", "round": round, "events": events, "log_bytes": bytes, "with_views": hasViews, "seconds": backup,
            "runs": Self.copyRuns, "seconds_min": backups.min() ?? backup, "seconds_max": backups.max() ?? backup,
            "mdb_env_copy2_compact_seconds": raw, "ratio_to_raw_copy": raw / backup,
            "megabytes_per_second": Double(manifest.files.reduce(0) { $0 + $1.bytes }) / 1_048_576 / backup,
            "views_bytes": manifest.files.first { $0.path == "views/data.mdb" }?.bytes ?? 0,
        ]
        if !tools.isEmpty {
            let tool = Self.median(tools)
            let ratios = zip(tools, backups).map { $0 / $1 }
            row["mdb_copy_c_seconds"] = tool
            row["ratio_to_mdb_copy_c"] = tool / backup
            row["ratio_to_mdb_copy_c_min"] = ratios.min() ?? 0
            row["ratio_to_mdb_copy_c_max"] = ratios.max() ?? 0
        }
        self.report(row)

        for useSnapshot in [true, false] {
            let target = work + (useSnapshot ? "/restored-snapshot" : "/restored-replay")
            Self.dropFromPageCache(work + "/full")  // each restore reads the backup from disk
            let report = try await Restore.run(from: work + "/full", into: target, useSnapshots: useSnapshot)
            self.report([
                "workload": "restore", "round": round, "events": report.headPosition, "views_from": useSnapshot ? "snapshot" : "replay",
                "verify_seconds": report.verifySeconds, "lay_down_seconds": report.importSeconds, "views_seconds": report.viewsSeconds,
                "projections_seconds": report.projectionsSeconds, "snapshot_copy_seconds": report.snapshotCopySeconds,
                "seconds": report.verifySeconds + report.importSeconds + report.viewsSeconds,
            ])
            try? FileManager.default.removeItem(atPath: target)
        }
    }

    /// How many times each way of copying is timed.
    static let copyRuns = 5

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// Asks the kernel to forget the cached pages of every file under `directory`, so the
    /// restore that follows reads them from the disk as after a real loss.
    private static func dropFromPageCache(_ directory: String) {
        guard let files = FileManager.default.enumerator(atPath: directory) else { return }
        for case let name as String in files {
            let fd = open(directory + "/" + name, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { continue }
            _ = posix_fadvise(fd, 0, 0, 4)  // POSIX_FADV_DONTNEED
            close(fd)
        }
    }
}
