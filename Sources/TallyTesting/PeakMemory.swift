public import Foundation

/// What a finished child process used at most.
public struct ProcessPeak: Sendable {
    /// The exit status (or 128 + the signal number when a signal ended it).
    public var status: Int32
    /// Its peak resident set size in bytes (`ru_maxrss` from `wait4`).
    public var residentBytes: Int
}

/// Runs `executable` with `arguments` to completion, its output to `/dev/null`, and reports its
/// own peak resident memory: `wait4` returns the child's rusage alone, unlike `RUSAGE_CHILDREN`,
/// which other tests' processes would share.
public func runProcessMeasuringPeakMemory(_ executable: String, _ arguments: [String]) throws -> ProcessPeak {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
    defer { for pointer in argv { free(pointer) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
    guard spawned == 0 else {
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "posix_spawn \(executable): \(String(cString: strerror(spawned)))"])
    }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 {
        guard errno == EINTR else {
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "wait4 \(pid): \(String(cString: strerror(errno)))"])
        }
    }
    // The W* macros are not imported; bits 0-6 hold the signal, bits 8-15 the exit code.
    let signal = status & 0x7F
    return ProcessPeak(status: signal == 0 ? (status >> 8) & 0xFF : 128 + signal, residentBytes: Int(usage.ru_maxrss) * 1024)
}
