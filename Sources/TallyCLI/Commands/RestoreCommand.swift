import ArgumentParser
import Foundation
import Tally

struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a data directory from a backup (and the backups it chains onto), to the newest position or a point in time.",
        discussion: """
              tally restore backups/inc-2 --data data-restored
                  everything the chain holds
              tally restore backups/inc-2 --data data-restored --to-position 120000
              tally restore backups/inc-2 --data data-restored \\
                  --to-time 2026-11-30T14:00:00Z
            Verifies every backup of the chain first and writes nothing if a check fails
            (naming the file and the first bad position); then lays down the log, rebuilds
            the views from the newest matching views snapshot plus replay, verifies the
            result, and only then moves it into --data. Exit status: 0 restored, 1 damage
            found in the backups, 2 usage or I/O error.
            """)

    @Argument(help: "The newest backup to restore (full or incremental).") var backup: String
    @Option(name: .long, help: "The data directory to create (must be empty unless --force).") var data: String
    @Option(help: "Restore up to and including this position.") var toPosition: UInt64?
    @Option(help: "Restore every event recorded at or before this RFC 3339 time.") var toTime: String?
    @Flag(help: "Replace a data directory that is not empty.") var force = false
    @Flag(help: "Rebuild the views by replay from position 1 instead of from a snapshot.") var noSnapshot = false
    @Flag(name: .long, help: "Print results as JSON.") var json = false

    func validate() throws {
        if self.toPosition != nil && self.toTime != nil { throw ValidationError("give --to-position or --to-time, not both") }
        if let time = self.toTime, RFC3339.parse(time) == nil {
            throw ValidationError("--to-time \(time) is not an RFC 3339 time, e.g. 2026-11-30T14:00:00Z")
        }
    }

    func run() async throws {
        try await runReporting(json: self.json) {
            var target = Restore.Target.head
            if let position = self.toPosition { target = .position(position) }
            if let time = self.toTime.flatMap(RFC3339.parse) { target = .time(time) }
            let bar = ProgressBar(label: "restore", json: self.json)
            let report = try await Restore.run(
                from: self.backup, into: self.data, target: target, force: self.force, useSnapshots: !self.noSnapshot,
                verify: BackupCommand.Verify.inChild
            ) { done, last in bar.update(done, of: last) }
            bar.finish()
            let views = report.viewsSnapshot.map { "snapshot in \($0) + replay" } ?? "replay from position 1"
            Output.print(
                json: self.json,
                [
                    "data": self.data, "head_position": report.headPosition, "chain_head": report.chainHead, "seal_head": report.sealHead,
                    "events": report.stats.events, "streams": report.stats.streams, "bytes": report.stats.bytes,
                    "backups": report.backups, "views_snapshot": report.viewsSnapshot ?? NSNull(),
                    "projections": Dictionary(uniqueKeysWithValues: report.projections.map { ($0.name, $0.checkpoint) }),
                    "records_verified": report.recordsVerified, "verify_seconds": report.verifySeconds,
                    "import_seconds": report.importSeconds, "views_seconds": report.viewsSeconds,
                ],
                text: """
                    restored        \(self.data) to \(target) from \(report.backups.count) backup(s)
                    verified first  \(report.recordsVerified) records in the backups (\(String(format: "%.2f", report.verifySeconds)) s)
                    log             positions 1...\(report.headPosition), \(report.stats.streams) streams (\(String(format: "%.2f", report.importSeconds)) s)
                    chain head      \(report.chainHead)
                    seal head       \(report.sealHead)
                    views           \(views) (\(String(format: "%.2f", report.viewsSeconds)) s): \(report.projections.map { "\($0.name) at \($0.checkpoint)" }.joined(separator: ", "))
                    verify          clean
                    """)
        }
    }
}
