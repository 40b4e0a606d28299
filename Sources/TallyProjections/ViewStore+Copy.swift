import Foundation
import TallyLMDB

extension ViewStore {
    /// Writes a consistent, compacted copy of these views (`data.mdb`) into the existing,
    /// empty directory `directory`, from one read transaction while the workers go on.
    public func copy(to directory: String) throws {
        try self.environment.copy(to: directory, compact: true)
    }

    /// The same compacted copy written to the open file descriptor `fd` (a file or a pipe).
    public func copy(toFileDescriptor fd: Int32) throws {
        try self.environment.copy(toFileDescriptor: fd, compact: true)
    }

    /// Copies the views of `dataDirectory`, which another process may be writing, into the
    /// existing, empty directory `directory` (compacted, one read transaction).
    ///
    /// - Returns: `false` when the data directory has no views yet.
    public static func copy(dataDirectory: String, to directory: String) throws -> Bool {
        try Self.withReadOnlyViews(of: dataDirectory) { try $0.copy(to: directory, compact: true) } != nil
    }

    /// Writes the views of `dataDirectory` (compacted, one read transaction) to the open
    /// file descriptor `fd`; `false` when the data directory has no views yet.
    public static func copy(dataDirectory: String, toFileDescriptor fd: Int32) throws -> Bool {
        try Self.withReadOnlyViews(of: dataDirectory) { try $0.copy(toFileDescriptor: fd, compact: true) } != nil
    }

    /// Whether `dataDirectory` has views.
    public static func exist(in dataDirectory: String) -> Bool {
        FileManager.default.fileExists(atPath: Self.path(in: dataDirectory) + "/data.mdb")
    }

    private static func withReadOnlyViews<T>(of dataDirectory: String, _ body: (Environment) throws -> T) throws -> T? {
        let path = Self.path(in: dataDirectory)
        guard Self.exist(in: dataDirectory) else { return nil }
        let environment = try Environment.open(
            at: path, databases: [], configuration: EnvironmentConfiguration(mapSizeBytes: 16 << 30, databasesMax: 64, readOnly: true),
            writer: nil)
        defer { environment.close() }
        return try body(environment)
    }

    /// Every projection's meta entry in the views copy in `directory` (opened read-only,
    /// without a lock file, so the copy stays as it was).
    public static func metas(ofCopyAt directory: String) throws -> [String: ProjectionMeta] {
        let environment = try Environment.open(
            at: directory, databases: ["projections"],
            configuration: EnvironmentConfiguration(mapSizeBytes: 16 << 30, databasesMax: 64, readOnly: true, noLock: true),
            writer: nil)
        defer { environment.close() }
        let meta = environment.database("projections")
        return try environment.read { txn in
            try txn.withCursor(meta) { cursor throws in
                var result: [String: ProjectionMeta] = [:]
                var entry = try cursor.first()
                while let current = entry {
                    if let decoded = ProjectionMeta(current.value) {
                        result[String(decoding: current.key, as: UTF8.self)] = decoded
                    }
                    entry = try cursor.next()
                }
                return result
            }
        }
    }
}
