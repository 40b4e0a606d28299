import ArgumentParser
import Foundation
import Tally

struct VerifyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every record checksum, the chain, the seals and the indexes; name the first bad position.",
        discussion: """
            Also checks that no projection in <data>/views is ahead of the log (the views
            never lead the log: if one does, the log lost commits it had acknowledged).

            Exit status: 0 clean, 1 corruption found, 2 usage or I/O error. The scan runs
            in a child process: LMDB has no page checksums, and a damaged page can crash
            its reader; a crashed child is reported as corruption. Works while another
            process writes.
            """)

    @OptionGroup var options: CommonOptions
    @Flag(help: .hidden) var inProcess = false

    func run() async throws {
        if self.inProcess {
            try await self.scan()
            return
        }
        try await runReporting(json: self.options.json) {
            let child = try ChildRun.run(["verify", "--data", self.options.data, "--map-size", "\(self.options.mapSize)", "--in-process", "--json"])
            if let signal = child.signal {
                let message = "the verifier crashed (signal \(signal)) while reading the log: its LMDB pages are damaged; restore from a backup"
                Output.print(json: self.options.json, ["clean": false, "reason": message], text: "CORRUPT: \(message)")
                throw ExitCode(1)
            }
            guard let object = child.object else {
                throw CLIError(code: "storage_error", message: "the verifier exited \(child.status) without a report")
            }
            if let error = object["error"] as? [String: Any] {
                throw CLIError(code: "\(error["code"] ?? "error")", message: "\(error["message"] ?? "")")
            }
            self.render(object)
            if child.status != 0 { throw ExitCode(1) }
        }
    }

    private func render(_ report: [String: Any]) {
        let clean = report["clean"] as? Bool ?? false
        let records = report["records_checked"] ?? 0
        let text: String
        if clean {
            text = "clean: \(records) records, \(report["seals_checked"] ?? 0) seals, \(report["index_entries_checked"] ?? 0) index entries verified (head position \(report["head_position"] ?? 0))"
        } else {
            text = "CORRUPT at position \(report["first_bad_position"] ?? "?"): \(report["reason"] ?? "")\n(\(records) records before it verified)"
        }
        Output.print(json: self.options.json, report, text: text)
    }

    private func scan() async throws {
        try await runReporting(json: true) {
            let report: VerifyReport
            do {
                // Opening replays and checks the tail, so corruption may surface here already.
                let ledger = try await Ledger.open(
                at: self.options.data, configuration: self.options.configuration(readOnly: true), replayingWriteModels: false)
                do {
                    report = try ledger.log.verify()
                    // A clean log can still have lost its last commits whole; the views,
                    // which never lead the log, tell.
                    if report.isClean, let lost = try ViewStore.checkNotAhead(dataDirectory: self.options.data, logHead: report.headPosition) {
                        throw lost
                    }
                } catch {
                    await ledger.close()
                    throw error
                }
                await ledger.close()
            } catch let error as LogError where error.code == .corruption {
                print(Output.json(["clean": false, "first_bad_position": error.position ?? 0, "reason": error.message]))
                throw ExitCode(1)
            }
            var object: [String: Any] = [
                "clean": report.isClean, "records_checked": report.recordsChecked, "seals_checked": report.sealsChecked,
                "index_entries_checked": report.indexEntriesChecked, "head_position": report.headPosition,
            ]
            if let position = report.firstBadPosition { object["first_bad_position"] = position }
            if let reason = report.reason { object["reason"] = reason }
            print(Output.json(object))
            if !report.isClean { throw ExitCode(1) }
        }
    }
}
