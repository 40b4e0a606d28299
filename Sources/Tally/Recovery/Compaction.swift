import Foundation

/// Offline compaction: LMDB files never shrink by themselves (freed pages are reused, not
/// returned), so this rewrites each environment of a data directory with LMDB's
/// compacting copy, verifies the copy, and swaps it in with one `rename`.
public enum Compaction {
    /// One environment before and after.
    public struct Result: Sendable, Equatable {
        /// `log` or `views`.
        public var environment: String
        /// `data.mdb` bytes before and after.
        public var bytesBefore: UInt64, bytesAfter: UInt64
    }

    /// Compacts `<data>/log` and `<data>/views` while holding the writer lock (stop the
    /// server and every reader first). The log copy must verify clean and end at the same
    /// head before it replaces the original; otherwise the original stays as it was.
    ///
    /// - Throws: ``LogError`` `locked` when a writer runs, ``RecoveryError`` when the copy
    ///   does not verify.
    public static func run(dataDirectory data: String) async throws -> [Result] {
        try await EventLog.withWriterLock(directory: data) {
            let work = data + "/.compact"
            try? FileManager.default.removeItem(atPath: work)
            defer { try? FileManager.default.removeItem(atPath: work) }
            var results: [Result] = []
            let log = try await EventLog.open(at: data, configuration: LogConfiguration(readOnly: true))
            let head: LogHead
            do {
                head = try log.head()
                try Backup.makeDirectory(work + "/log")
                try log.copyEnvironment(to: work + "/log")
                await log.close()
            } catch {
                await log.close()
                throw error
            }
            let copy = try await EventLog.open(at: work, configuration: LogConfiguration(readOnly: true, noLock: true))
            let report = try copy.verify()
            let copyHead = try copy.head()
            await copy.close()
            guard report.isClean, copyHead == head else {
                throw RecoveryError(
                    .corruption, "the compacted copy of \(data)/log does not verify (\(report.reason ?? "head differs")); the original is unchanged",
                    file: work + "/log/data.mdb", position: report.firstBadPosition)
            }
            results.append(try Self.swap(work + "/log", into: EventLog.logPath(in: data), name: "log"))
            try Backup.makeDirectory(work + "/views")
            if try ViewStore.copy(dataDirectory: data, to: work + "/views") {
                guard try ViewStore.metas(ofCopyAt: work + "/views") == ViewStore.metas(ofCopyAt: ViewStore.path(in: data)) else {
                    throw RecoveryError(.corruption, "the compacted copy of \(data)/views lost projection checkpoints; the original is unchanged", file: work + "/views")
                }
                results.append(try Self.swap(work + "/views", into: ViewStore.path(in: data), name: "views"))
            }
            return results
        }
    }

    private static func swap(_ copy: String, into environment: String, name: String) throws -> Result {
        let files = FileManager.default
        let before = (try? files.attributesOfItem(atPath: environment + "/data.mdb")[.size] as? UInt64) ?? 0
        let after = (try? files.attributesOfItem(atPath: copy + "/data.mdb")[.size] as? UInt64) ?? 0
        guard rename(copy + "/data.mdb", environment + "/data.mdb") == 0 else {
            throw RecoveryError(.io, "cannot move the compacted copy into \(environment): \(String(cString: strerror(errno)))", file: environment)
        }
        // The reader table belongs to the old file; LMDB makes a new one at the next open.
        try? files.removeItem(atPath: environment + "/lock.mdb")
        return Result(environment: name, bytesBefore: before, bytesAfter: after)
    }
}
