/// A live subscription: every event from a position on, in order and without gaps, then
/// each new commit as it happens.
///
/// It catches up by reading pages of at most ``Limits/subscriptionBufferEventsMax`` events
/// and, once at the head, waits for the committer's notification (no polling). It reads
/// ahead at most one page, so a slow consumer holds memory for one page and nothing
/// else: backpressure is the consumer's own pace. A read-only log in another process than
/// the writer is not notified; there it checks for new events every
/// `readOnlyPollInterval`. The sequence ends when the log closes.
public struct EventSubscription: AsyncSequence, Sendable {
    /// The element type.
    public typealias Element = RecordedEvent

    let log: EventLog
    let start: UInt64
    let readOnlyPollInterval: Duration

    /// Iterates the subscription.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let log: EventLog
        let readOnlyPollInterval: Duration
        var next: UInt64
        var buffer: [RecordedEvent] = []
        var index = 0

        /// The next event; `nil` once the log has closed.
        public mutating func next() async throws -> RecordedEvent? {
            while self.index >= self.buffer.count {
                try Task.checkCancellation()
                if self.log.isClosed { return nil }
                self.buffer = try self.log.read(fromPosition: self.next, limit: Limits.subscriptionBufferEventsMax)
                self.index = 0
                if self.buffer.isEmpty {
                    if self.log.committer != nil {
                        _ = await self.log.notifier.wait(untilHeadReaches: self.next)
                    } else {
                        try await Task.sleep(for: self.readOnlyPollInterval)
                    }
                }
            }
            let event = self.buffer[self.index]
            precondition(event.position == self.next, "subscription gap: expected \(self.next), got \(event.position)")
            self.index += 1
            self.next += 1
            return event
        }

        /// The next events, at least one and at most `max`, in order: waits for the first,
        /// then takes what is already available. `nil` once the log has closed.
        public mutating func nextBatch(max limit: Int) async throws -> [RecordedEvent]? {
            guard let first = try await self.next() else { return nil }
            var batch = [first]
            while batch.count < limit {
                if self.index >= self.buffer.count {
                    self.buffer = try self.log.read(fromPosition: self.next, limit: Swift.min(Limits.readEventsMax, limit - batch.count))
                    self.index = 0
                    if self.buffer.isEmpty { break }
                }
                let take = Swift.min(self.buffer.count - self.index, limit - batch.count)
                let slice = self.buffer[self.index..<(self.index + take)]
                precondition(slice.first?.position == self.next, "subscription gap")
                batch.append(contentsOf: slice)
                self.index += take
                self.next += UInt64(take)
            }
            return batch
        }
    }

    /// Starts iterating.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(log: self.log, readOnlyPollInterval: self.readOnlyPollInterval, next: self.start)
    }
}

extension EventLog {
    /// Every event from `position` on (default: 1), then new events as they commit.
    ///
    /// - Precondition: `position` is at least 1.
    public func subscribe(fromPosition position: UInt64 = 1, readOnlyPollInterval: Duration = .milliseconds(100))
        -> EventSubscription
    {
        precondition(position > 0, "positions start at 1")
        return EventSubscription(log: self, start: position, readOnlyPollInterval: readOnlyPollInterval)
    }
}
