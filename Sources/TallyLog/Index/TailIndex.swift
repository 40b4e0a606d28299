import Foundation

/// The index entries of the events after the persisted index checkpoint, held in memory.
///
/// The committer adds to it after every commit; the indexer moves its oldest entries into
/// the `streams` and `ids` databases and drops them here. Readers combine it with the
/// persisted index. Guarded by a lock in ``EventLog``.
struct TailIndex: Sendable {
    struct Entry: Sendable {
        let position: UInt64
        let stream: StreamKey
        let version: UInt64
        let key: EventKey

        var streamID: String { self.stream.id }
    }

    /// A stream's versions in the tail: `first` holds version `firstVersion`, `rest[i]`
    /// version `firstVersion + 1 + i`. A stream with one event in the tail (a transfer's,
    /// always) holds no array: nothing to allocate when it is added or free when it is dropped.
    struct Stream: Sendable {
        var firstVersion: UInt64
        var first: UInt64
        var rest: [UInt64] = []
        /// Positions ``TailIndex/dropOldest(_:newCheckpoint:)`` is about to drop (0 otherwise).
        var dropping = 0
        /// Versions held.
        var count: Int { 1 + self.rest.count }
        var lastVersion: UInt64 { self.firstVersion + UInt64(self.rest.count) }
        /// Every position held, by version from `firstVersion`.
        var positions: [UInt64] { [self.first] + self.rest }
    }

    /// Positions up to here are in the persisted index.
    var checkpoint: UInt64
    private(set) var entries: [Entry] = []
    private var start = 0
    private(set) var ids = EventIDTable()
    private(set) var streams: [StreamKey: Stream] = [:]

    init(checkpoint: UInt64) {
        self.checkpoint = checkpoint
    }

    /// Events held.
    var count: Int { self.entries.count - self.start }

    /// The oldest `limit` entries (position order).
    func oldest(_ limit: Int) -> ArraySlice<Entry> {
        self.entries[self.start..<min(self.entries.count, self.start + limit)]
    }

    /// The position of the event with this id, if it is in the tail.
    func position(of id: UUID) -> UInt64? { self.ids[EventKey(id)] }

    /// Adds an event committed at `position`; positions arrive in order.
    mutating func add(position: UInt64, streamID: String, version: UInt64, id: UUID) {
        self.add(CollectionOfOne(Entry(position: position, stream: StreamKey(streamID), version: version, key: EventKey(id))))
    }

    /// Adds consecutive events of one stream (consecutive positions and versions).
    mutating func add(_ run: some Collection<Entry>) {
        guard let first = run.first else { return }
        assert(self.entries.last.map { $0.position + 1 == first.position } ?? true, "tail positions must be contiguous")
        self.entries.append(contentsOf: run)
        for entry in run { self.ids.insert(entry.key, position: entry.position) }
        // One hash of the stream id, and the positions mutated in place through the values
        // view (copying the Stream out and back would copy its array on every add).
        if let index = self.streams.index(forKey: first.stream) {
            precondition(self.streams.values[index].lastVersion + 1 == first.version, "stream \(first.streamID) version gap in tail")
            self.streams.values[index].rest.append(contentsOf: run.lazy.map(\.position))
        } else {
            self.streams[first.stream] = Stream(
                firstVersion: first.version, first: first.position, rest: run.count == 1 ? [] : run.dropFirst().map(\.position))
        }
    }

    /// Drops the oldest `count` entries after the indexer persisted them.
    mutating func dropOldest(_ count: Int, newCheckpoint: UInt64) {
        precondition(count <= self.count, "dropping more entries than the tail holds")
        // One lookup a run (consecutive entries of one stream). A run that takes all a
        // stream still holds (a new stream's only event, often) removes it there; otherwise
        // the count waits in `dropping` and the stream is trimmed once, after the loop.
        let partial = self.dropStreams(self.start..<(self.start + count))
        for streamID in partial {
            // Gone already when a later run of it took the rest.
            guard let index = self.streams.index(forKey: streamID) else { continue }
            let dropping = self.streams.values[index].dropping
            self.streams.values[index].first = self.streams.values[index].rest[dropping - 1]
            self.streams.values[index].rest.removeFirst(dropping)
            self.streams.values[index].firstVersion += UInt64(dropping)
            self.streams.values[index].dropping = 0
        }
        self.start += count
        if self.start > 4_096 && self.start * 2 > self.entries.count {
            self.entries.removeFirst(self.start)
            self.start = 0
        }
        self.checkpoint = newCheckpoint
    }

    /// Drops the ids and stream entries of `range` (one stream lookup a run of consecutive
    /// entries of one stream); returns the streams that keep versions past it, their drop
    /// counts in `dropping`.
    ///
    /// Its own function so that its slice of `entries` ends here: alive at the compaction
    /// after it, the slice made `entries` shared and `removeFirst` copied (and retained)
    /// every entry it kept.
    private mutating func dropStreams(_ range: Range<Int>) -> [StreamKey] {
        let dropped = self.entries[range]
        var partial: [StreamKey] = []
        var runStart = dropped.startIndex
        while runStart < dropped.endIndex {
            let streamID = dropped[runStart].stream
            var runEnd = runStart + 1
            while runEnd < dropped.endIndex && dropped[runEnd].stream == streamID { runEnd += 1 }
            for entry in dropped[runStart..<runEnd] { self.ids.remove(entry.key) }
            guard let index = self.streams.index(forKey: streamID) else { preconditionFailure("tail stream \(streamID) missing") }
            let stream = self.streams.values[index]
            let dropping = stream.dropping + runEnd - runStart
            precondition(dropping <= stream.count, "tail stream order broken")
            if dropping == stream.count {
                self.streams.remove(at: index)
            } else {
                if stream.dropping == 0 { partial.append(streamID) }
                self.streams.values[index].dropping = dropping
            }
            runStart = runEnd
        }
        return partial
    }
}
