import Foundation
public import TallyDomain
import TallyLMDB
public import TallyLog

/// Health: each component's current status and since when, its status transitions, and
/// incidents (spans of degraded or unhealthy), from `health.checked` events.
///
/// Databases: `health.components` (component → ``ComponentHealth``), `health.transitions`
/// (component ‖ 0x00 ‖ time u64 BE → status u8: every change of status), `health.incidents`
/// (component ‖ 0x00 ‖ start u64 BE → end u64 LE (0 while open) ‖ worst status u8). Times are
/// the events' recorded-at, nanoseconds since 1970.
public struct HealthProjection: Projection {
    public typealias Prepared = Checks
    public let name = "health"
    public let version: UInt32 = 1
    public let databases = ["health.components", "health.transitions", "health.incidents"]

    public init() {}

    /// The health checks of a batch, decoded off the views writer (``Projection/prepare(_:)``).
    public struct Checks: Sendable {
        var checks: [(position: UInt64, time: UInt64, check: HealthCheck)] = []
    }

    public func prepare(_ events: [RecordedEvent]) throws -> Checks {
        var checks = Checks()
        for event in events where event.type == "health.checked" && event.streamID.hasPrefix("health-") {
            guard case .healthChecked(let check) = try? OperationsEvent(type: event.type, payload: event.payload) else {
                throw ProjectionError(position: event.position, message: "health.checked does not decode")
            }
            checks.checks.append((event.position, event.recordedAtNanoseconds, check))
        }
        return checks
    }

    /// Applies a batch: each component is read once and written once, and an incident that
    /// several checks of the batch extend is written once, with its last value.
    public func apply(_ batch: Checks, in store: ProjectionStore) throws {
        let components = store.database("health.components")
        let transitions = store.database("health.transitions")
        let incidents = store.database("health.incidents")
        var current: [[UInt8]: ComponentHealth] = [:]
        var incidentValues: [[UInt8]: [UInt8]] = [:]
        for (_, time, check) in batch.checks {
            let key = Array(check.component.rawValue.utf8)
            var health: ComponentHealth
            var isNew = false
            if let known = current[key] {
                health = known
            } else if let stored = try store.get(components, key: key).flatMap(ComponentHealth.init) {
                health = stored
            } else {
                health = ComponentHealth(status: check.status, since: time)
                isNew = true
            }
            if isNew || health.status != check.status {
                try store.put(transitions, key: Self.timeKey(key, time), value: [ComponentHealth.code(check.status)])
                if !isNew { health.since = time }
            }
            let healthy = check.status == .healthy
            if !healthy && health.incidentStart == 0 {
                health.incidentStart = time
                health.incidentWorst = check.status
            } else if !healthy, check.status == .unhealthy {
                health.incidentWorst = .unhealthy
            }
            if health.incidentStart != 0 {
                var value = withUnsafeBytes(of: (healthy ? time : 0).littleEndian) { Array($0) }
                value.append(ComponentHealth.code(health.incidentWorst))
                incidentValues[Self.timeKey(key, health.incidentStart)] = value
                if healthy { health.incidentStart = 0 }
            }
            health.status = check.status
            health.lastCheck = time
            health.lastLatencyMilliseconds = check.latencyMilliseconds
            current[key] = health
        }
        for (key, value) in incidentValues.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            try store.put(incidents, key: key, value: value)
        }
        for (key, health) in current.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) }) {
            try store.put(components, key: key, value: health.encoded)
        }
    }

    static func timeKey(_ component: [UInt8], _ time: UInt64) -> [UInt8] {
        var key = component
        key.append(0)
        withUnsafeBytes(of: time.bigEndian) { key.append(contentsOf: $0) }
        return key
    }
}

/// A component's health as the projection keeps it.
public struct ComponentHealth: Sendable, Equatable {
    public var status: HealthStatus
    /// Since when it has had this status.
    public var since: UInt64
    public var lastCheck: UInt64 = 0
    public var lastLatencyMilliseconds: UInt64 = 0
    /// Start of the open incident, 0 if none.
    public var incidentStart: UInt64 = 0
    var incidentWorst: HealthStatus = .healthy

    init(status: HealthStatus, since: UInt64) {
        self.status = status
        self.since = since
    }

    init?(_ bytes: [UInt8]) {
        guard bytes.count == 34, let status = Self.status(bytes[0]), let worst = Self.status(bytes[1]) else { return nil }
        self.status = status
        self.incidentWorst = worst
        let words = (0..<4).map { index in bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 2 + index * 8, as: UInt64.self).littleEndian } }
        self.since = words[0]
        self.lastCheck = words[1]
        self.lastLatencyMilliseconds = words[2]
        self.incidentStart = words[3]
    }

    var encoded: [UInt8] {
        var bytes = [Self.code(self.status), Self.code(self.incidentWorst)]
        for word in [self.since, self.lastCheck, self.lastLatencyMilliseconds, self.incidentStart] {
            withUnsafeBytes(of: word.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    static func code(_ status: HealthStatus) -> UInt8 {
        switch status {
        case .healthy: 0
        case .degraded: 1
        case .unhealthy: 2
        }
    }

    static func status(_ code: UInt8) -> HealthStatus? {
        switch code {
        case 0: .healthy
        case 1: .degraded
        case 2: .unhealthy
        default: nil
        }
    }
}

/// A span during which a component was degraded or unhealthy.
public struct Incident: Sendable, Equatable {
    public var component: String
    public var start: UInt64
    /// `nil` while it lasts.
    public var end: UInt64?
    public var worst: HealthStatus
}

extension ViewStore {
    /// Every component's health, by name.
    public func components() throws -> [(name: String, health: ComponentHealth)] {
        try self.read { txn in
            try txn.withCursor(self.database("health.components", txn)) { cursor throws in
                var result: [(String, ComponentHealth)] = []
                var entry = try cursor.first()
                while let current = entry {
                    if let health = ComponentHealth(Array(current.value)) {
                        result.append((String(decoding: current.key, as: UTF8.self), health))
                    }
                    entry = try cursor.next()
                }
                return result
            }
        }
    }

    /// The incidents of `component`, oldest first.
    public func incidents(of component: String) throws -> [Incident] {
        try self.read { txn in
            try txn.withCursor(self.database("health.incidents", txn)) { cursor throws in
                let prefix = Array(component.utf8) + [0]
                var result: [Incident] = []
                var entry = try prefix.withUnsafeBytes { key in try cursor.seek(atLeast: key) }
                while let current = entry, current.key.count == prefix.count + 8, current.key.prefix(prefix.count).elementsEqual(prefix),
                    current.value.count == 9
                {
                    let start = current.key.loadUnaligned(fromByteOffset: prefix.count, as: UInt64.self).bigEndian
                    let end = current.value.loadUnaligned(as: UInt64.self).littleEndian
                    result.append(
                        Incident(component: component, start: start, end: end == 0 ? nil : end, worst: ComponentHealth.status(current.value[8]) ?? .degraded))
                    entry = try cursor.next()
                }
                return result
            }
        }
    }

    /// The share of `[now - window, now]` that `component` was healthy, time-weighted over
    /// its status changes (counted from its first check if that came later); `nil` if it
    /// was never checked before `now`.
    public func uptime(of component: String, window: Duration, now: UInt64) throws -> Double? {
        let windowNanoseconds = UInt64(window.components.seconds) * 1_000_000_000
        let start = now > windowNanoseconds ? now - windowNanoseconds : 0
        return try self.read { txn in
            try txn.withCursor(self.database("health.transitions", txn)) { cursor throws -> Double? in
                let prefix = Array(component.utf8) + [0]
                var changes: [(time: UInt64, healthy: Bool)] = []
                var entry = try prefix.withUnsafeBytes { key in try cursor.seek(atLeast: key) }
                while let current = entry, current.key.count == prefix.count + 8, current.key.prefix(prefix.count).elementsEqual(prefix) {
                    let time = current.key.loadUnaligned(fromByteOffset: prefix.count, as: UInt64.self).bigEndian
                    changes.append((time, current.value.first == 0))
                    entry = try cursor.next()
                }
                guard let first = changes.first, first.time < now else { return nil }
                var healthy: UInt64 = 0
                let from = max(start, first.time)
                for (index, change) in changes.enumerated() {
                    let begin = max(change.time, from)
                    let end = min(index + 1 < changes.count ? changes[index + 1].time : now, now)
                    if end > begin && change.healthy { healthy += end - begin }
                }
                return now > from ? Double(healthy) / Double(now - from) : nil
            }
        }
    }
}
