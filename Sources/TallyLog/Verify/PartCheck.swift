import Dispatch
import Foundation
import NIOConcurrencyHelpers
import Synchronization

/// ``EventLog/verifyPart(from:through:checkpoint:head:checked:)`` on its own thread.
final class PartCheck: Sendable {
    private let done = DispatchSemaphore(value: 0)
    private let result = NIOLockedValueBox<Result<EventLog.PartResult, any Error>?>(nil)

    init(log: EventLog, from start: UInt64, through end: UInt64, checkpoint: UInt64, head: UInt64, checked: RecordCount) {
        let thread = Thread { [self] in
            let outcome = Result {
                try log.verifyPart(from: start, through: end, checkpoint: checkpoint, head: head, checked: checked)
            }
            self.result.withLockedValue { $0 = outcome }
            self.done.signal()
        }
        thread.name = "tally-verify"
        thread.start()
    }

    /// Waits for the part's result, calling `progress` now and then meanwhile.
    func wait(progress: () -> Void) -> Result<EventLog.PartResult, any Error> {
        while self.done.wait(timeout: .now() + .milliseconds(250)) == .timedOut { progress() }
        return self.result.withLockedValue { $0 } ?? .failure(LogError(.storage, "a verify thread ended without a result"))
    }
}

/// Records checked so far by the verify threads, for progress reports.
final class RecordCount: Sendable {
    private let count = Atomic<UInt64>(0)

    func add(_ records: UInt64) { self.count.add(records, ordering: .relaxed) }

    var value: UInt64 { self.count.load(ordering: .relaxed) }
}
