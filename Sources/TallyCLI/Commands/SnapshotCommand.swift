import ArgumentParser
import Foundation
import Tally

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Snapshots of the views: replay and restore start from the newest one that matches the log.",
        discussion: """
              tally snapshot create
                  a compacted copy of <data>/views in <data>/snapshots/, tagged with each
                                             projection's checkpoint and the log's checksum
                                             there
              tally snapshot list
              tally snapshot prune --keep 3
            `tally serve --snapshot-every N` takes one every N events.
            """,
        subcommands: [Create.self, List.self, Prune.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Take a snapshot of the views (works while a server runs).")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            try await runReporting(json: self.options.json) {
                try await withLedger(self.options, readOnly: true) { ledger in
                    let entry = try ViewSnapshot.create(log: ledger.log)
                    Output.print(
                        json: self.options.json, SnapshotCommand.object(entry),
                        text: "snapshot \(entry.path): \(entry.manifest.projections.sorted { $0.key < $1.key }.map { "\($0.key) at \($0.value.position)" }.joined(separator: ", "))")
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the snapshots, newest first, and whether each matches the log.")
        @OptionGroup var options: CommonOptions

        func run() async throws {
            try await runReporting(json: self.options.json) {
                try await withLedger(self.options, readOnly: true) { ledger in
                    let entries = ViewSnapshot.list(data: self.options.data)
                    if self.options.json {
                        print(Output.json(entries.map { SnapshotCommand.object($0).merging(["matches": ViewSnapshot.matches($0.manifest.projections, log: ledger.log)]) { $1 } }))
                        return
                    }
                    if entries.isEmpty { print("no snapshots in \(ViewSnapshot.directory(in: self.options.data))") }
                    for entry in entries {
                        let matches = ViewSnapshot.matches(entry.manifest.projections, log: ledger.log) ? "matches the log" : "DOES NOT match the log"
                        print("\(entry.manifest.createdAt)  from position \(entry.manifest.position)  \(entry.manifest.file.bytes) bytes  \(matches)  \(entry.path)")
                    }
                }
            }
        }
    }

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete all but the newest N snapshots.")
        @OptionGroup var options: CommonOptions
        @Option(help: "How many to keep.") var keep: Int

        func run() async throws {
            try await runReporting(json: self.options.json) {
                let deleted = try ViewSnapshot.prune(data: self.options.data, keep: self.keep)
                Output.print(
                    json: self.options.json, ["deleted": deleted],
                    text: deleted.isEmpty ? "nothing to delete" : deleted.map { "deleted \($0)" }.joined(separator: "\n"))
            }
        }
    }

    static func object(_ entry: ViewSnapshot.Entry) -> [String: Any] {
        [
            "path": entry.path, "created_at": entry.manifest.createdAt, "position": entry.manifest.position,
            "log_position": entry.manifest.logPosition, "bytes": entry.manifest.file.bytes,
            "projections": Dictionary(uniqueKeysWithValues: entry.manifest.projections.map { ($0.key, $0.value.position) }),
        ]
    }
}
