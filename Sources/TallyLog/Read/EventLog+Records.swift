import Foundation
import TallyChecksum
import TallyLMDB
extension EventLog {
    /// Events from `position` on with their stored record bytes (for exports that carry
    /// proof: anyone can recompute a record's checksum from its bytes).
    ///
    /// With `releasingPages`, the pages of the memory map these records were read from are
    /// handed back afterwards (`madvise(MADV_DONTNEED)`; they stay in the page cache), so a
    /// reader going through the whole log once (an export) keeps a flat resident size
    /// instead of the whole file.
    public func records(fromPosition position: UInt64, limit: Int = 100, releasingPages: Bool = false) throws
        -> [(event: RecordedEvent, bytes: [UInt8])]
    {
        guard position > 0 else { throw LogError(.invalidArgument, "positions start at 1") }
        let count = min(max(limit, 0), Limits.readEventsMax)
        return try self.environment.read { txn in
            try txn.withCursor(self.databases.log) { cursor throws in
                var result: [(RecordedEvent, [UInt8])] = []
                var span = MappedSpan()
                var entry = try Keys.withPosition(position) { key in try cursor.seek(atLeast: key) }
                while let current = entry, result.count < count {
                    result.append((try self.decode(current.value, position: Keys.position(current.key) ?? 0), Array(current.value)))
                    span.include(current.value)
                    entry = try cursor.next()
                }
                if releasingPages { span.release() }
                return result
            }
        }
    }

    /// Calls `body` with every record from `position` through `last` (or the head, when it
    /// is lower), in order, each checked (length, format, position, XXH3-64 checksum, and its
    /// link to the record before it) without copying or decoding it: the fast path of an
    /// export that turns records straight into text.
    ///
    /// The view points into the memory map and is valid only during the call. Records are
    /// read in pages of `pageSize`, each page in its own short read transaction, so a long
    /// scan never holds a snapshot for long; with `releasingPages` the map's pages of each
    /// page of records are handed back afterwards (see ``records(fromPosition:limit:releasingPages:)``).
    /// `progress` hears the last position done after every page.
    ///
    /// With `checksumsAside`, the checksums are computed on a second thread while `body`
    /// works through the same page: `body` may then see records of a page before their
    /// checksums are known, and a mismatch is thrown once that page is done (before this
    /// returns, never later). For a caller whose work per record is much more than the hash
    /// and that can discard what it made of a failed scan (an export that fails leaves no
    /// manifest).
    ///
    /// - Throws: ``LogError`` `corruption` naming the first bad position, or what `body` throws.
    public func forEachRecord(
        fromPosition position: UInt64, through last: UInt64, pageSize: Int = 4_096, releasingPages: Bool = false,
        checksumsAside: Bool = false, progress: (UInt64) -> Void = { _ in }, _ body: (RecordView) throws -> Void
    ) throws {
        guard position > 0 else { throw LogError(.invalidArgument, "positions start at 1") }
        let end = min(last, self.headPosition)
        var next = position
        var previousChecksum: UInt64?
        let aside = checksumsAside && end >= position ? ChecksumAside() : nil
        defer { aside?.stop() }
        while next <= end {
            let pageEnd = min(end, next + UInt64(max(pageSize, 1)) - 1)
            try self.environment.read { txn in
                try txn.withCursor(self.databases.log) { cursor throws in
                    var span = MappedSpan()
                    defer { if releasingPages { span.release() } }
                    if let aside {
                        try Self.pageWithChecksumsAside(
                            &cursor, from: next, through: pageEnd, aside: aside, span: &span, previousChecksum: &previousChecksum, body)
                        next = pageEnd + 1
                        return
                    }
                    var entry = try Keys.withPosition(next) { key in try cursor.seek(atLeast: key) }
                    while next <= pageEnd {
                        guard let current = entry, Keys.position(current.key) == next else {
                            throw LogError(.corruption, "record \(next) is missing from the log", position: next)
                        }
                        let view = try Self.checkedView(current.value, position: next)
                        try Self.checkLink(view, previousChecksum: previousChecksum)
                        try body(view)
                        span.include(current.value)
                        previousChecksum = view.storedChecksum
                        next += 1
                        entry = next <= pageEnd ? try cursor.next() : nil
                    }
                }
            }
            progress(pageEnd)
        }
    }

    /// One page of ``forEachRecord(fromPosition:through:pageSize:releasingPages:checksumsAside:progress:_:)``
    /// with its checksums computed by `aside` while `body` runs; returns only after `aside`
    /// is done with the page (its records point into the transaction's map).
    private static func pageWithChecksumsAside(
        _ cursor: inout Cursor, from first: UInt64, through last: UInt64, aside: ChecksumAside, span: inout MappedSpan,
        previousChecksum: inout UInt64?, _ body: (RecordView) throws -> Void
    ) throws {
        var records: [UnsafeRawBufferPointer] = []
        records.reserveCapacity(Int(last - first + 1))
        var entry = try Keys.withPosition(first) { key in try cursor.seek(atLeast: key) }
        var position = first
        while position <= last {
            guard let current = entry, Keys.position(current.key) == position else {
                throw LogError(.corruption, "record \(position) is missing from the log", position: position)
            }
            records.append(current.value)
            span.include(current.value)
            position += 1
            entry = position <= last ? try cursor.next() : nil
        }
        aside.check(records)
        var done = 0
        do {
            for record in records {
                let position = first + UInt64(done)
                let view = try Self.uncheckedView(record, position: position)
                try Self.checkLink(view, previousChecksum: previousChecksum)
                try body(view)
                previousChecksum = view.storedChecksum
                done += 1
            }
        } catch {
            // A record whose checksum fails may be why it did not parse, link or format:
            // the checksum is the first thing wrong with it, and with any before it.
            if let bad = aside.wait(), bad <= done { throw Self.checksumMismatch(at: first + UInt64(bad)) }
            throw error
        }
        if let bad = aside.wait() { throw Self.checksumMismatch(at: first + UInt64(bad)) }
    }

    private static func checkLink(_ view: RecordView, previousChecksum: UInt64?) throws(LogError) {
        if let previousChecksum, view.previousChecksum != previousChecksum {
            throw LogError(
                .corruption,
                "record \(view.position) does not chain onto record \(view.position - 1) (a record was changed, lost or inserted)",
                position: view.position)
        }
    }

    /// The stored checksums of the records at `positions` (`nil` where the log has none), in
    /// one read transaction: a verifier comparing many lines with the ledger asks in batches.
    public func storedChecksums(at positions: [UInt64]) throws -> [UInt64?] {
        try self.environment.read { txn in
            try txn.withCursor(self.databases.log) { cursor throws in
                var span = MappedSpan()
                defer { span.release() }  // a verifier goes through the log once: keep the resident size flat
                return try positions.map { position throws -> UInt64? in
                    guard position > 0,
                        let entry = try Keys.withPosition(position, { key in try cursor.seek(atLeast: key) }),
                        Keys.position(entry.key) == position
                    else { return nil }
                    span.include(entry.value)
                    return try Self.checkedView(entry.value, position: position).storedChecksum
                }
            }
        }
    }

    /// Decodes a record ``forEachRecord(fromPosition:through:pageSize:releasingPages:progress:_:)``
    /// handed over, copying its parts.
    ///
    /// - Throws: ``LogError`` `corruption` when a text part is not UTF-8 or the metadata is malformed.
    public static func decoded(_ view: RecordView) throws(LogError) -> RecordedEvent {
        try Self.decoded(view, position: view.position)
    }

    /// Decodes stored record bytes after checking their length, format and XXH3 checksum;
    /// throws ``LogError`` `corruption` naming what is wrong.
    public static func decodeRecord(_ bytes: [UInt8]) throws -> RecordedEvent {
        try bytes.withUnsafeBytes { raw in
            let view: RecordView
            do { view = try RecordView(raw) } catch { throw LogError(.corruption, "the record is malformed: \(error)") }
            guard view.computeChecksum() == view.storedChecksum else {
                throw LogError(.corruption, "the record's checksum does not match its bytes", position: view.position)
            }
            do { return try view.decode() } catch { throw LogError(.corruption, "the record does not decode: \(error)") }
        }
    }

    /// The seals (first position, last position, SHA-256 hex) of the commits that overlap
    /// `range`, in memory (one per commit; ``forEachSeal(covering:_:)`` streams them).
    public func seals(covering range: ClosedRange<UInt64>) throws -> [(first: UInt64, last: UInt64, seal: String)] {
        var result: [(first: UInt64, last: UInt64, seal: String)] = []
        try self.forEachSeal(covering: range) { first, last, seal in result.append((first, last, SHA256Stream.hex(seal))) }
        return result
    }

    /// Hands `body` the seal of each commit that overlaps `range`, in order: its first and
    /// last position and the 32 bytes of the seal (valid only during the call), from one read
    /// transaction, without holding them: a ledger of small commits has a seal per event.
    public func forEachSeal(
        covering range: ClosedRange<UInt64>, _ body: (_ first: UInt64, _ last: UInt64, _ seal: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try self.environment.read { txn in
            try txn.withCursor(self.databases.seals) { cursor throws in
                // A seal per commit, their leaf pages spread through the file: the faults that
                // read them map their neighbours too (17 MB resident at the end of an export
                // of 19 k commits), so the map's pages go back every 4,096 seals. Over a span that
                // wide the neighbours lie inside it and go back too; every 256 seals left them
                // mapped (export of 200 k one-event commits: 41 MB peak, against 62 MB at 256,
                // 88 MB at 32 and 45 MB at 16,384).
                var span = MappedSpan()
                defer { span.release() }
                var count = 0
                var entry = try Keys.withPosition(range.lowerBound) { key in try cursor.seek(atLeast: key) }
                while let current = entry, let last = Keys.position(current.key), current.value.count == 40,
                    let first = Keys.loadLE64(current.value), first <= range.upperBound
                {
                    span.include(current.value)
                    try body(first, last, UnsafeRawBufferPointer(rebasing: current.value[8..<40]))
                    count += 1
                    if count % 4_096 == 0 {
                        span.release()
                        span = MappedSpan()
                    }
                    entry = try cursor.next()
                }
            }
        }
    }
}
