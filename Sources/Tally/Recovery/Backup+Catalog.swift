import Foundation

extension Backup {
    /// A backup found under a backups directory.
    public struct Listed: Sendable {
        /// Its directory.
        public var path: String
        /// Its manifest.
        public var manifest: BackupManifest
        /// Its files' total size in bytes.
        public var bytes: UInt64 { self.manifest.files.reduce(0) { $0 + $1.bytes } }
    }

    /// The backups directly under `root`, oldest first (by creation time).
    public static func list(root: String) -> [Listed] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.compactMap { name -> Listed? in
            let path = URL(fileURLWithPath: root).appendingPathComponent(name).standardizedFileURL.path
            guard let manifest = try? BackupManifest.read(from: path) else { return nil }
            return Listed(path: path, manifest: manifest)
        }.sorted { ($0.manifest.createdAt, $0.manifest.headPosition) < ($1.manifest.createdAt, $1.manifest.headPosition) }
    }

    /// Deletes the backups under `root` that are neither among the newest `keep` nor younger
    /// than `keepDays` days, except every base that a kept backup chains onto.
    ///
    /// - Parameters:
    ///   - nowNanoseconds: the time to count days back from (default: now).
    ///   - dryRun: only say what would be deleted.
    /// - Returns: the deleted (or, with `dryRun`, deletable) backups.
    @discardableResult
    public static func prune(root: String, keep: Int, keepDays: Double? = nil, nowNanoseconds: UInt64? = nil, dryRun: Bool = false) throws -> [Listed] {
        let all = Self.list(root: root)
        let now = Double(nowNanoseconds ?? wallClockNow()) / 1e9
        let cutoff = keepDays.map { now - $0 * 86_400 }
        var kept = Set(all.suffix(max(0, keep)).map(\.manifest.id))
        if let cutoff {
            for backup in all where RFC3339.parse(backup.manifest.createdAt).map({ Double($0) / 1e9 >= cutoff }) == true {
                kept.insert(backup.manifest.id)
            }
        }
        // A kept incremental backup needs its whole chain.
        let byID = Dictionary(all.map { ($0.manifest.id, $0) }, uniquingKeysWith: { first, _ in first })
        var frontier = Array(kept)
        while let id = frontier.popLast() {
            guard let base = byID[id]?.manifest.base?.id, !kept.contains(base) else { continue }
            kept.insert(base)
            frontier.append(base)
        }
        let doomed = all.filter { !kept.contains($0.manifest.id) }
        if !dryRun {
            for backup in doomed {
                do { try FileManager.default.removeItem(atPath: backup.path) } catch {
                    throw RecoveryError(.io, "cannot delete \(backup.path): \(error.localizedDescription)", file: backup.path)
                }
            }
        }
        return doomed
    }
}
