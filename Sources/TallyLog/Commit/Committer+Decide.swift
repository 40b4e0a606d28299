import NIOConcurrencyHelpers
import Foundation
import Logging
import TallyChecksum
import TallyLMDB

extension Committer {
    /// Decides one request against committed state plus the batch so far.
    func decide(_ pending: PreparedAppend, txn: inout WriteTransaction, overlay: inout BatchOverlay) throws -> Decision {
        if pending.eventCount == 1, pending.streams.count == 1, pending.streams[0].events.count == 1 {
            // Indexed, not bound: binding the event would copy its half-dozen arrays.
            return try self.decideOne(pending, stream: pending.streams[0], key: pending.streams[0].events[0].key, txn: &txn, overlay: overlay)
        }
        // Idempotency first: a retry of a committed append must succeed even though the
        // stream has moved on since.
        var allIDs: [EventKey] = []
        allIDs.reserveCapacity(pending.eventCount)
        for stream in pending.streams { for event in stream.events { allIDs.append(event.key) } }
        if allIDs.count > 1 {
            let unique = self.state.scratchRequestIDs.insertAll(allIDs)
            self.state.scratchRequestIDs.removeAll()
            if !unique {
                return .reject(LogError(.eventIDConflict, "the append repeats an event id; every event needs its own id"))
            }
        }
        let existing = try self.existingPositions(of: allIDs, txn: &txn, overlay: overlay)
        let found = existing.compactMap { $0 }
        if found.count == allIDs.count {
            return try self.duplicateDecision(pending, positions: found, txn: &txn)
        }
        if let index = existing.firstIndex(where: { $0 != nil }), let position = existing[index] {
            return .reject(
                LogError(
                    .eventIDConflict,
                    "event id \(allIDs[index].uuid) already exists at position \(position), but other events of this "
                        + "append do not; a retry must resend exactly the same events with the same ids"))
        }
        var heads: [UInt64?] = []
        heads.reserveCapacity(pending.streams.count)
        for stream in pending.streams {
            let current = try self.head(of: stream, txn: &txn, overlay: overlay)
            heads.append(current)
            guard stream.expectedVersion.accepts(current: current) else { return .reject(Self.wrongVersion(stream, current)) }
        }
        return .accept(heads: heads)
    }

    /// ``decide(_:txn:overlay:)`` for an append of one event (every payment command's): the
    /// same checks in the same order, without the per-append arrays.
    private func decideOne(
        _ pending: PreparedAppend, stream: PreparedStream, key: EventKey, txn: inout WriteTransaction, overlay: BatchOverlay
    ) throws -> Decision {
        // One look at the tail for both the id and the stream (only this thread changes it).
        let (found, checkpoint, tailHead) = self.tail.withLockedValue { tail in
            (overlay.ids[key] ?? tail.ids[key], tail.checkpoint, tail.streams[stream.key]?.lastVersion)
        }
        if let position = try found ?? self.persistedPosition(of: key, checkpoint: checkpoint, txn: &txn) {
            return try self.duplicateDecision(pending, positions: [position], txn: &txn)
        }
        let current = try self.head(of: stream, txn: &txn, overlay: overlay, tailHead: .some(tailHead))
        guard stream.expectedVersion.accepts(current: current) else { return .reject(Self.wrongVersion(stream, current)) }
        return .acceptOne(head: current)
    }

    /// ``CommitAppend/warm(_:)``: for each one-event append of `upcoming`, reads what
    /// ``decideOne(_:stream:key:txn:overlay:)`` will: the tail's id and stream entries and
    /// the persisted index's id and stream filters. What it reads is summed into
    /// ``WriterState/warmed`` so that the reads stay.
    func warm(_ upcoming: [PreparedStreams]) {
        // One kind of read a loop, each a few instructions an append, so that many misses
        // are in flight at once.
        var sum: UInt64 = 0
        self.tail.withLockedValue { tail in
            for prepared in upcoming where prepared.append.eventCount == 1 {
                sum &+= tail.ids.warm(prepared.append.streams[0].events[0].key)
            }
            for prepared in upcoming where prepared.append.eventCount == 1 {
                sum &+= tail.streams[prepared.append.streams[0].key]?.lastVersion ?? 0
            }
        }
        for prepared in upcoming where prepared.append.eventCount == 1 {
            sum &+= self.state.persistedIDs.warm(prepared.append.streams[0].events[0].key.bloomHash)
        }
        for prepared in upcoming where prepared.append.eventCount == 1 {
            sum &+= self.state.persistedStreams.warm(prepared.append.streams[0].streamHash)
        }
        self.state.warmed &+= sum
    }

    private static func wrongVersion(_ stream: PreparedStream, _ current: UInt64?) -> LogError {
        let actual = current.map { "version \($0)" } ?? "no stream"
        return LogError(
            .wrongExpectedVersion, "stream \(stream.streamID) is at \(actual), but the append expected \(stream.expectedVersion)",
            actualVersion: current)
    }

    /// Checks that every event of a full retry matches what is stored.
    private func duplicateDecision(_ pending: PreparedAppend, positions: [UInt64], txn: inout WriteTransaction) throws
        -> Decision
    {
        var index = 0
        var versions: [UInt64] = []
        for stream in pending.streams {
            var lastVersion: UInt64 = 0
            for event in stream.events {
                let position = positions[index]
                index += 1
                let stored = try Keys.withPosition(position) { key in try txn.get(self.databases.log, key: key) }
                guard let stored else {
                    throw LogError(.corruption, "event id index points to missing position \(position)", position: position)
                }
                let recorded = try RecordView(stored).decode()
                guard recorded.streamID == stream.streamID, recorded.hasSameContent(as: event.source) else {
                    return .reject(
                        LogError(
                            .eventIDConflict,
                            "event id \(event.id) already exists at position \(position) with other content "
                                + "(stream, type, payload or metadata differ); use a new id for a new event"))
                }
                lastVersion = recorded.streamVersion
            }
            versions.append(lastVersion)
        }
        return .duplicate(AppendResult(positions: positions, streamVersions: versions, wasDuplicate: true))
    }

    /// Where each id is stored (batch, tail or persisted index), or `nil`.
    private func existingPositions(of ids: [EventKey], txn: inout WriteTransaction, overlay: BatchOverlay) throws -> [UInt64?] {
        var result = [UInt64?](repeating: nil, count: ids.count)
        let checkpoint = self.tail.withLockedValue { tail in
            for (index, id) in ids.enumerated() {
                result[index] = overlay.ids[id] ?? tail.ids[id]
            }
            return tail.checkpoint
        }
        for (index, id) in ids.enumerated() where result[index] == nil {
            result[index] = try self.persistedPosition(of: id, checkpoint: checkpoint, txn: &txn)
        }
        return result
    }

    /// Where the persisted `ids` index (up to `checkpoint`) stores `id`, or `nil`; the Bloom
    /// filter answers most new ids without a seek.
    private func persistedPosition(of id: EventKey, checkpoint: UInt64, txn: inout WriteTransaction) throws -> UInt64? {
        guard checkpoint > 0, self.state.persistedIDs.mayContain(id.bloomHash) else { return nil }
        return try txn.withCursor(self.databases.ids) { cursor in try IDRunKeys.position(of: id, cursor: &cursor) }
    }

    /// A stream's current version: batch, tail, cache, then persisted index.
    ///
    /// The cache holds only answers of the persisted index (streams not in the tail); a
    /// stream written since is in the tail, which is asked first, and its cache entry is
    /// dropped at publish.
    ///
    /// `tailHead`, if given, is what the tail holds for the stream (read under the tail's lock
    /// with something else).
    private func head(
        of stream: PreparedStream, txn: inout WriteTransaction, overlay: BatchOverlay, tailHead: UInt64?? = nil
    ) throws -> UInt64? {
        if let version = overlay.heads[stream.key] { return version }
        if let tailHead = tailHead ?? self.tail.withLockedValue({ $0.streams[stream.key]?.lastVersion }) { return tailHead }
        if let cached = self.state.heads[stream.key] { return cached }
        guard self.state.persistedStreams.mayContain(stream.streamHash) else { return nil }
        let version = try txn.withCursor(self.databases.streams) { cursor in
            try persistedHead(of: stream.streamBytes, cursor: &cursor)
        }
        if self.state.heads.count >= Limits.headCacheStreamsMax { self.state.heads.removeAll(keepingCapacity: true) }
        self.state.heads[stream.key] = .some(version)
        return version
    }
}

/// The last version of a stream in the persisted `streams` index, or `nil`.
func persistedHead(of streamBytes: [UInt8], cursor: inout Cursor) throws -> UInt64? {
    let probe = Keys.stream(streamBytes, version: UInt64.max)
    let after = try probe.withUnsafeBytes { key in try cursor.seek(atLeast: key) }
    let candidate = after == nil ? try cursor.last() : try cursor.previous()
    guard let entry = candidate, let split = Keys.splitStream(entry.key) else { return nil }
    guard split.stream.elementsEqual(streamBytes) else { return nil }
    return split.version
}
