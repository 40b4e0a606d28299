public import TallyLMDB
public import TallyLog

/// A read model built from the log: a name, a version and an `apply`.
///
/// The runtime (``ProjectionWorker``) reads batches after the projection's checkpoint and
/// calls ``apply(_:in:)`` inside one write transaction of `<data>/views` that also stores
/// the new checkpoint, so every event takes effect exactly once, across crashes too.
public protocol Projection: Sendable {
    /// Unique among the ledger's projections; also the prefix of its databases.
    var name: String { get }
    /// Bump it when `apply` changes meaning: the projection is rebuilt from position 1.
    var version: UInt32 { get }
    /// The databases it owns in `<data>/views` (cleared on a rebuild).
    var databases: [String] { get }
    /// What ``prepare(_:)`` makes of a batch for ``apply(_:in:)``; the events themselves
    /// unless a projection decodes ahead.
    associatedtype Prepared: Sendable = [RecordedEvent]
    /// Decodes `events` (consecutive positions, in order) outside the write transaction: the
    /// runtime calls it for the next batch while the current one is being applied, so the
    /// decoding runs on another core than the views writer. It sees only the events, never
    /// the views (the batch before may not be applied yet). Throwing stops the projection
    /// at that batch, as in `apply`.
    func prepare(_ events: [RecordedEvent]) throws -> Prepared
    /// Applies a prepared batch within `store`'s transaction. Throwing stops the projection
    /// at that batch: nothing of it is applied.
    func apply(_ batch: Prepared, in store: ProjectionStore) throws
}

extension Projection where Prepared == [RecordedEvent] {
    /// The events as they are: such a projection decodes inside ``apply(_:in:)``.
    public func prepare(_ events: [RecordedEvent]) throws -> [RecordedEvent] { events }
}

/// A projection that prepares its batches straight from the records as stored, without
/// decoding each into a ``RecordedEvent``: the runtime's fast path when it catches up or
/// rebuilds (a rebuild reads millions of records, most of which a projection skips or
/// needs only a few fields of). Following the log live still goes through
/// ``Projection/prepare(_:)``, so both must make the same batch of the same events.
public protocol RecordProjection: Projection {
    /// A batch with nothing in it yet, with room for about `capacity` records.
    func emptyBatch(capacity: Int) -> Prepared
    /// Adds what `record` means to `batch`; records come in position order. `record` has
    /// passed its checksum and chain checks and is valid only during the call. Throwing
    /// stops the projection at that batch, as in ``Projection/apply(_:in:)``.
    func prepare(_ record: RecordView, into batch: inout Prepared) throws
}

/// A batch prepared for one projection, ready to apply in a transaction.
struct StagedBatch: Sendable {
    let apply: @Sendable (ProjectionStore) throws -> Void
}

extension Projection {
    /// Prepares `events` for this projection.
    func staged(_ events: [RecordedEvent]) throws -> StagedBatch {
        let prepared = try self.prepare(events)
        return StagedBatch { store in try self.apply(prepared, in: store) }
    }
}
/// A projection's window on the `<data>/views` write transaction of one batch; valid only
/// during ``Projection/apply(_:in:)``.
public struct ProjectionStore {
    let transaction: UnsafeMutablePointer<WriteTransaction>
    let views: ViewStore
    /// The generation being written (the shadow one during a rebuild).
    let generation: UInt8

    /// The database `name` (one of the projection's ``Projection/databases``).
    public func database(_ name: String) -> Database {
        self.views.environment.database(ProjectionMeta.physical(name, generation: self.generation))
    }

    /// The value under `key`, or `nil`.
    public func get(_ database: Database, key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { key in try self.transaction.pointee.get(database, key: key).map { Array($0) } }
    }

    /// Stores `value` under `key`.
    public func put(_ database: Database, key: [UInt8], value: [UInt8]) throws {
        try key.withUnsafeBytes { key in
            try value.withUnsafeBytes { value in try self.transaction.pointee.put(database, key: key, value: value, flags: []) }
        }
    }

    /// Stores `value` under `key`, both borrowed for the call; with `appending`, `key` must
    /// sort after every key in `database` (LMDB's `MDB_APPEND`: pages filled in order, none
    /// rewritten), else the put fails with `MDB_KEYEXIST`.
    public func put(_ database: Database, key: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, appending: Bool = false) throws {
        try self.transaction.pointee.put(database, key: key, value: value, flags: appending ? .append : [])
    }

    /// Deletes `key`.
    public func delete(_ database: Database, key: [UInt8]) throws {
        _ = try key.withUnsafeBytes { key in try self.transaction.pointee.delete(database, key: key) }
    }
}
