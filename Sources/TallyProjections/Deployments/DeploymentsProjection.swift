import Foundation
import TallyDomain
import TallyLMDB
public import TallyLog

/// Deployments: per service and environment the current version, the last outcome and the
/// history; the DORA figures are computed from the history at query time
/// (``ViewStore/dora(service:environment:window:now:)``).
///
/// Databases: `deployments.records` (deployment id → ``DeploymentRecord`` as JSON) and
/// `deployments.history` (service ‖ 0x00 ‖ environment ‖ 0x00 ‖ started u64 BE → id).
public struct DeploymentsProjection: Projection {
    public typealias Prepared = Decoded
    public let name = "deployments"
    public let version: UInt32 = 1
    public let databases = ["deployments.records", "deployments.history"]

    public init() {}

    /// The deployment events of a batch, decoded off the views writer (``Projection/prepare(_:)``).
    public struct Decoded: Sendable {
        var events: [(position: UInt64, recordedAt: UInt64, event: OperationsEvent)] = []
    }

    public func prepare(_ events: [RecordedEvent]) throws -> Decoded {
        var decoded = Decoded()
        for event in events where event.streamID.hasPrefix("deployment-") {
            do { decoded.events.append((event.position, event.recordedAtNanoseconds, try OperationsEvent(type: event.type, payload: event.payload))) } catch {
                throw ProjectionError(position: event.position, message: "\(event.type) does not decode: \(error)")
            }
        }
        return decoded
    }

    public func apply(_ batch: Decoded, in store: ProjectionStore) throws {
        let records = store.database("deployments.records")
        let history = store.database("deployments.history")
        for (position, recordedAt, decoded) in batch.events {
            let event = (position: position, recordedAtNanoseconds: recordedAt)
            switch decoded {
            case .deploymentStarted(let deployment):
                let record = DeploymentRecord(
                    id: deployment.id.rawValue, service: deployment.service.rawValue, environment: deployment.environment.rawValue,
                    version: deployment.version, actor: deployment.actor.rawValue, startedAt: deployment.startedAt, state: "started")
                try store.put(records, key: Array(deployment.id.rawValue.utf8), value: try record.encoded())
                try store.put(history, key: DeploymentRecord.historyKey(record.service, record.environment, record.startedAt), value: Array(record.id.utf8))
            case .deploymentSucceeded(let id, let duration):
                try self.update(id, event, store, records) { record in
                    record.state = "succeeded"
                    record.finishedAt = event.recordedAtNanoseconds
                    record.durationMilliseconds = duration
                }
            case .deploymentFailed(let id, _):
                try self.update(id, event, store, records) { record in
                    record.state = "failed"
                    record.finishedAt = event.recordedAtNanoseconds
                }
            case .deploymentRolledBack(let id, let version, _):
                try self.update(id, event, store, records) { record in
                    record.state = "rolled_back"
                    record.rolledBackTo = version
                    record.rolledBackAt = event.recordedAtNanoseconds
                }
            default:
                break
            }
        }
    }

    private func update(
        _ id: DomainID, _ event: (position: UInt64, recordedAtNanoseconds: UInt64), _ store: ProjectionStore, _ records: Database,
        _ change: (inout DeploymentRecord) -> Void
    ) throws {
        let key = Array(id.rawValue.utf8)
        guard let bytes = try store.get(records, key: key), var record = try? JSONDecoder().decode(DeploymentRecord.self, from: Data(bytes)) else {
            throw ProjectionError(position: event.position, message: "deployment \(id) is unknown to the deployments projection")
        }
        change(&record)
        try store.put(records, key: key, value: try record.encoded())
    }
}

/// A deployment as the projection keeps it. Times in nanoseconds since 1970, UTC.
public struct DeploymentRecord: Codable, Sendable, Equatable {
    public var id: String
    public var service: String
    public var environment: String
    public var version: String
    public var actor: String
    public var startedAt: UInt64
    /// started, succeeded, failed or rolled_back.
    public var state: String
    public var finishedAt: UInt64?
    public var durationMilliseconds: UInt64?
    public var rolledBackTo: String?
    public var rolledBackAt: UInt64?

    func encoded() throws -> [UInt8] { Array(try JSONEncoder().encode(self)) }

    static func historyKey(_ service: String, _ environment: String, _ startedAt: UInt64) -> [UInt8] {
        var key = Array(service.utf8) + [0] + Array(environment.utf8) + [0]
        withUnsafeBytes(of: startedAt.bigEndian) { key.append(contentsOf: $0) }
        return key
    }
}

/// The four DORA figures over a window.
public struct DORAFigures: Sendable, Equatable {
    /// Successful deployments per day.
    public var deploymentsPerDay: Double
    /// Mean time from start to success, seconds (`nil` without successes).
    public var leadTimeSeconds: Double?
    /// Failed or rolled-back deployments over finished ones (`nil` if none finished).
    public var changeFailureRate: Double?
    /// Mean time from a failed or rolled-back deployment to the end of the first incident of
    /// the service's component that follows it, seconds (`nil` without such incidents).
    public var timeToRestoreSeconds: Double?
    /// Deployments started in the window.
    public var deployments: Int
}

extension ViewStore {
    /// The deployments of `service` in `environment`, newest first.
    public func deploymentHistory(service: String, environment: String, limit: Int = 100) throws -> [DeploymentRecord] {
        try self.read { txn in
            let records = try self.database("deployments.records", txn)
            return try txn.withCursor(self.database("deployments.history", txn)) { cursor throws -> [DeploymentRecord] in
                let prefix = Array(service.utf8) + [0] + Array(environment.utf8) + [0]
                var end = prefix
                end.append(contentsOf: [UInt8](repeating: 0xFF, count: 8))
                var result: [DeploymentRecord] = []
                var entry = try end.withUnsafeBytes { key in try cursor.seek(atLeast: key) }
                entry = entry == nil ? try cursor.last() : try cursor.previous()
                while result.count < limit, let current = entry, current.key.count == prefix.count + 8,
                    current.key.prefix(prefix.count).elementsEqual(prefix)
                {
                    if let bytes = try txn.get(records, key: current.value),
                        let record = try? JSONDecoder().decode(DeploymentRecord.self, from: Data(Array(bytes)))
                    {
                        result.append(record)
                    }
                    entry = try cursor.previous()
                }
                return result
            }
        }
    }

    /// Every service/environment pair with its newest deployment.
    public func currentDeployments() throws -> [DeploymentRecord] {
        try self.read { txn in
            let records = try self.database("deployments.records", txn)
            return try txn.withCursor(self.database("deployments.history", txn)) { cursor throws -> [DeploymentRecord] in
                var latest: [String: DeploymentRecord] = [:]
                var entry = try cursor.first()
                while let current = entry {
                    if let bytes = try txn.get(records, key: current.value),
                        let record = try? JSONDecoder().decode(DeploymentRecord.self, from: Data(Array(bytes)))
                    {
                        latest["\(record.service)\u{0}\(record.environment)"] = record
                    }
                    entry = try cursor.next()
                }
                return latest.values.sorted { ($0.service, $0.environment) < ($1.service, $1.environment) }
            }
        }
    }

    /// DORA figures for `service` in `environment` over `[now - window, now]`.
    public func dora(service: String, environment: String, window: Duration, now: UInt64) throws -> DORAFigures {
        let windowNanoseconds = UInt64(window.components.seconds) * 1_000_000_000
        let start = now > windowNanoseconds ? now - windowNanoseconds : 0
        let deployments = try self.deploymentHistory(service: service, environment: environment, limit: .max)
            .filter { $0.startedAt >= start && $0.startedAt <= now }
        let succeeded = deployments.filter { $0.durationMilliseconds != nil && $0.finishedAt != nil && $0.state != "failed" }
        let finished = deployments.filter { $0.finishedAt != nil }
        let failed = deployments.filter { $0.state == "failed" || $0.state == "rolled_back" }
        let days = max(Double(now - start) / 86_400e9, 1 / 24)
        let incidents = try self.incidents(of: service)
        var restores: [Double] = []
        for deployment in failed {
            if let incident = incidents.first(where: { $0.start >= deployment.startedAt }), let end = incident.end {
                restores.append(Double(end - deployment.startedAt) / 1e9)
            }
        }
        return DORAFigures(
            deploymentsPerDay: Double(succeeded.count) / days,
            leadTimeSeconds: succeeded.isEmpty ? nil : succeeded.map { Double($0.durationMilliseconds ?? 0) / 1e3 }.reduce(0, +) / Double(succeeded.count),
            changeFailureRate: finished.isEmpty ? nil : Double(failed.count) / Double(finished.count),
            timeToRestoreSeconds: restores.isEmpty ? nil : restores.reduce(0, +) / Double(restores.count),
            deployments: deployments.count)
    }
}
