import Foundation
import Hummingbird
import NIOConcurrencyHelpers

/// The request timeout: a request still running after the configured time is answered 503
/// `timeout` (its work goes on; a write may still commit).
///
/// One watcher for all requests instead of a timer and a task group per request (which cost
/// a third of the server's throughput on single-event appends). Every deadline is now plus
/// the same timeout, so deadlines arrive in order and a FIFO queue holds them; the watcher
/// wakes every ``tick`` and answers the expired ones, so a timeout fires up to one tick late.
final class RequestDeadlines: Sendable {
    /// How often the watcher looks for expired requests.
    static let tick = Duration.milliseconds(100)

    let timeout: Duration
    private let queue = NIOLockedValueBox(Queue())

    private struct Queue {
        var entries: [Pending] = []
        var head = 0
        var watching = false
    }

    /// One request: its deadline, the continuation that answers it once, and the task doing
    /// its work (cancelled when the request times out or its caller is cancelled).
    private final class Pending: Sendable {
        let deadline: ContinuousClock.Instant
        private let state: NIOLockedValueBox<(continuation: CheckedContinuation<Response, any Error>?, work: Task<Void, Never>?)>

        init(deadline: ContinuousClock.Instant, continuation: CheckedContinuation<Response, any Error>) {
            self.deadline = deadline
            self.state = NIOLockedValueBox((continuation, nil))
        }

        func start(_ body: @escaping @Sendable () async throws -> Response) {
            let work = Task {
                do { self.finish(.success(try await body())) } catch { self.finish(.failure(error)) }
            }
            self.state.withLockedValue { $0.work = work }
        }

        /// Answers the request unless it was answered already.
        func finish(_ result: Result<Response, any Error>) {
            guard let continuation = self.state.withLockedValue({ $0.continuation.take() }) else { return }
            continuation.resume(with: result)
        }

        /// Cancels the work (it sees `Task.isCancelled`; what it committed stays).
        func cancel() {
            self.state.withLockedValue { $0.work }?.cancel()
        }

        var isFinished: Bool { self.state.withLockedValue { $0.continuation == nil } }
    }

    init(seconds: Double) {
        self.timeout = .milliseconds(Int64(seconds * 1_000))
    }

    /// Runs `body` in a task of its own and answers with its response, or with 503 `timeout`
    /// once the request is older than the timeout. Cancelling the caller cancels `body`.
    func run(_ body: @escaping @Sendable () async throws -> Response) async throws -> Response {
        let holder = NIOLockedValueBox<Pending?>(nil)
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                let pending = Pending(deadline: .now + self.timeout, continuation: continuation)
                holder.withLockedValue { $0 = pending }
                self.enqueue(pending)
                pending.start(body)
            }
        } onCancel: {
            holder.withLockedValue { $0 }?.cancel()
        }
    }

    private func enqueue(_ pending: Pending) {
        let startWatcher = self.queue.withLockedValue { queue in
            queue.entries.append(pending)
            defer { queue.watching = true }
            return !queue.watching
        }
        if startWatcher {
            Task.detached { [weak self] in await Self.watch(self) }
        }
    }

    /// Answers expired requests every tick while any request is queued, then ends (the next
    /// request starts it again).
    private static func watch(_ deadlines: RequestDeadlines?) async {
        while let deadlines {
            try? await Task.sleep(for: Self.tick)
            guard deadlines.expire(now: .now) else { return }
        }
    }

    /// Answers the expired requests and drops the finished ones; `false` (and the watcher
    /// stops) once nothing is queued.
    private func expire(now: ContinuousClock.Instant) -> Bool {
        let (expired, watching) = self.queue.withLockedValue { queue -> ([Pending], Bool) in
            var expired: [Pending] = []
            while queue.head < queue.entries.count {
                let pending = queue.entries[queue.head]
                let finished = pending.isFinished
                guard finished || pending.deadline <= now else { break }
                if !finished { expired.append(pending) }
                queue.head += 1
            }
            if queue.head == queue.entries.count {
                queue.entries.removeAll(keepingCapacity: true)
                queue.head = 0
                queue.watching = false
            } else if queue.head > 1_024, queue.head * 2 > queue.entries.count {
                queue.entries.removeFirst(queue.head)
                queue.head = 0
            }
            return (expired, queue.watching)
        }
        for pending in expired {
            pending.finish(.failure(Self.problem(self.timeout)))
            pending.cancel()
        }
        return watching
    }

    static func problem(_ timeout: Duration) -> APIProblem {
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18
        return APIProblem(
            .serviceUnavailable, "timeout",
            "the request took longer than \(seconds) s; a write may still have committed, so retry it with the same ids")
    }
}
