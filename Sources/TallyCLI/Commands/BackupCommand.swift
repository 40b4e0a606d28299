import ArgumentParser
import Foundation
import Tally

struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Hot, consistent backups that standard tools can check: full, or incremental log segments.",
        discussion: """
              tally backup create backups/full-1
                  a full backup (compacted copy of the log + views snapshot)
              tally backup create backups/inc-1 --incremental --since backups/full-1
                  the records after full-1's head
              tally backup verify backups/inc-1
                  check files, records, chain and seals
              tally backup list backups
                  every backup under backups/
              tally backup prune backups --keep 7 --keep-days 30
                  never deletes a base a kept backup needs
            A backup directory holds manifest.json, XXH3SUMS and SHA256SUMS: `cd DIR &&
            sha256sum -c SHA256SUMS` and `xxhsum -c XXH3SUMS` check it without Tally.
            Restore with `tally restore DIR --data NEWDIR`. docs/operations.md is the
            runbook.
            """,
        subcommands: [Create.self, Verify.self, List.self, Prune.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back up the data directory into a new directory (writers, even a running server, keep going).")

        @OptionGroup var options: CommonOptions
        @Argument(help: "The new backup directory (must not exist or be empty).") var directory: String
        @Flag(help: "Write only the records after the base's head (needs --since).") var incremental = false
        @Option(help: "The backup (full or incremental) this one continues.") var since: String?

        func validate() throws {
            if self.incremental != (self.since != nil) {
                throw ValidationError("--incremental and --since BASE go together: an incremental backup continues a base")
            }
        }

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let start = ContinuousClock.now
                let manifest = try await Backup.create(data: self.options.data, into: self.directory, since: self.since)
                let seconds = (ContinuousClock.now - start).secondsDouble
                let bytes = manifest.files.reduce(UInt64(0)) { $0 + $1.bytes }
                Output.print(
                    json: self.options.json,
                    [
                        "directory": self.directory, "id": manifest.id, "kind": manifest.kind.rawValue,
                        "first_position": manifest.firstPosition, "head_position": manifest.headPosition,
                        "chain_head": manifest.chainHead, "seal_head": manifest.sealHead, "bytes": bytes, "seconds": seconds,
                    ],
                    text: """
                        \(manifest.kind.rawValue) backup \(self.directory) (id \(manifest.id))
                        positions       \(manifest.firstPosition)...\(manifest.headPosition)
                        chain head      \(manifest.chainHead)
                        seal head       \(manifest.sealHead)
                        files           \(manifest.files.map { "\($0.path) \($0.bytes) bytes" }.joined(separator: ", "))
                        took            \(String(format: "%.2f", seconds)) s
                        check it with   tally backup verify \(self.directory)   (or: cd \(self.directory) && sha256sum -c SHA256SUMS)
                        """)
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a backup: manifest, file checksums, every record, the chain and the seals.",
            discussion: "Exit status: 0 valid, 1 damage found (named with the file and first bad\nposition), 2 usage or I/O. Runs in a child process.")

        @Flag(name: .long, help: "Print results as JSON.") var json = false
        @Argument(help: "The backup directory.") var directory: String
        @Flag(help: .hidden) var inProcess = false

        func run() async throws {
            if self.inProcess {
                try await runReporting(json: true) {
                    let report = try await Backup.verify(self.directory)
                    print(
                        Output.json([
                            "valid": true, "kind": report.manifest.kind.rawValue, "first_position": report.manifest.firstPosition,
                            "head_position": report.manifest.headPosition, "records_checked": report.recordsChecked,
                            "files_checked": report.filesChecked, "chain_head": report.manifest.chainHead,
                        ]))
                }
                return
            }
            try await runReporting(json: self.json) {
                let object = try Self.report(of: self.directory)
                Output.print(
                    json: self.json, object,
                    text: "valid: \(object["kind"] ?? "") backup of positions \(object["first_position"] ?? 0)...\(object["head_position"] ?? 0), \(object["records_checked"] ?? 0) records and \(object["files_checked"] ?? 0) files checked")
            }
        }

        /// Verifies `directory` in a child process (a damaged LMDB page can crash its
        /// reader) and returns the records it checked; throws the child's error.
        @Sendable static func inChild(_ directory: String) async throws -> UInt64 {
            (try Self.report(of: directory)["records_checked"] as? NSNumber)?.uint64Value ?? 0
        }

        private static func report(of directory: String) throws -> [String: Any] {
            let child = try ChildRun.run(["backup", "verify", directory, "--in-process"])
            if let signal = child.signal {
                throw RecoveryError(
                    .corruption, "the verifier crashed (signal \(signal)) reading \(directory): its LMDB pages are damaged", file: directory)
            }
            guard let object = child.object else {
                throw CLIError(code: "io_error", message: "the verifier of \(directory) exited \(child.status) without a report")
            }
            if let error = object["error"] as? [String: Any] {
                let code = RecoveryError.Code(rawValue: error["code"] as? String ?? "") ?? .corruption
                throw RecoveryError(code, error["message"] as? String ?? "", file: directory)
            }
            return object
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the backups under a directory, oldest first.")

        @Flag(name: .long, help: "Print results as JSON.") var json = false
        @Argument(help: "The directory that holds the backups.") var root: String

        func run() async throws {
            let all = Backup.list(root: self.root)
            if self.json {
                print(Output.json(all.map(Self.object)))
                return
            }
            if all.isEmpty { print("no backups under \(self.root)") }
            for backup in all {
                let base = backup.manifest.base.map { " on \($0.path)" } ?? ""
                print("\(backup.manifest.createdAt)  \(backup.manifest.kind.rawValue.padding(toLength: 11, withPad: " ", startingAt: 0)) positions \(backup.manifest.firstPosition)...\(backup.manifest.headPosition)  \(backup.bytes) bytes  \(backup.path)\(base)")
            }
        }

        static func object(_ backup: Backup.Listed) -> [String: Any] {
            var object: [String: Any] = [
                "path": backup.path, "id": backup.manifest.id, "kind": backup.manifest.kind.rawValue, "created_at": backup.manifest.createdAt,
                "first_position": backup.manifest.firstPosition, "head_position": backup.manifest.headPosition, "bytes": backup.bytes,
            ]
            if let base = backup.manifest.base { object["base"] = base.id }
            return object
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete old backups, keeping the newest N, those younger than D days, and every base they need.")

        @Flag(name: .long, help: "Print results as JSON.") var json = false
        @Argument(help: "The directory that holds the backups.") var root: String
        @Option(help: "Keep the newest N backups.") var keep: Int
        @Option(help: "Also keep every backup younger than D days.") var keepDays: Double?
        @Flag(help: "Only print what would be deleted.") var dryRun = false

        func run() async throws {
            try await runReporting(json: self.json) {
                let doomed = try Backup.prune(root: self.root, keep: self.keep, keepDays: self.keepDays, dryRun: self.dryRun)
                let verb = self.dryRun ? "would delete" : "deleted"
                Output.print(
                    json: self.json, ["dry_run": self.dryRun, "deleted": doomed.map(\.path)],
                    text: doomed.isEmpty ? "nothing to delete" : doomed.map { "\(verb) \($0.path)" }.joined(separator: "\n"))
            }
        }
    }
}

extension Duration {
    /// The duration in seconds.
    var secondsDouble: Double { Double(self.components.seconds) + Double(self.components.attoseconds) / 1e18 }
}
