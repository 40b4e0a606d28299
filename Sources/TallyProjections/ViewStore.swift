import Foundation
public import TallyLMDB
import TallyLog

/// `<data>/views`: the LMDB environment the projections write, apart from the log.
///
/// Database `projections` holds each projection's checkpoint: name → position u64 LE ‖
/// version u32 LE. Everything here is derived from the log and can be rebuilt from it.
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
        let names = ["projections"] + projections.flatMap(\.databases)
        let writer = WriterThread(name: "tally-views")
        do {
            let environment = try Environment.open(
                at: path, databases: names,
                configuration: EnvironmentConfiguration(mapSizeBytes: mapSizeBytes, databasesMax: max(8, names.count + 2), readOnly: false),
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

    /// A projection's checkpoint and the version it was built with (`(0, nil)` if never run).
    public func checkpoint(of name: String) throws -> (position: UInt64, version: UInt32?) {
        try self.environment.read { txn in
            guard let value = try Array(name.utf8).withUnsafeBytes({ key in try txn.get(self.meta, key: key) }), value.count == 12 else {
                return (0, nil)
            }
            return (value.loadUnaligned(as: UInt64.self).littleEndian, value.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
        }
    }

    /// Runs `body` on the views writer thread in one write transaction.
    func write<T: Sendable>(_ body: @escaping @Sendable (inout WriteTransaction) throws -> T) async throws -> T {
        try await self.writer.run { try self.environment.write(body) }
    }

    /// Reads in one consistent snapshot.
    public func read<T>(_ body: (borrowing ReadTransaction) throws -> T) throws -> T {
        try self.environment.read(body)
    }

    static func checkpointValue(position: UInt64, version: UInt32) -> [UInt8] {
        var value = withUnsafeBytes(of: position.littleEndian) { Array($0) }
        withUnsafeBytes(of: version.littleEndian) { value.append(contentsOf: $0) }
        return value
    }
}
