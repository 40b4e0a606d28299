import ArgumentParser
import Foundation
import Tally

struct CompactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Shrink the data directory's LMDB files: compacting copy, verified, swapped in atomically.",
        discussion: """
            LMDB reuses freed pages but never returns them to the file system. This
            rewrites <data>/log and <data>/views with LMDB's compacting copy, verifies the
            log copy (records, chain, seals, indexes, same head) and renames it over the
            original; on any failure the original stays. Offline: stop the server and other
            readers first (a running writer is refused with its pid).
            """)

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await runReporting(json: self.options.json) {
            let results = try await Compaction.run(dataDirectory: self.options.data)
            Output.print(
                json: self.options.json,
                ["environments": results.map { ["environment": $0.environment, "bytes_before": $0.bytesBefore, "bytes_after": $0.bytesAfter] }],
                text: results.map { "\($0.environment): \($0.bytesBefore) → \($0.bytesAfter) bytes" }.joined(separator: "\n"))
        }
    }
}
