import Foundation
import TallyLMDB
public import TallyLog

/// Audit: who did what and when. Indexes every event by actor, by type, by category and
/// by time, each key ending in the position, so a query is a key-order scan that yields
/// positions in order; the events themselves are read from the log.
///
/// Databases: `audit.actor`, `audit.type`, `audit.category` (value ‖ 0x00 ‖ position u64 BE)
/// and `audit.time` (recorded-at u64 BE ‖ position u64 BE); values are empty.
public struct AuditProjection: Projection {
    public typealias Prepared = Keys
    public let name = "audit"
    public let version: UInt32 = 1
    public let databases = ["audit.actor", "audit.type", "audit.category", "audit.time"]

    public init() {}

    /// A batch's index keys, made off the views writer (``Projection/prepare(_:)``): for
    /// each of the four databases, its keys back to back, in position order.
    public struct Keys: Sendable {
        /// `actor`, `type`, `category`, `time`.
        var bytes: [[UInt8]] = [[], [], [], []]
        /// Where each key ends in its database's `bytes`.
        var ends: [[Int]] = [[], [], [], []]

        mutating func add(_ database: Int, _ value: String, _ position: UInt64) {
            self.bytes[database] += value.utf8
            self.bytes[database].append(0)
            withUnsafeBytes(of: position.bigEndian) { self.bytes[database].append(contentsOf: $0) }
            self.ends[database].append(self.bytes[database].count)
        }

        mutating func addTime(_ recordedAt: UInt64, _ position: UInt64) {
            withUnsafeBytes(of: recordedAt.bigEndian) { self.bytes[3].append(contentsOf: $0) }
            withUnsafeBytes(of: position.bigEndian) { self.bytes[3].append(contentsOf: $0) }
            self.ends[3].append(self.bytes[3].count)
        }
    }

    public func prepare(_ events: [RecordedEvent]) throws -> Keys {
        var keys = Keys()
        for index in 0..<4 { keys.ends[index].reserveCapacity(events.count) }
        keys.bytes[3].reserveCapacity(events.count * 16)
        for event in events {
            if let name = event.metadata.actor, !name.isEmpty { keys.add(0, name, event.position) }
            keys.add(1, event.type, event.position)
            keys.add(2, event.category, event.position)
            keys.addTime(event.recordedAtNanoseconds, event.position)
        }
        return keys
    }

    /// Puts the keys one database at a time. The time index only grows at its end
    /// (recorded-at never decreases, positions increase), so its keys are appended
    /// (`MDB_APPEND`), with an ordinary put for one that does not sort last.
    public func apply(_ batch: Keys, in store: ProjectionStore) throws {
        let databases = ["audit.actor", "audit.type", "audit.category", "audit.time"].map { store.database($0) }
        let empty = UnsafeRawBufferPointer(start: nil, count: 0)
        for (index, database) in databases.enumerated() {
            try batch.bytes[index].withUnsafeBytes { bytes in
                var start = 0
                for end in batch.ends[index] {
                    let key = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                    if index == 3 {
                        do {
                            try store.put(database, key: key, value: empty, appending: true)
                        } catch let error as LMDBError where error.code == .keyExists {
                            try store.put(database, key: key, value: empty)
                        }
                    } else {
                        try store.put(database, key: key, value: empty)
                    }
                    start = end
                }
            }
        }
    }
}

/// What an audit query selects; every given filter must match.
public struct AuditQuery: Sendable {
    public var actor: String?
    public var type: String?
    public var category: String?
    /// Recorded-at range, nanoseconds since 1970, inclusive.
    public var since: UInt64?
    public var until: UInt64?
    /// Positions after this one (paging).
    public var afterPosition: UInt64 = 0
    public var limit = 100

    public init(actor: String? = nil, type: String? = nil, category: String? = nil, since: UInt64? = nil, until: UInt64? = nil, afterPosition: UInt64 = 0, limit: Int = 100) {
        self.actor = actor
        self.type = type
        self.category = category
        self.since = since
        self.until = until
        self.afterPosition = afterPosition
        self.limit = limit
    }

    static func key(_ value: String, _ position: UInt64) -> [UInt8] {
        var key = Array(value.utf8)
        key.append(0)
        withUnsafeBytes(of: position.bigEndian) { key.append(contentsOf: $0) }
        return key
    }
}

extension ViewStore {
    /// Positions matching `query`, ascending, at most `query.limit`, from one snapshot.
    public func audit(_ query: AuditQuery) throws -> [UInt64] {
        try self.read { txn in
            // The positions allowed by the time range (a contiguous range: recorded-at never decreases).
            guard query.afterPosition < .max else { return [] }
            var low = query.afterPosition + 1
            // Never past what the projection has applied.
            var high = try self.meta(of: "audit", txn).position
            if query.since != nil || query.until != nil {
                try txn.withCursor(self.database("audit.time", txn)) { cursor throws in
                    var start = withUnsafeBytes(of: (query.since ?? 0).bigEndian) { Array($0) }
                    start.append(contentsOf: [UInt8](repeating: 0, count: 8))
                    if let first = try start.withUnsafeBytes({ key in try cursor.seek(atLeast: key) }) {
                        low = max(low, first.key.loadUnaligned(fromByteOffset: 8, as: UInt64.self).bigEndian)
                    } else {
                        low = .max
                    }
                    if let until = query.until {
                        var end = withUnsafeBytes(of: until.bigEndian) { Array($0) }
                        end.append(contentsOf: [UInt8](repeating: 0xFF, count: 8))
                        let after = try end.withUnsafeBytes { key in try cursor.seek(atLeast: key) }
                        let last = after == nil ? try cursor.last() : try cursor.previous()
                        high = min(high, last.map { $0.key.loadUnaligned(fromByteOffset: 8, as: UInt64.self).bigEndian } ?? 0)
                    }
                }
            }
            guard low <= high else { return [] }
            // Intersect the chosen value indexes by walking the most selective one and
            // checking the others with point lookups.
            let filters: [(String, String)] = [("audit.actor", query.actor), ("audit.type", query.type), ("audit.category", query.category)]
                .compactMap { name, value in value.map { (name, $0) } }
            var result: [UInt64] = []
            if let (driver, value) = filters.first {
                let others = filters.dropFirst()
                try txn.withCursor(self.database(driver, txn)) { cursor throws in
                    let prefix = Array(value.utf8) + [0]
                    var entry = try AuditQuery.key(value, low).withUnsafeBytes { key in try cursor.seek(atLeast: key) }
                    while result.count < query.limit, let current = entry, current.key.count == prefix.count + 8,
                        current.key.prefix(prefix.count).elementsEqual(prefix)
                    {
                        let position = current.key.loadUnaligned(fromByteOffset: prefix.count, as: UInt64.self).bigEndian
                        if position > high { break }
                        var matches = true
                        for (name, other) in others {
                            let hit = try AuditQuery.key(other, position).withUnsafeBytes { key in
                                try txn.get(self.database(name, txn), key: key)
                            }
                            if hit == nil { matches = false; break }
                        }
                        if matches { result.append(position) }
                        entry = try cursor.next()
                    }
                }
            } else {
                var position = low
                while result.count < query.limit && position <= high {
                    result.append(position)
                    position += 1
                }
            }
            return result
        }
    }
}
