import TallyLog

extension EventLog {
    /// Calls `body` with every event from `position` to the head whose stream id starts
    /// with one of `prefixes`, decoded; the others are only checked (checksum and chain), not
    /// decoded. A write model's replay at open goes through the whole log after its
    /// checkpoint, and most of a fleet's log is not its domain: decoding every event (stream,
    /// type, metadata strings, a payload copy) made it most of a read-only open.
    ///
    /// - Throws: ``LogError`` `corruption` naming the first bad position, or what `body` throws.
    func forEachEvent(
        fromPosition position: UInt64, inStreamsPrefixed prefixes: [String], _ body: (RecordedEvent) throws -> Void
    ) throws {
        guard position <= self.headPosition else { return }
        let wanted = prefixes.map { Array($0.utf8) }
        try self.forEachRecord(fromPosition: position, through: self.headPosition, releasingPages: true) { view in
            let stream = view.streamIDBytes
            guard wanted.contains(where: { prefix in stream.count >= prefix.count && stream.prefix(prefix.count).elementsEqual(prefix) })
            else { return }
            try body(try EventLog.decoded(view))
        }
    }
}
