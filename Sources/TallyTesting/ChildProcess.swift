public import Foundation

/// Locates the executables this package builds next to the test bundle.
public enum BuiltProducts {
    /// The folder that holds the built products (`.build/<triple>/debug`).
    public static var directory: URL {
        // The test runner is `<products>/tallyPackageTests.xctest` (a file on Linux).
        var url = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        while url.path != "/" {
            url = url.deletingLastPathComponent()
            if FileManager.default.isExecutableFile(atPath: url.appendingPathComponent("tally").path) { return url }
        }
        return URL(fileURLWithPath: FileManager.default.currentDirectoryPath + "/.build/debug")
    }

    /// The path of a built executable, e.g. `tally`.
    public static func executable(_ name: String) -> String {
        self.directory.appendingPathComponent(name).path
    }
}

/// The outcome of a finished process.
public struct ProcessOutput: Sendable {
    /// The exit status, or the signal number when ``wasSignalled``.
    public var status: Int32
    /// Whether a signal ended it.
    public var wasSignalled: Bool
    /// Everything written to standard output.
    public var standardOutput: String
    /// Everything written to standard error.
    public var standardError: String
}

/// Runs `executable` with `arguments` to completion and captures its output.
///
/// The waiting happens on a thread of its own (``blocking(_:)``), not on one of the few
/// threads the tests running in parallel share.
public func runProcess(
    _ executable: String, _ arguments: [String], input: String? = nil, currentDirectory: String? = nil
) async throws -> ProcessOutput {
    try await blocking { try runProcessWaiting(executable, arguments, input: input, currentDirectory: currentDirectory) }
}

/// Runs blocking work (waiting for a child process, reading a pipe to its end, sleeping
/// between signals) on a thread of its own and returns its result, so that it does not hold
/// one of the cooperative threads Swift's concurrency shares among the tests running in
/// parallel (there are as many as cores: two blocked ones stall every other test).
public func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        let thread = Thread { continuation.resume(with: Result { try body() }) }
        thread.start()
    }
}

private func runProcessWaiting(
    _ executable: String, _ arguments: [String], input: String?, currentDirectory: String?
) throws -> ProcessOutput {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let currentDirectory {
        process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory)
    }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let inputPipe = Pipe()
    process.standardInput = inputPipe
    try process.run()
    if let input {
        inputPipe.fileHandleForWriting.write(Data(input.utf8))
    }
    try inputPipe.fileHandleForWriting.close()
    // Read both pipes before waiting so a chatty child never blocks on a full pipe.
    let errData = Locked(Data())
    let errReader = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
    errReader.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errData.isSet { usleep(1_000) }
    return ProcessOutput(
        status: process.terminationStatus,
        wasSignalled: process.terminationReason == .uncaughtSignal,
        standardOutput: String(decoding: outData, as: UTF8.self),
        standardError: String(decoding: errData.value, as: UTF8.self))
}

final class Locked<Value: Sendable>: @unchecked Sendable {
    // @unchecked: `lock` guards every access to `stored` and `done`.
    private let lock = NSLock()
    private var stored: Value
    private var done = false
    init(_ value: Value) { self.stored = value }
    func set(_ value: Value) { self.lock.withLock { self.stored = value; self.done = true } }
    var value: Value { self.lock.withLock { self.stored } }
    var isSet: Bool { self.lock.withLock { self.done } }
}
