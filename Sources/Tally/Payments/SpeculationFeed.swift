import Synchronization
import TallyDomain
import TallyLog

/// The speculations of a batch's commands (``PaymentsModel/Speculation``), made in the
/// caller's task while the log's writer thread already decides the first commands, so that
/// making events and committing them overlap instead of taking turns.
///
/// One producer fills the slots in order and publishes how many are filled; the writer
/// reads only published slots. A command whose slot is not published yet is decided without
/// its speculation (the writer makes its events itself), so the writer never waits for the
/// producer, and the producer skips the commands the writer has already passed.
final class SpeculationFeed: @unchecked Sendable {
    // @unchecked: slot `i` is written once, by the producer, while `i >= published`, and read
    // only after an acquiring load of `published` showed `i < published`.
    private let slots: UnsafeMutableBufferPointer<PaymentsModel.Speculation?>
    /// How many slots, from the first, are final.
    private let published = Atomic<Int>(0)
    /// How many commands the writer has decided (a hint for the producer).
    private let consumed = Atomic<Int>(0)

    /// Commands made before the batch is handed to the writer (enough to keep it busy while
    /// the producer makes the next ones).
    static let lead = 256
    /// Commands the producer makes between two publications.
    static let step = 256

    /// Slots for `count` commands, none made yet.
    init(count: Int) {
        self.slots = .allocate(capacity: count)
        self.slots.initialize(repeating: nil)
    }

    deinit {
        self.slots.deinitialize()
        self.slots.deallocate()
    }

    /// How many commands the feed is for.
    var count: Int { self.slots.count }

    /// Producer only: makes the speculations of the slots up to `end` (those the writer has
    /// not passed yet) with `make`, then publishes them.
    func fill(upTo end: Int, _ make: (Int) -> PaymentsModel.Speculation?) {
        let start = max(self.published.load(ordering: .relaxed), self.consumed.load(ordering: .relaxed))
        let end = min(end, self.slots.count)
        if start < end {
            for index in start..<end { self.slots[index] = make(index) }
        }
        self.published.store(max(end, self.published.load(ordering: .relaxed)), ordering: .releasing)
    }

    /// Writer only: the speculation of command `index` if it is made, and notes that the
    /// writer has reached it.
    func take(_ index: Int) -> PaymentsModel.Speculation? {
        self.consumed.store(index + 1, ordering: .relaxed)
        guard index < self.published.load(ordering: .acquiring) else { return nil }
        return self.slots[index]
    }

    /// Writer only: the speculation of command `index` if it is made, without noting that
    /// the writer reached it (to read ahead).
    func peek(_ index: Int) -> PaymentsModel.Speculation? {
        guard index < self.published.load(ordering: .acquiring) else { return nil }
        return self.slots[index]
    }

    /// Whether the writer has decided every command (the producer can stop).
    var isConsumed: Bool { self.consumed.load(ordering: .relaxed) >= self.slots.count }
}

extension PaymentsModel {
    /// A feed for `commands` with the first ``SpeculationFeed/lead`` of them made; `rest`
    /// makes the others (run it while the batch commits) and is `nil` when there are none.
    static func feed(_ commands: [PaymentCommand], metadata: EventMetadata) -> (feed: SpeculationFeed, rest: (@Sendable () async -> Void)?) {
        let feed = SpeculationFeed(count: commands.count)
        feed.fill(upTo: SpeculationFeed.lead) { Self.speculate(commands[$0], metadata: metadata) }
        guard commands.count > SpeculationFeed.lead else { return (feed, nil) }
        return (
            feed,
            {
                var end = SpeculationFeed.lead
                while end < commands.count, !feed.isConsumed, !Task.isCancelled {
                    end += SpeculationFeed.step
                    feed.fill(upTo: end) { Self.speculate(commands[$0], metadata: metadata) }
                }
            }
        )
    }

    /// A feed with every command of `commands` made (for tests and small batches).
    static func madeFeed(_ commands: [PaymentCommand], metadata: EventMetadata) -> SpeculationFeed {
        let feed = SpeculationFeed(count: commands.count)
        feed.fill(upTo: commands.count) { Self.speculate(commands[$0], metadata: metadata) }
        return feed
    }
}
