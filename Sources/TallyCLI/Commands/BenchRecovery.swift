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
        // copying below copies both, so the ratios compare the same work.
        let hasViews = ViewStore.exist(in: self.root)
        // The raw limit: mdb_env_copy2(MDB_CP_COMPACT) of each plus an fsync of each copy.
        for name in ["raw/log", "raw/views", "tool/log", "tool/views"] {
            try FileManager.default.createDirectory(atPath: work + "/" + name, withIntermediateDirectories: true)
        }
        let rawStart = ContinuousClock.now
        try log.copyEnvironment(to: work + "/raw/log")
        try Backup.sync(work + "/raw/log/data.mdb")
        if hasViews, try ViewStore.copy(dataDirectory: self.root, to: work + "/raw/views") { try Backup.sync(work + "/raw/views/data.mdb") }
        let raw = (ContinuousClock.now - rawStart).secondsDouble
        let bytes = (try? FileManager.default.attributesOfItem(atPath: work + "/raw/log/data.mdb")[.size] as? Int) ?? 0
        var tool: Double?
        if let mdbCopy {
            let start = ContinuousClock.now
            for name in hasViews ? ["log", "views"] : ["log"] {
                let copy = Process()
                copy.executableURL = URL(fileURLWithPath: mdbCopy)
                copy.arguments = ["-c", self.root + "/" + name, work + "/tool/" + name]
                try copy.run()
                copy.waitUntilExit()
            }
            tool = (ContinuousClock.now - start).secondsDouble
        }
        let start = ContinuousClock.now
        let manifest = try await Backup.create(log: log, views: nil, into: work + "/full")
        let backup = (ContinuousClock.now - start).secondsDouble
        var row: [String: Any] = [
            "workload": "backup", "round": round, "events": events, "log_bytes": bytes, "with_views": hasViews, "seconds": backup,
            "mdb_env_copy2_compact_seconds": raw, "ratio_to_raw_copy": raw / backup,
            "megabytes_per_second": Double(manifest.files.reduce(0) { $0 + $1.bytes }) / 1_048_576 / backup,
            "views_bytes": manifest.files.first { $0.path == "views/data.mdb" }?.bytes ?? 0,
        ]
        if let tool {
            row["mdb_copy_c_seconds"] = tool
            row["ratio_to_mdb_copy_c"] = tool / backup
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
