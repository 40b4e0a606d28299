import ArgumentParser
import Tally

struct InitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init", abstract: "Create a data directory (does nothing to an existing one).")

    @OptionGroup var options: CommonOptions

    func run() async throws {
        try await runReporting(json: self.options.json) {
            let ledger = try await Ledger.open(at: self.options.data, configuration: self.options.configuration(readOnly: false, create: true))
            let head = ledger.log.headPosition
            await ledger.close()
            Output.print(
                json: self.options.json, ["data": self.options.data, "head_position": head],
                text: "initialized \(self.options.data) (head position \(head))")
        }
    }
}
