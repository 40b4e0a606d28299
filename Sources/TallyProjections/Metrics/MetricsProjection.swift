import Foundation
import TallyDomain
import TallyLMDB
public import TallyLog

/// Counters for the Prometheus exposition, kept exactly once per event like every
/// projection: events by type, transfers and volume by currency, pending commits,
/// accounts opened, deployments by service, environment and outcome, rollbacks.
///
/// Database `metrics.counters`: series key (metric name, then `label=value` pairs, joined
/// by 0x1F) → u64 LE; plus `deployment` 0x1F id → service 0x1F environment, so an outcome
/// event (which names only the id) is counted under its deployment's labels.
public struct MetricsProjection: Projection {
    public let name = "metrics"
    public let version: UInt32 = 1
    public let databases = ["metrics.counters"]
    public typealias Prepared = Counted


    public init() {}

    /// A batch counted ahead: everything but the deployment outcomes, whose labels come
    /// from the view (where the deployment started).
    public struct Counted: Sendable {
        var increments: [MetricSeries: UInt64] = [:]
        /// Deployment events, in log order.
        var deployments: [OperationsEvent] = []

        mutating func add(_ name: String, _ labels: [(String, String)] = [], _ value: UInt64 = 1) {
            self.increments[MetricSeries(name: name, labels: labels), default: 0] &+= value
        }
    }

    /// Decodes and counts a batch off the views writer (``Projection/prepare(_:)``). Counts
    /// are summed under plain keys first and turned into series once per batch: building a
    /// series key per event was most of this projection's time.
    public func prepare(_ events: [RecordedEvent]) throws -> Counted {
        var counted = Counted()
        var byType: [String: UInt64] = [:]
        var transfers: [TransferSeries: (count: UInt64, volume: UInt64)] = [:]
        var accountsOpened: [String: UInt64] = [:]
        var commits: (count: UInt64, volume: UInt64) = (0, 0)
        for event in events {
            byType[event.type, default: 0] &+= 1
            if PaymentEvent.isPaymentStream(event.streamID), let decoded = try? PaymentEvent(type: event.type, payload: event.payload) {
                switch decoded {
                case .transferCreated(let transfer) where transfer.kind != .pending:
                    let key = TransferSeries(currency: transfer.currency.rawValue, kind: transfer.kind.rawValue)
                    transfers[key, default: (0, 0)].count &+= 1
                    transfers[key, default: (0, 0)].volume &+= transfer.amount
                case .transferCommitted(_, let amount):
                    commits.count &+= 1
                    commits.volume &+= amount
                case .accountOpened(let account):
                    accountsOpened[account.currency.rawValue, default: 0] &+= 1
                default:
                    break
                }
            } else if event.streamID.hasPrefix("deployment-"), let decoded = try? OperationsEvent(type: event.type, payload: event.payload) {
                counted.deployments.append(decoded)
            }
        }
        for (type, count) in byType { counted.add("tally_events_total", [("type", type)], count) }
        for (key, sums) in transfers {
            counted.add("tally_transfers_total", [("currency", key.currency), ("kind", key.kind)], sums.count)
            counted.add("tally_transfer_volume_total", [("currency", key.currency)], sums.volume)
        }
        if commits.count > 0 {
            counted.add("tally_pending_commits_total", [], commits.count)
            counted.add("tally_pending_committed_volume_total", [], commits.volume)
        }
        for (currency, count) in accountsOpened { counted.add("tally_accounts_opened_total", [("currency", currency)], count) }
        return counted
    }

    /// The labels of the transfer counters.
    private struct TransferSeries: Hashable {
        let currency: String
        let kind: String
    }

    public func apply(_ batch: Counted, in store: ProjectionStore) throws {
        var counted = batch
        for decoded in batch.deployments {
            switch decoded {
            case .deploymentStarted(let deployment):
                // Remember where the deployment runs, for the outcome's labels.
                try store.put(
                    store.database("metrics.counters"), key: Array("deployment\u{1F}\(deployment.id)".utf8),
                    value: Array("\(deployment.service)\u{1F}\(deployment.environment)".utf8))
                counted.add("tally_deployments_total", [("service", deployment.service.rawValue), ("environment", deployment.environment.rawValue), ("outcome", "started")])
            case .deploymentSucceeded(let id, _):
                // The duration histogram is built from the deployments projection.
                let (service, environment) = try self.placement(id, store)
                counted.add("tally_deployments_total", [("service", service), ("environment", environment), ("outcome", "succeeded")])
            case .deploymentFailed(let id, _):
                let (service, environment) = try self.placement(id, store)
                counted.add("tally_deployments_total", [("service", service), ("environment", environment), ("outcome", "failed")])
            case .deploymentRolledBack(let id, _, _):
                let (service, environment) = try self.placement(id, store)
                counted.add("tally_deployments_total", [("service", service), ("environment", environment), ("outcome", "rolled_back")])
                counted.add("tally_rollbacks_total", [("service", service)])
            default:
                break
            }
        }
        let increments = counted.increments
        let counters = store.database("metrics.counters")
        for (series, increment) in increments.sorted(by: { $0.key.key.lexicographicallyPrecedes($1.key.key) }) {
            let current = try store.get(counters, key: series.key).map { bytes in
                bytes.count == 8 ? bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self).littleEndian } : 0
            } ?? 0
            try store.put(counters, key: series.key, value: withUnsafeBytes(of: (current &+ increment).littleEndian) { Array($0) })
        }
    }

    private func placement(_ id: DomainID, _ store: ProjectionStore) throws -> (String, String) {
        guard let value = try store.get(store.database("metrics.counters"), key: Array("deployment\u{1F}\(id)".utf8)) else {
            return ("unknown", "unknown")
        }
        let parts = value.split(separator: 0x1F, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        return parts.count == 2 ? (parts[0], parts[1]) : ("unknown", "unknown")
    }

}

/// One counter series: a metric name and its labels.
public struct MetricSeries: Hashable, Sendable {
    public let name: String
    public let labels: [(String, String)]
    /// The database key, computed once (it is also what hashing and equality use).
    let key: [UInt8]

    public init(name: String, labels: [(String, String)]) {
        self.name = name
        self.labels = labels
        self.key = Array(([name] + labels.map { "\($0.0)=\($0.1)" }).joined(separator: "\u{1F}").utf8)
    }

    init?(key: UnsafeRawBufferPointer) {
        let parts = key.split(separator: 0x1F, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard let name = parts.first, name.hasPrefix("tally_") else { return nil }
        self.init(
            name: name,
            labels: parts.dropFirst().compactMap { pair in
                guard let equals = pair.firstIndex(of: "=") else { return nil }
                return (String(pair[..<equals]), String(pair[pair.index(after: equals)...]))
            })
    }

    public static func == (lhs: MetricSeries, rhs: MetricSeries) -> Bool { lhs.key == rhs.key }
    public func hash(into hasher: inout Hasher) { hasher.combine(self.key) }
}

extension ViewStore {
    /// Every counter series with its value.
    public func counters() throws -> [(series: MetricSeries, value: UInt64)] {
        try self.read { txn in
            try txn.withCursor(self.database("metrics.counters", txn)) { cursor throws in
                var result: [(MetricSeries, UInt64)] = []
                var entry = try cursor.first()
                while let current = entry {
                    if current.value.count == 8, let series = MetricSeries(key: current.key) {
                        result.append((series, current.value.loadUnaligned(as: UInt64.self).littleEndian))
                    }
                    entry = try cursor.next()
                }
                return result
            }
        }
    }
}
