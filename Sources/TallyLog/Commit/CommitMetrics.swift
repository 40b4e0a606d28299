import NIOConcurrencyHelpers

/// Counters of the committer, for `tally stats` and benchmarks.
final class CommitMetrics: Sendable {
    struct Snapshot: Sendable {
        var commits: Int
        var events: Int
        var requests: Int
        var commitNanoseconds: Int64
    }

    private let counters = NIOLockedValueBox(Snapshot(commits: 0, events: 0, requests: 0, commitNanoseconds: 0))

    func record(batchEvents: Int, requests: Int, duration: Duration) {
        let nanoseconds = duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
        self.counters.withLockedValue {
            $0.commits += 1
            $0.events += batchEvents
            $0.requests += requests
            $0.commitNanoseconds += nanoseconds
        }
    }

    var snapshot: Snapshot { self.counters.withLockedValue { $0 } }
}
