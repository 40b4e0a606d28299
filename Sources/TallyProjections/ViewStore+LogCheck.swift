import Foundation
import TallyLMDB
public import TallyLog

extension ViewStore {
    /// Finds views that are ahead of the log: a projection checkpoint past the log's head.
    ///
    /// The views are derived from the log, so they can lag it but never lead it. A view
    /// ahead means the log lost commits it had acknowledged: an LMDB meta page reverted to
    /// an older version (a lost write), or `log/data.mdb` replaced by an older copy. LMDB
    /// then opens the log at the older transaction, and nothing inside the log file can tell.
    ///
    /// - Parameter head: the log's head position.
    /// - Returns: a `corruption` error naming the projection and both positions, or `nil`.
    public func checkNotAhead(ofLogHead head: UInt64) throws -> LogError? {
        try self.environment.read { txn in try Self.firstAhead(self.meta, txn, head: head) }
    }

    /// ``checkNotAhead(ofLogHead:)`` on the views of `dataDirectory`, opened read-only
    /// (works while a server writes them); `nil` when the directory has no views.
    public static func checkNotAhead(dataDirectory: String, logHead head: UInt64) throws -> LogError? {
        let path = Self.path(in: dataDirectory)
        guard FileManager.default.fileExists(atPath: path + "/data.mdb") else { return nil }
        let environment = try Environment.open(
            at: path, databases: ["projections"],
            configuration: EnvironmentConfiguration(mapSizeBytes: 16 << 30, databasesMax: 64, readOnly: true), writer: nil)
        defer { environment.close() }
        return try environment.read { txn in try Self.firstAhead(environment.database("projections"), txn, head: head) }
    }

    private static func firstAhead(_ meta: Database, _ txn: borrowing ReadTransaction, head: UInt64) throws -> LogError? {
        try txn.withCursor(meta) { cursor throws in
            var entry = try cursor.first()
            while let current = entry {
                let name = String(decoding: current.key, as: UTF8.self)
                if let meta = ProjectionMeta(current.value) {
                    let applied = max(meta.position, meta.shadowVersion == nil ? 0 : meta.shadowPosition)
                    if applied > head {
                        return Self.aheadError(projection: name, applied: applied, head: head)
                    }
                }
                entry = try cursor.next()
            }
            return nil
        }
    }

    static func aheadError(projection: String, applied: UInt64, head: UInt64) -> LogError {
        LogError(
            .corruption,
            "the projection \(projection) has applied the log up to position \(applied), but the log ends at \(head): "
                + "the log lost commits it had acknowledged (an LMDB meta page reverted by a lost write, or log/data.mdb "
                + "replaced by an older copy); restore from a backup (`tally restore`)",
            position: head + 1)
    }
}
