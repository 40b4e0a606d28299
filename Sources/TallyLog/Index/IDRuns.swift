import TallyLMDB

/// The persisted event-id index as sorted runs (a small log-structured merge tree).
///
/// A B-tree keyed by random ids rewrites a leaf page per key it inserts, so writing the
/// index behind the log cost more than the log itself once the index outgrew memory.
/// Instead, each indexer checkpoint writes its ids as one new run, in key order and with
/// MDB_APPEND: key = run (u32 BE) ‖ event id (16 bytes), value = position (u64 LE).
/// ``Limits/idRunMergeFanIn`` runs of similar size are merged (also with MDB_APPEND) up to
/// ``Limits/idRunMergeEntriesMax``. A lookup seeks once per run, newest first; the
/// committer asks a ``BloomFilter`` first, so new ids (the common case) cost no seek.
struct IDRun: Sendable, Equatable {
    let id: UInt32
    var count: Int
}

enum IDRunKeys {
    static let bytes = 20

    static func with<T>(run: UInt32, _ key: EventKey, _ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        var storage: (UInt64, UInt64, UInt64) = (0, 0, 0)
        return try withUnsafeMutableBytes(of: &storage) { raw in
            raw.storeBytes(of: run.bigEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: key.high.bigEndian, toByteOffset: 4, as: UInt64.self)
            raw.storeBytes(of: key.low.bigEndian, toByteOffset: 12, as: UInt64.self)
            return try body(UnsafeRawBufferPointer(rebasing: raw[0..<Self.bytes]))
        }
    }

    /// Run and id of a key, or `nil` if it is not 20 bytes.
    static func split(_ key: UnsafeRawBufferPointer) -> (run: UInt32, id: EventKey)? {
        guard key.count == Self.bytes else { return nil }
        let run = UInt32(bigEndian: key.loadUnaligned(as: UInt32.self))
        let id = EventKey(
            high: UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 4, as: UInt64.self)),
            low: UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 12, as: UInt64.self)))
        return (run, id)
    }

    /// The position of `id` in any run, or `nil`: one seek per run (runs need not be known).
    static func position(of id: EventKey, cursor: inout Cursor) throws -> UInt64? {
        var run: UInt32 = 0
        while true {
            guard let entry = try Self.with(run: run, id, { key in try cursor.seek(atLeast: key) }) else { return nil }
            guard let split = Self.split(entry.key) else {
                throw LogError(.corruption, "an ids index key is \(entry.key.count) bytes, not \(Self.bytes)")
            }
            if split.id == id { return Keys.loadLE64(entry.value) }
            if split.run == UInt32.max { return nil }
            run = split.run == run ? run + 1 : split.run
        }
    }
}
