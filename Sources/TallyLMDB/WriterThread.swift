#if canImport(Glibc)
internal import Glibc
#endif
import NIOConcurrencyHelpers

/// A dedicated OS thread that runs jobs one at a time, in submission order.
///
/// LMDB ties a write transaction to the thread that began it, and committing it on
/// another thread deadlocks every later writer. Every write transaction in Tally therefore
/// begins and commits on one `WriterThread`; async callers hop onto it with
/// ``run(_:)``.
public final class WriterThread: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var stopping = false
    }

    private let state = NIOLockedValueBox(State())
    // @unchecked-free: a POSIX semaphore is thread-safe by definition; the pointer is
    // allocated once and freed in deinit after the thread has exited.
    nonisolated(unsafe) private let wakeup: UnsafeMutablePointer<sem_t>
    private let threadID = NIOLockedValueBox<pthread_t?>(nil)
    /// A name for logs and debuggers.
    public let name: String

    /// Starts the thread.
    ///
    /// - Parameter name: shown in logs and as the OS thread name (first 15 bytes).
    public init(name: String) {
        self.name = name
        self.wakeup = .allocate(capacity: 1)
        sem_init(self.wakeup, 0, 0)
        let box = Unmanaged.passRetained(self)
        var thread = pthread_t()
        let code = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let me = Unmanaged<WriterThread>.fromOpaque(raw).takeRetainedValue()
            me.loop()
            return nil
        }, box.toOpaque())
        precondition(code == 0, "pthread_create failed with \(code)")
        self.threadID.withLockedValue { $0 = thread }
    }

    deinit {
        sem_destroy(self.wakeup)
        self.wakeup.deallocate()
    }

    /// Whether the calling code runs on this thread.
    public var isCurrent: Bool {
        guard let id = self.threadID.withLockedValue({ $0 }) else { return false }
        return pthread_equal(id, pthread_self()) != 0
    }

    /// Traps unless called on this thread.
    /// CPU time the thread has used so far, in seconds (`nil` if the system does not say):
    /// with the wall clock around a workload, how busy the thread was and what each event
    /// cost it, unaffected by other processes on the machine.
    public var cpuSeconds: Double? {
        guard let id = self.threadID.withLockedValue({ $0 }) else { return nil }
        var clock = clockid_t()
        guard pthread_getcpuclockid(id, &clock) == 0 else { return nil }
        var spec = timespec()
        guard clock_gettime(clock, &spec) == 0 else { return nil }
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    public func preconditionCurrent(file: StaticString = #fileID, line: UInt = #line) {
        precondition(self.isCurrent, "LMDB write transaction off the writer thread '\(self.name)'", file: file, line: line)
    }

    /// Queues `job`; it runs after every job submitted before it.
    public func submit(_ job: @escaping @Sendable () -> Void) {
        let accepted = self.state.withLockedValue { state -> Bool in
            guard !state.stopping else { return false }
            state.jobs.append(job)
            return true
        }
        precondition(accepted, "job submitted to stopped writer thread '\(self.name)'")
        sem_post(self.wakeup)
    }

    /// Runs `body` on this thread and returns its result to the awaiting caller.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.submit {
                continuation.resume(with: Result { try body() })
            }
        }
    }

    /// Lets queued jobs finish, then ends the thread and waits for it to exit.
    public func stop() {
        precondition(!self.isCurrent, "a writer thread cannot stop itself")
        let first = self.state.withLockedValue { state -> Bool in
            defer { state.stopping = true }
            return !state.stopping
        }
        guard first else { return }
        sem_post(self.wakeup)
        if let id = self.threadID.withLockedValue({ $0 }) {
            pthread_join(id, nil)
        }
    }

    private func loop() {
        while true {
            while sem_wait(self.wakeup) != 0 {}
            let (jobs, stopping) = self.state.withLockedValue { state in
                defer { state.jobs.removeAll(keepingCapacity: true) }
                return (state.jobs, state.stopping)
            }
            for job in jobs { job() }
            if stopping && jobs.isEmpty { return }
            if stopping {
                // Drain whatever arrived while the last jobs ran, then exit.
                let rest = self.state.withLockedValue { state in
                    defer { state.jobs.removeAll() }
                    return state.jobs
                }
                for job in rest { job() }
                return
            }
        }
    }
}
