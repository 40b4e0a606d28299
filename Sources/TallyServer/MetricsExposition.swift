import Foundation
import Prometheus
public import Tally

/// The Prometheus text exposition of a ledger: counters from the metrics projection,
/// gauges of the log, the write models and the projections, and a histogram of deployment
/// durations, rendered with swift-prometheus.
public enum MetricsExposition {
    /// Deployment-duration histogram buckets.
    public static let durationBuckets: [Duration] = [.seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600), .seconds(1_800), .seconds(3_600)]

    private static let help: [String: String] = [
        "tally_events_total": "Events in the log, by type.",
        "tally_transfers_total": "Posted transfers and reversals, by currency and kind.",
        "tally_transfer_volume_total": "Minor units moved by posted transfers and reversals, by currency.",
        "tally_pending_commits_total": "Pending transfers committed.",
        "tally_pending_committed_volume_total": "Minor units posted by committing pending transfers.",
        "tally_accounts_opened_total": "Accounts opened, by currency.",
        "tally_deployments_total": "Deployment steps, by service, environment and outcome.",
        "tally_rollbacks_total": "Rollbacks, by service.",
    ]

    private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// Renders the exposition; `now` (ns since 1970) dates the activity window.
    public static func render(ledger: Ledger, views: ViewStore, projections: [ProjectionStatus], now: UInt64) throws -> String {
        let registry = PrometheusCollectorRegistry()
        for (series, value) in try views.counters() {
            let counter = registry.makeCounter(
                descriptor: Self.descriptor(series.name, Self.help[series.name] ?? "Tally counter \(series.name)."), labels: series.labels)
            counter.increment(by: Int64(clamping: value))
        }
        let stats = try ledger.log.stats()
        registry.makeGauge(descriptor: Self.descriptor("tally_log_head_position", "The last committed log position.")).set(Int64(clamping: stats.headPosition))
        registry.makeGauge(descriptor: Self.descriptor("tally_log_size_bytes", "Bytes of record data in the log.")).set(Int64(clamping: stats.bytes))
        registry.makeGauge(descriptor: Self.descriptor("tally_log_streams", "Streams in the log.")).set(Int64(clamping: stats.streams))
        let accounts = ledger.accounts()
        registry.makeGauge(descriptor: Self.descriptor("tally_accounts", "Open and closed accounts.")).set(Int64(accounts.count))
        registry.makeGauge(descriptor: Self.descriptor("tally_agents", "Agents owning at least one account.")).set(Int64(Set(accounts.map(\.agent)).count))
        for status in projections {
            registry.makeGauge(descriptor: Self.descriptor("tally_projection_lag_events", "Events a projection is behind the log head."), labels: [("projection", status.name)])
                .set(Int64(clamping: status.lagEvents))
            registry.makeGauge(descriptor: Self.descriptor("tally_projection_checkpoint", "The last position a projection applied."), labels: [("projection", status.name)])
                .set(Int64(clamping: status.checkpoint))
            registry.makeGauge(descriptor: Self.descriptor("tally_projection_stopped", "1 if the projection stopped on an error."), labels: [("projection", status.name)])
                .set(Int64(status.failure == nil ? 0 : 1))
        }
        for (component, health) in try views.components() {
            for status in HealthStatus.allCases {
                registry.makeGauge(
                    descriptor: Self.descriptor("tally_health_status", "1 for a component's current health status, 0 for the others."),
                    labels: [("component", component), ("status", status.rawValue)]
                ).set(Int64(health.status == status ? 1 : 0))
            }
        }
        let histogram = registry.makeDurationHistogram(
            descriptor: Self.descriptor("tally_deployment_duration_seconds", "Time from a deployment's start to its success."),
            buckets: Self.durationBuckets)
        for current in try views.currentDeployments() {
            for record in try views.deploymentHistory(service: current.service, environment: current.environment, limit: .max) {
                if let milliseconds = record.durationMilliseconds { histogram.record(.milliseconds(Int64(clamping: milliseconds))) }
            }
        }
        _ = now
        return registry.emitToString()
    }
}
