public import Foundation
import NIOConcurrencyHelpers
import TallyLMDB

extension EventLog {
    /// Events from `position` on, in order, at most `limit` (capped at ``Limits/readEventsMax``).
    ///
    /// - Throws: ``LogError`` `corruption` when a record fails its checksum, `invalid_argument`
    ///   for position 0.
    public func read(fromPosition position: UInt64, limit: Int = 100) throws -> [RecordedEvent] {
        guard position > 0 else {
            throw LogError(.invalidArgument, "positions start at 1; read from position 1 for the whole log")
        }
        let count = min(max(limit, 0), Limits.readEventsMax)
        guard count > 0 else { return [] }
        return try self.environment.read { txn in
            try txn.withCursor(self.databases.log) { cursor throws in
                var events: [RecordedEvent] = []
                var entry = try Keys.withPosition(position) { key in try cursor.seek(atLeast: key) }
                while let current = entry, events.count < count {
                    events.append(try self.decode(current.value, position: Keys.position(current.key) ?? 0))
                    entry = try cursor.next()
                }
                return events
            }
        }
    }

    /// Events of one category (the stream id's prefix before `-`) from `position` on.
    ///
    /// Scans the log from `position` and filters; at most `scanLimit` records are read per
    /// call so one call stays short. Continue from the last returned position + 1.
    public func read(category: String, fromPosition position: UInt64, limit: Int = 100) throws -> [RecordedEvent] {
        guard position > 0 else { throw LogError(.invalidArgument, "positions start at 1") }
        let count = min(max(limit, 0), Limits.readEventsMax)
        let prefix = Array(category.utf8)
        return try self.environment.read { txn in
            try txn.withCursor(self.databases.log) { cursor throws in
                var events: [RecordedEvent] = []
                var entry = try Keys.withPosition(position) { key in try cursor.seek(atLeast: key) }
                while let current = entry, events.count < count {
                    let view = try RecordView(current.value)
                    let stream = view.streamIDBytes
                    let matches =
                        stream.starts(with: prefix)
                        && (stream.count == prefix.count || stream[prefix.count] == UInt8(ascii: "-"))
                    if matches && categoryOf(String(decoding: stream, as: UTF8.self)) == category {
                        events.append(try self.decode(current.value, position: Keys.position(current.key) ?? 0))
                    }
                    entry = try cursor.next()
                }
                return events
            }
        }
    }

    /// Events of one stream, forward from `fromVersion` (default 0) or backward from it
    /// (default: the last event), at most `limit`.
    public func read(
        stream streamID: String,
        fromVersion: UInt64? = nil,
        direction: ReadDirection = .forward,
        limit: Int = 100
    ) throws -> [RecordedEvent] {
        let streamBytes = try Validation.streamID(streamID)
        let count = min(max(limit, 0), Limits.readEventsMax)
        guard count > 0 else { return [] }
        // Tail first, then the snapshot: anything the indexer moved out of the tail before
        // we looked is already committed in the persisted index the snapshot sees.
        let tailStream = self.tail.withLockedValue { $0.streams[StreamKey(streamID)] }
        return try self.environment.read { txn in
            let persisted = try self.persistedPositions(
                txn, streamBytes: streamBytes, from: fromVersion, direction: direction, limit: count)
            let positions =
                tailStream.map { merge(persisted, $0, from: fromVersion, direction: direction, limit: count) }
                ?? persisted.map(\.position)
            return try positions.map { position in
                guard let bytes = try Keys.withPosition(position, { key in try txn.get(self.databases.log, key: key) }) else {
                    throw LogError(.corruption, "stream index points to missing position \(position)", position: position)
                }
                return try self.decode(bytes, position: position)
            }
        }
    }

    /// The event with this id, or `nil`.
    public func event(id: UUID) throws -> RecordedEvent? {
        let tailPosition = self.tail.withLockedValue { $0.position(of: id) }
        return try self.environment.read { txn in
            var position = tailPosition
            if position == nil {
                position = try txn.withCursor(self.databases.ids) { cursor in
                    try IDRunKeys.position(of: EventKey(id), cursor: &cursor)
                }
            }
            guard let position else { return nil }
            guard let bytes = try Keys.withPosition(position, { key in try txn.get(self.databases.log, key: key) }) else {
                throw LogError(.corruption, "event id index points to missing position \(position)", position: position)
            }
            return try self.decode(bytes, position: position)
        }
    }

    /// The last version of a stream, or `nil` when it has no events.
    public func streamVersion(_ streamID: String) throws -> UInt64? {
        try self.read(stream: streamID, direction: .backward, limit: 1).first?.streamVersion
    }

    private func persistedPositions(
        _ txn: borrowing ReadTransaction,
        streamBytes: [UInt8],
        from: UInt64?,
        direction: ReadDirection,
        limit: Int
    ) throws -> [(version: UInt64, position: UInt64)] {
        try txn.withCursor(self.databases.streams) { cursor throws in
            var found: [(version: UInt64, position: UInt64)] = []
            func matching(_ entry: Cursor.Entry?) -> (version: UInt64, position: UInt64)? {
                guard let entry, let split = Keys.splitStream(entry.key), split.stream.elementsEqual(streamBytes),
                    let position = Keys.loadLE64(entry.value)
                else { return nil }
                return (split.version, position)
            }
            switch direction {
            case .forward:
                let start = Keys.stream(streamBytes, version: from ?? 0)
                var entry = try start.withUnsafeBytes { key in try cursor.seek(atLeast: key) }
                while let item = matching(entry), found.count < limit {
                    found.append(item)
                    entry = try cursor.next()
                }
            case .backward:
                let probe = Keys.stream(streamBytes, version: from.map { $0 == UInt64.max ? $0 : $0 + 1 } ?? UInt64.max)
                let after = try probe.withUnsafeBytes { key in try cursor.seek(atLeast: key) }
                var entry = after == nil ? try cursor.last() : try cursor.previous()
                while let item = matching(entry), found.count < limit {
                    if from.map({ item.version <= $0 }) ?? true { found.append(item) }
                    entry = try cursor.previous()
                }
            }
            return found
        }
    }

    func decode(_ bytes: UnsafeRawBufferPointer, position: UInt64) throws -> RecordedEvent {
        try Self.decoded(try Self.checkedView(bytes, position: position), position: position)
    }
}

/// Merges persisted (version, position) pairs with the tail's, dropping duplicates.
private func merge(
    _ persisted: [(version: UInt64, position: UInt64)],
    _ tail: TailIndex.Stream,
    from: UInt64?,
    direction: ReadDirection,
    limit: Int
) -> [UInt64] {
    var byVersion: [UInt64: UInt64] = [:]
    for item in persisted { byVersion[item.version] = item.position }
    for (offset, position) in tail.positions.enumerated() {
        byVersion[tail.firstVersion + UInt64(offset)] = position
    }
    var versions = Array(byVersion.keys)
    switch direction {
    case .forward:
        versions = versions.filter { $0 >= (from ?? 0) }.sorted()
    case .backward:
        versions = versions.filter { version in from.map { version <= $0 } ?? true }.sorted(by: >)
    }
    return versions.prefix(limit).compactMap { byVersion[$0] }
}
