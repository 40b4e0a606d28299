import Foundation
import Tally

/// W8: backup beside LMDB's own compacting copy of the same environment, then restore and
/// replay (recovery time), with and without a views snapshot.
struct BenchRecovery {
    let root: String
    let report: ([String: Any]) -> Void

    func run(_ ledger: Ledger, mdbCopy: String?) async throws {
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

        // The raw limit: mdb_env_copy2(MDB_CP_COMPACT) of the log plus an fdatasync of the copy.
        try FileManager.default.createDirectory(atPath: work + "/raw", withIntermediateDirectories: true)
        let rawStart = ContinuousClock.now
        try log.copyEnvironment(to: work + "/raw")
        try Backup.sync(work + "/raw/data.mdb")
        let raw = (ContinuousClock.now - rawStart).secondsDouble
        let bytes = (try? FileManager.default.attributesOfItem(atPath: work + "/raw/data.mdb")[.size] as? Int) ?? 0
        let digestStart = ContinuousClock.now
        _ = try FileDigest.compute("data.mdb", in: work + "/raw")
        let digest = (ContinuousClock.now - digestStart).secondsDouble
        var tool: Double?
        if let mdbCopy {
            let start = ContinuousClock.now
            let copy = Process()
            copy.executableURL = URL(fileURLWithPath: mdbCopy)
            copy.arguments = ["-c", EventLog.logPath(in: self.root), work + "/tool"]
            try FileManager.default.createDirectory(atPath: work + "/tool", withIntermediateDirectories: true)
            try copy.run()
            copy.waitUntilExit()
            tool = (ContinuousClock.now - start).secondsDouble
        }
        let start = ContinuousClock.now
        let manifest = try await Backup.create(log: log, views: nil, into: work + "/full")
        let backup = (ContinuousClock.now - start).secondsDouble
        var row: [String: Any] = [
            "workload": "backup", "events": events, "log_bytes": bytes, "seconds": backup, "mdb_env_copy2_compact_seconds": raw,
            "ratio_to_raw_copy": raw / backup, "digest_seconds": digest, "megabytes_per_second": Double(manifest.files.reduce(0) { $0 + $1.bytes }) / 1_048_576 / backup,
        ]
        if let tool {
            row["mdb_copy_c_seconds"] = tool
            row["ratio_to_mdb_copy_c"] = tool / backup
        }
        self.report(row)

        for useSnapshot in [true, false] {
            let target = work + (useSnapshot ? "/restored-snapshot" : "/restored-replay")
            let report = try await Restore.run(from: work + "/full", into: target, useSnapshots: useSnapshot)
            self.report([
                "workload": "restore", "events": report.headPosition, "views_from": useSnapshot ? "snapshot" : "replay",
                "verify_seconds": report.verifySeconds, "lay_down_seconds": report.importSeconds, "views_seconds": report.viewsSeconds,
                "seconds": report.verifySeconds + report.importSeconds + report.viewsSeconds,
            ])
            try? FileManager.default.removeItem(atPath: target)
        }
    }
}
