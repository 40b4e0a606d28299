import Foundation
import Tally
import TallyTesting
import Testing

/// A writer killed while it holds everything a writer holds: the data-directory lock
/// (`flock`) and LMDB's write lock (a robust mutex in `lock.mdb`), with an append written
/// into an open write transaction. While it lives, the next writer is refused naming its pid;
/// once it is SIGKILLed, the next `tally append` (a real CLI process) gets both locks at once,
/// the uncommitted append left no trace and verify is clean.
@Suite struct KilledWriterTests {
    @Test func aWriterKilledInsideAWriteTransactionDoesNotBlockTheNext() async throws {
        try await withTemporaryDirectory(prefix: "tally-killed-writer") { dir in
            let tally = BuiltProducts.executable("tally")
            #expect(try await runProcess(tally, ["init", "--data", dir.path]).status == 0)
            let first = try await runProcess(tally, ["append", "--data", dir.path, "--stream", "before", "--type", "test.noted", "--payload", "{}", "--json"])
            #expect(first.status == 0, "\(first.standardError)")

            let child = Process()
            child.executableURL = URL(fileURLWithPath: BuiltProducts.executable("TallyCrashChild"))
            child.arguments = [dir.path, "0", "0", "hold-writer"]
            let out = Pipe()
            child.standardOutput = out
            child.standardError = FileHandle.nullDevice
            try child.run()
            var seen = Data()
            let deadline = Date().addingTimeInterval(30)
            while !String(decoding: seen, as: UTF8.self).contains("\n") && Date() < deadline && child.isRunning {
                seen.append(out.fileHandleForReading.availableData)
            }
            #expect(String(decoding: seen, as: UTF8.self).hasPrefix("WRITING 2"), "the writer never wrote: \(String(decoding: seen, as: UTF8.self))")

            let refused = try await runProcess(tally, ["append", "--data", dir.path, "--stream", "during", "--type", "test.noted", "--payload", "{}", "--json"])
            #expect(refused.status != 0)
            let said = refused.standardOutput + refused.standardError
            #expect(said.contains("\"locked\"") && said.contains("process \(child.processIdentifier)"), "\(said)")

            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            let next = try await runProcess(tally, ["append", "--data", dir.path, "--stream", "after", "--type", "test.noted", "--payload", "{}", "--json"])
            #expect(next.status == 0, "the next writer was blocked: \(next.standardError)")

            let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(readOnly: true))
            #expect(ledger.log.headPosition == 2, "the killed writer's uncommitted append must leave no trace")
            #expect(try ledger.log.streamVersion("never-committed") == nil)
            #expect(try ledger.log.streamVersion("after") == 0)
            let report = try ledger.log.verify()
            #expect(report.isClean, "\(report.reason ?? "")")
            await ledger.close()
        }
    }
}
