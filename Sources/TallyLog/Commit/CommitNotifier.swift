import NIOConcurrencyHelpers

/// Wakes subscribers when the log head moves, without polling.
final class CommitNotifier: Sendable {
    private struct Waiter {
        let id: UInt64
        let target: UInt64
        let continuation: CheckedContinuation<UInt64, Never>
    }

    private struct State {
        var head: UInt64
        var waiters: [Waiter] = []
        var nextID: UInt64 = 0
        var closed = false
    }

    private let state: NIOLockedValueBox<State>

    init(head: UInt64) {
        self.state = NIOLockedValueBox(State(head: head))
    }

    /// The last committed position.
    var head: UInt64 { self.state.withLockedValue { $0.head } }

    /// Announces a new head; wakes every waiter whose target it reaches.
    func publish(head: UInt64) {
        let ready = self.state.withLockedValue { state -> [Waiter] in
            precondition(head >= state.head, "the head never moves back")
            state.head = head
            let ready = state.waiters.filter { $0.target <= head }
            state.waiters.removeAll { $0.target <= head }
            return ready
        }
        for waiter in ready { waiter.continuation.resume(returning: head) }
    }

    /// Wakes everyone; later waits return at once.
    func close() {
        let all = self.state.withLockedValue { state -> [Waiter] in
            state.closed = true
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in all { waiter.continuation.resume(returning: self.head) }
    }

    /// Waits until the head reaches `target`, the notifier closes, or the task is cancelled;
    /// returns the head then.
    func wait(untilHeadReaches target: UInt64) async -> UInt64 {
        let id = self.state.withLockedValue { state -> UInt64 in
            state.nextID += 1
            return state.nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let immediate = self.state.withLockedValue { state -> UInt64? in
                    if state.head >= target || state.closed || Task.isCancelled { return state.head }
                    state.waiters.append(Waiter(id: id, target: target, continuation: continuation))
                    return nil
                }
                if let head = immediate { continuation.resume(returning: head) }
            }
        } onCancel: {
            let waiter = self.state.withLockedValue { state -> Waiter? in
                guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: index)
            }
            waiter?.continuation.resume(returning: self.head)
        }
    }
}
