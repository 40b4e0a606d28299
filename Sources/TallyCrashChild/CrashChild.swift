import Foundation
import Tally

/// The process the crash tests kill: appends single events durably from many tasks and
/// writes one line per acknowledged append to standard output:
/// `ACK <position> <event id> <stream> <version>`.
///
/// Usage: `TallyCrashChild DATA_DIR TASKS STREAMS`. Runs until killed. The payload of each
/// event is `{"id":"<event id>"}`, so the parent can check it byte for byte.
@main
enum CrashChild {
    static func main() async throws {
        let arguments = CommandLine.arguments
        guard arguments.count == 4, let tasks = Int(arguments[2]), let streams = Int(arguments[3]) else {
            FileHandle.standardError.write(Data("usage: TallyCrashChild DATA_DIR TASKS STREAMS\n".utf8))
            exit(2)
        }
        let ledger = try await Ledger.open(
            at: arguments[1], configuration: LogConfiguration(tailEventsMax: 500, createIfMissing: true))
        let output = FileHandle.standardOutput
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var counter = 0
                    while true {
                        counter += 1
                        let id = UUID()
                        let stream = "crash-\((task * 7919 + counter) % streams)"
                        let payload = Array("{\"id\":\"\(id.uuidString)\"}".utf8)
                        let result = try await ledger.log.append(
                            to: stream, events: [ProposedEvent(id: id, type: "crash.tested", payload: payload)])
                        // One write(2) per line: a line is either whole in the pipe or absent.
                        output.write(Data("ACK \(result.firstPosition) \(id.uuidString) \(stream) \(result.streamVersions[0])\n".utf8))
                    }
                }
            }
            try await group.waitForAll()
        }
    }
}
