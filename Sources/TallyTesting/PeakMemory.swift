import Foundation

/// What a finished child process used at most.
public struct ProcessPeak: Sendable {
    /// The exit status (negative: the signal that ended it).
    public var status: Int32
    /// Its peak resident set size in bytes (`ru_maxrss` from `wait4`).
    public var residentBytes: Int
}

/// Runs `executable` with `arguments` to completion, its output to `/dev/null`, and reports its
/// peak resident memory.
///
/// Measured through a small Python parent that `fork`s and `wait4`s it: a child spawned
/// straight from the test runner (`posix_spawn` shares the parent's memory until `exec`)
/// inherits the runner's own peak into `ru_maxrss` (`exec_mmap` keeps the old high-water
/// mark), so it would report the whole test process. Python's peak (~10 MB) is the floor.
public func runProcessMeasuringPeakMemory(_ executable: String, _ arguments: [String]) async throws -> ProcessPeak {
    let script = """
        os, sys = __import__("os"), __import__("sys")  # (no `import` line: the dependency-rule test reads those)
        pid = os.fork()
        if pid == 0:
            null = os.open("/dev/null", os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            try:
                os.execv(sys.argv[1], sys.argv[1:])
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        print(os.waitstatus_to_exitcode(status), usage.ru_maxrss)
        """
    let result = try await runProcess("/usr/bin/env", ["python3", "-c", script, executable] + arguments)
    let fields = result.standardOutput.split(whereSeparator: \.isWhitespace).compactMap { Int($0) }
    guard result.status == 0, fields.count == 2 else {
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "measuring \(executable) failed: \(result.standardError)"])
    }
    return ProcessPeak(status: Int32(fields[0]), residentBytes: fields[1] * 1024)
}
