import NIOConcurrencyHelpers

/// A token bucket per key: `rate` requests a second, bursts up to twice that.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    /// `rate` 0 turns the limit off.
    init(rate: Int) {
        self.rate = Double(rate)
    }

    /// `nil` if `key` may go ahead now; otherwise the seconds to wait before retrying.
    func admit(_ key: String) -> Int? {
        guard self.rate > 0 else { return nil }
        let now = ContinuousClock.now
        let burst = self.rate * 2
        return self.buckets.withLockedValue { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            let elapsed = now - bucket.updated
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            bucket.tokens = min(burst, bucket.tokens + seconds * self.rate)
            bucket.updated = now
            defer { buckets[key] = bucket }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return max(1, Int(((1 - bucket.tokens) / self.rate).rounded(.up)))
        }
    }
}
