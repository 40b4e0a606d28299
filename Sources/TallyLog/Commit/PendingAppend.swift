import Foundation
import TallyChecksum

/// One stream of an append, validated and pre-encoded.
struct PreparedStream: Sendable {
    let key: StreamKey
    var streamID: String { self.key.id }
    let streamBytes: [UInt8]
    /// XXH3 of `streamBytes`, unkeyed, as the persisted streams filter holds stream ids;
    /// made with the rest, off the writer thread.
    let streamHash: UInt64
    let expectedVersion: ExpectedVersion
    let events: [PreparedEvent]

    init(key: StreamKey, streamBytes: [UInt8], expectedVersion: ExpectedVersion, events: [PreparedEvent]) {
        self.key = key
        self.streamBytes = streamBytes
        self.streamHash = streamBytes.withUnsafeBytes { XXH3.hash($0) }
        self.expectedVersion = expectedVersion
        self.events = events
    }
}

/// An append waiting in the committer's queue, with the caller to wake.
struct PendingAppend: Sendable {
    let streams: [PreparedStream]
    let eventCount: Int
    let recordBytes: Int
    let continuation: CheckedContinuation<AppendResult, any Error>

    var prepared: PreparedAppend { PreparedAppend(streams: self.streams, eventCount: self.eventCount, recordBytes: self.recordBytes) }
}

/// A validated, encoded append, ready for the committer to decide.
struct PreparedAppend: Sendable {
    let streams: [PreparedStream]
    let eventCount: Int
    let recordBytes: Int
}

extension PendingAppend {
    /// Appends of at least this many events are checked on two tasks.
    static let parallelEventsMin = 512

    /// Validates `streams` and encodes what the writer thread needs, in the caller's task.
    static func prepare(_ streams: [StreamAppend]) throws(LogError) -> (streams: [PreparedStream], events: Int, bytes: Int) {
        try self.checkShape(streams)
        let prepared = try self.prepareEach(streams[...])
        return try self.checkSize(prepared)
    }

    /// ``prepare(_:)``, with the streams of a large append checked and encoded in two halves
    /// on two tasks (the JSON check of the payloads is most of it): one caller appending
    /// large batches one after another keeps the writer thread waiting less. The same
    /// errors, the earlier half's first when both halves have one.
    static func prepare(_ streams: [StreamAppend]) async throws(LogError) -> (streams: [PreparedStream], events: Int, bytes: Int) {
        try self.checkShape(streams)
        var events = 0
        for stream in streams { events += stream.events.count }
        guard streams.count >= 2, events >= Self.parallelEventsMin else { return try self.checkSize(try self.prepareEach(streams[...])) }
        let middle = streams.count / 2
        async let second = Result { () throws(LogError) -> [PreparedStream] in try self.prepareEach(streams[middle...]) }
        let first = Result { () throws(LogError) -> [PreparedStream] in try self.prepareEach(streams[..<middle]) }
        let prepared = try first.get() + (await second).get()
        return try self.checkSize(prepared)
    }

    /// The checks of the append as a whole: streams present, not too many, none twice.
    private static func checkShape(_ streams: [StreamAppend]) throws(LogError) {
        guard !streams.isEmpty else { throw LogError(.invalidBatch, "an append needs at least one stream") }
        guard streams.count <= Limits.appendStreamsMax else {
            throw LogError(.invalidBatch, "an append may name at most \(Limits.appendStreamsMax) streams; got \(streams.count)")
        }
        guard streams.count > 1 else { return }
        var seenStreams = Set<String>(minimumCapacity: streams.count)
        for stream in streams where !seenStreams.insert(stream.streamID).inserted {
            throw LogError(.invalidBatch, "stream \(stream.streamID) appears twice in one append; merge its events")
        }
    }

    /// Validates and encodes each stream of `streams`, in order.
    private static func prepareEach(_ streams: ArraySlice<StreamAppend>) throws(LogError) -> [PreparedStream] {
        var prepared: [PreparedStream] = []
        prepared.reserveCapacity(streams.count)
        var events = 0
        for stream in streams {
            let streamBytes = try Validation.streamID(stream.streamID)
            guard !stream.events.isEmpty else {
                throw LogError(.invalidBatch, "stream \(stream.streamID) has no events; an append needs at least one")
            }
            events += stream.events.count
            guard events <= Limits.appendEventsMax else {
                throw LogError(.invalidBatch, "an append may carry at most \(Limits.appendEventsMax) events")
            }
            var preparedEvents: [PreparedEvent] = []
            preparedEvents.reserveCapacity(stream.events.count)
            for event in stream.events {
                preparedEvents.append(try Validation.event(event, after: preparedEvents.last))
            }
            prepared.append(
                PreparedStream(
                    key: StreamKey(stream.streamID), streamBytes: streamBytes, expectedVersion: stream.expectedVersion,
                    events: preparedEvents))
        }
        return prepared
    }

    /// ``prepareEach(_:)`` of one stream with one event.
    static func prepareOne(streamID: String, expectedVersion: ExpectedVersion, event: ProposedEvent) throws(LogError) -> PreparedStream {
        let streamBytes = try Validation.streamID(streamID)
        return PreparedStream(
            key: StreamKey(streamID), streamBytes: streamBytes, expectedVersion: expectedVersion, events: [try Validation.event(event)])
    }

    /// The limits on the append's events and encoded bytes; returns the counts.
    static func checkSize(_ prepared: [PreparedStream]) throws(LogError) -> (streams: [PreparedStream], events: Int, bytes: Int) {
        var events = 0
        var bytes = 0
        for stream in prepared {
            events += stream.events.count
            for event in stream.events { bytes += event.recordBytes(streamIDBytes: stream.streamBytes.count) }
        }
        guard events <= Limits.appendEventsMax else {
            throw LogError(.invalidBatch, "an append may carry at most \(Limits.appendEventsMax) events")
        }
        guard bytes <= Limits.appendBytesMax else {
            throw LogError(
                .invalidBatch,
                "an append may encode to at most \(Limits.appendBytesMax) bytes; this one is \(bytes); split it")
        }
        return (prepared, events, bytes)
    }
}
