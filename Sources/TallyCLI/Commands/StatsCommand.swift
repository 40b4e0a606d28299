import ArgumentParser
import Tally

struct StatsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Print the head position, counts, size and chain head of the log.")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await runReporting(json: self.options.json) {
            let ledger = try await Ledger.open(
                at: self.options.data, configuration: self.options.configuration(readOnly: true), replayingWriteModels: false)
            let stats = try ledger.log.stats()
            await ledger.close()
            Output.print(
                json: self.options.json,
                [
                    "head_position": stats.headPosition, "events": stats.events, "streams": stats.streams,
                    "bytes": stats.bytes, "chain_head": stats.chainHead, "seal_head": stats.sealHead,
                    "index_checkpoint": stats.indexCheckpoint,
                ],
                text: """
                    head position     \(stats.headPosition)
                    events            \(stats.events)
                    streams           \(stats.streams)
                    bytes             \(stats.bytes)
                    chain head        \(stats.chainHead)   (XXH3-64 of the last record)
                    seal head         \(stats.sealHead)
                    index checkpoint  \(stats.indexCheckpoint)
                    """)
        }
    }
}
