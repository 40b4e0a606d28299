import Foundation
public import TallyLMDB
import TallyLog

/// `<data>/views`: the LMDB environment the projections write, apart from the log.
///
/// Every projection database exists in two generations, `name` and `name~1`: queries read
/// the active one while a new version is rebuilt in the other (shadow), and the swap is one
/// write of the projection's meta entry. Database `projections` holds, per projection,
/// ``ProjectionMeta``. Everything here is derived from the log and can be rebuilt from it.
public final class ViewStore: Sendable {
    let environment: Environment
    let writer: WriterThread
    let meta: Database

    /// The path of the views environment in a data directory.
    public static func path(in dataDirectory: String) -> String { dataDirectory + "/views" }

    /// Opens (creating if needed) the views of `dataDirectory` for `projections`.
    public static func open(dataDirectory: String, projections: [any Projection], mapSizeBytes: Int = 16 << 30) throws -> ViewStore {
        let path = Self.path(in: dataDirectory)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        let names = ["projections"] + projections.flatMap(\.databases).flatMap { [$0, $0 + "~1"] }
        let writer = WriterThread(name: "tally-views")
        do {
            let environment = try Environment.open(
                at: path, databases: names,
                // Views are rebuilt from the log, and a commit's checkpoint travels with its
                // data: a system crash that undoes the last views commit only means replaying
                // those events again. One flush a commit instead of two.
                configuration: EnvironmentConfiguration(
                    mapSizeBytes: mapSizeBytes, databasesMax: max(8, names.count + 2), readOnly: false, derivedNoMetaSync: true),
                writer: writer)
            return ViewStore(environment: environment, writer: writer)
        } catch {
            writer.stop()
            throw error
        }
    }

    private init(environment: Environment, writer: WriterThread) {
        self.environment = environment
        self.writer = writer
        self.meta = environment.database("projections")
    }

    /// Closes the environment; workers must have stopped.
    public func close() {
        self.environment.close()
        self.writer.stop()
    }

    /// A projection's active checkpoint and the version it was built with (`(0, nil)` if never run).
    public func checkpoint(of name: String) throws -> (position: UInt64, version: UInt32?) {
        let meta = try self.meta(of: name)
        return (meta.position, meta.version)
    }

    /// A projection's meta entry (a default one if it never ran).
    public func meta(of name: String) throws -> ProjectionMeta {
        try self.environment.read { txn in try self.meta(of: name, txn) }
    }

    func meta(of name: String, _ txn: borrowing ReadTransaction) throws -> ProjectionMeta {
        try Array(name.utf8).withUnsafeBytes { key in try txn.get(self.meta, key: key) }.flatMap(ProjectionMeta.init) ?? ProjectionMeta()
    }

    /// The active generation of database `name` (owned by the projection named before its
    /// first dot), as of `txn`'s snapshot.
    public func database(_ name: String, _ txn: borrowing ReadTransaction) throws -> Database {
        let owner = String(name.prefix { $0 != "." })
        return self.environment.database(ProjectionMeta.physical(name, generation: try self.meta(of: owner, txn).generation))
    }

    /// Runs `body` on the views writer thread in one write transaction.
    func write<T: Sendable>(_ body: @escaping @Sendable (inout WriteTransaction) throws -> T) async throws -> T {
        try await self.writer.run { try self.environment.write(body) }
    }

    /// Reads in one consistent snapshot.
    public func read<T>(_ body: (borrowing ReadTransaction) throws -> T) throws -> T {
        try self.environment.read(body)
    }

}

/// Where a projection stands in `<data>/views`: the active generation's checkpoint and
/// version, and a rebuild in progress in the other generation, if any.
///
/// Encoding: position u64 LE ‖ version u32 LE ‖ generation u8 ‖ shadow version u32 LE ‖
/// shadow position u64 LE (shadow version 0: no rebuild). A 12-byte entry is generation 0
/// without a rebuild.
public struct ProjectionMeta: Sendable, Equatable {
    public var position: UInt64 = 0
    /// `nil`: never built.
    public var version: UInt32?
    public var generation: UInt8 = 0
    /// The version being rebuilt in the other generation, if any.
    public var shadowVersion: UInt32?
    public var shadowPosition: UInt64 = 0

    public init() {}

    init(position: UInt64, version: UInt32, generation: UInt8) {
        self.position = position
        self.version = version
        self.generation = generation
    }

    init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 12 || bytes.count == 25 else { return nil }
        self.position = bytes.loadUnaligned(as: UInt64.self).littleEndian
        self.version = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        if bytes.count == 25 {
            self.generation = bytes[12] & 1
            let shadow = bytes.loadUnaligned(fromByteOffset: 13, as: UInt32.self).littleEndian
            self.shadowVersion = shadow == 0 ? nil : shadow
            self.shadowPosition = bytes.loadUnaligned(fromByteOffset: 17, as: UInt64.self).littleEndian
        }
    }

    var encoded: [UInt8] {
        var value = withUnsafeBytes(of: self.position.littleEndian) { Array($0) }
        withUnsafeBytes(of: (self.version ?? 0).littleEndian) { value.append(contentsOf: $0) }
        value.append(self.generation)
        withUnsafeBytes(of: (self.shadowVersion ?? 0).littleEndian) { value.append(contentsOf: $0) }
        withUnsafeBytes(of: self.shadowPosition.littleEndian) { value.append(contentsOf: $0) }
        return value
    }

    /// The LMDB name of generation `generation` of database `name`.
    static func physical(_ name: String, generation: UInt8) -> String { generation == 0 ? name : name + "~1" }
}
