import Foundation
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
    /// `range`.
    public func seals(covering range: ClosedRange<UInt64>) throws -> [(first: UInt64, last: UInt64, seal: String)] {
        try self.environment.read { txn in
            try txn.withCursor(self.databases.seals) { cursor throws in
                var result: [(UInt64, UInt64, String)] = []
                var entry = try Keys.withPosition(range.lowerBound) { key in try cursor.seek(atLeast: key) }
                while let current = entry, let last = Keys.position(current.key), current.value.count == 40,
                    let first = Keys.loadLE64(current.value), first <= range.upperBound
                {
                    let hex = current.value[8..<40].map { String(format: "%02x", $0) }.joined()
                    result.append((first, last, hex))
                    entry = try cursor.next()
                }
                return result
            }
        }
    }
}
