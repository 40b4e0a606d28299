import Foundation

/// One stream of an append, validated and pre-encoded.
struct PreparedStream: Sendable {
    let streamID: String
    let streamBytes: [UInt8]
    let expectedVersion: ExpectedVersion
    let events: [PreparedEvent]
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

    /// Validates `streams` and encodes what the writer thread needs, in the caller's task.
    static func prepare(_ streams: [StreamAppend]) throws(LogError) -> (streams: [PreparedStream], events: Int, bytes: Int) {
        guard !streams.isEmpty else { throw LogError(.invalidBatch, "an append needs at least one stream") }
        guard streams.count <= Limits.appendStreamsMax else {
            throw LogError(.invalidBatch, "an append may name at most \(Limits.appendStreamsMax) streams; got \(streams.count)")
        }
        var prepared: [PreparedStream] = []
        prepared.reserveCapacity(streams.count)
        var seenStreams = Set<String>()
        var events = 0
        var bytes = 0
        for stream in streams {
            let streamBytes = try Validation.streamID(stream.streamID)
            guard seenStreams.insert(stream.streamID).inserted else {
                throw LogError(.invalidBatch, "stream \(stream.streamID) appears twice in one append; merge its events")
            }
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
                let preparedEvent = try Validation.event(event, after: preparedEvents.last)
                bytes += preparedEvent.recordBytes(streamIDBytes: streamBytes.count)
                preparedEvents.append(preparedEvent)
            }
            prepared.append(
                PreparedStream(
                    streamID: stream.streamID, streamBytes: streamBytes, expectedVersion: stream.expectedVersion,
                    events: preparedEvents))
        }
        guard bytes <= Limits.appendBytesMax else {
            throw LogError(
                .invalidBatch,
                "an append may encode to at most \(Limits.appendBytesMax) bytes; this one is \(bytes); split it")
        }
        return (prepared, events, bytes)
    }
}
