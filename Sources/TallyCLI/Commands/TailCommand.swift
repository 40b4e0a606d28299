import ArgumentParser
import Tally

struct TailCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tail",
        abstract: "Print events from a position on, then follow new ones until interrupted (Ctrl-C).",
        discussion: """
            Opens read-only, so it follows a ledger that another process (e.g. `tally
            serve`) writes; new events are picked up within 100 ms. --from-position
            defaults to the current head + 1 (only new events).
            """)

    @OptionGroup var options: CommonOptions
    @Option(help: "The first position to print.") var fromPosition: UInt64?

    func run() async throws {
        try await runReporting(json: self.options.json) {
            let ledger = try await Ledger.open(
                at: self.options.data, configuration: self.options.configuration(readOnly: true), replayingWriteModels: false)
            let start = self.fromPosition ?? (ledger.log.headPosition + 1)
            guard start > 0 else { throw CLIError(code: "invalid_argument", message: "positions start at 1") }
            for try await event in ledger.log.subscribe(fromPosition: start) {
                print(self.options.json ? Output.json(Output.object(event)) : Output.line(event))
                fflushStandardOutput()
            }
            await ledger.close()
        }
    }
}
