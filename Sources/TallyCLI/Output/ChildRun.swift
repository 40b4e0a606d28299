import Foundation

/// This `tally` binary run again as a child process that prints one JSON object: deep checks
/// run there, because a damaged LMDB page can crash its reader and the parent must live to
/// report it.
struct ChildRun {
    /// The child died of a signal (its number), or exited with this status.
    var signal: Int32?
    var status: Int32
    /// The JSON object it printed, if any.
    var object: [String: Any]?

    static func run(_ arguments: [String]) throws -> ChildRun {
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        child.arguments = arguments
        let out = Pipe()
        child.standardOutput = out
        try child.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        child.waitUntilExit()
        let crashed = child.terminationReason == .uncaughtSignal
        return ChildRun(
            signal: crashed ? child.terminationStatus : nil, status: crashed ? -1 : child.terminationStatus,
            object: try? JSONSerialization.jsonObject(with: data) as? [String: Any])
    }
}
