import Foundation
import Tally
import TallyTesting
import Testing

/// Damaged backups, restored with the real `tally restore`: each is refused with a stable
/// code naming the file (and the first bad position where there is one), and the target
/// directory is left exactly as it was.
@Suite struct RecoveryDamageTests {
    /// `backups/full` (positions 1…a), `backups/inc` (a+1…b) and `backups/full-later` (1…c, c > b).
    static func makeBackups(in dir: String) async throws -> (full: BackupManifest, incremental: BackupManifest) {
        let ledger = try await Ledger.open(at: dir + "/data", configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
        for round in 0..<2 { try await RecoveryTests.workload(ledger, round: round) }
        let full = try await Backup.create(log: ledger.log, views: nil, into: dir + "/backups/full")
        for round in 2..<4 { try await RecoveryTests.workload(ledger, round: round) }
        let incremental = try await Backup.create(log: ledger.log, views: nil, into: dir + "/backups/inc", since: dir + "/backups/full")
        try await RecoveryTests.workload(ledger, round: 4)
        _ = try await Backup.create(log: ledger.log, views: nil, into: dir + "/backups/full-later")
        await ledger.close()
        return (full, incremental)
    }

    /// A target that already holds something: `--force` would replace it, so a refused
    /// restore must leave it alone.
    static func makeTarget(_ path: String) throws {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try "keep me".write(toFile: path + "/marker", atomically: true, encoding: .utf8)
    }

    static func expectRefused(
        _ backup: String, target: String, code: String, naming file: String, position: Bool = false, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let run = try await runProcess(BuiltProducts.executable("tally"), ["restore", backup, "--data", target, "--force", "--json"])
        #expect(run.status == 1, "\(run.standardOutput) \(run.standardError)", sourceLocation: sourceLocation)
        let object = (try? JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8))) as? [String: Any]
        let error = object?["error"] as? [String: Any]
        #expect(error?["code"] as? String == code, "\(run.standardOutput)", sourceLocation: sourceLocation)
        let message = error?["message"] as? String ?? ""
        #expect(message.contains(file), "the error does not name \(file): \(message)", sourceLocation: sourceLocation)
        if position { #expect(message.contains("position"), "the error does not name a position: \(message)", sourceLocation: sourceLocation) }
        #expect(try String(contentsOfFile: target + "/marker", encoding: .utf8) == "keep me", sourceLocation: sourceLocation)
        #expect(try FileManager.default.contentsOfDirectory(atPath: target) == ["marker"], sourceLocation: sourceLocation)
        #expect(!FileManager.default.fileExists(atPath: target + ".restoring"), sourceLocation: sourceLocation)
    }

    /// Rewrites a backup's manifest after `edit` with fresh file digests and sums, as
    /// someone covering their tracks would: the data checks must still find the damage.
    static func forgeManifest(_ directory: String, _ edit: (inout [String: Any]) -> Void = { _ in }) throws {
        let path = directory + "/manifest.json"
        var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        edit(&manifest)
        let files = try #require(manifest["files"] as? [[String: Any]])
        manifest["files"] = try files.map { file in
            let digest = try FileDigest.compute(try #require(file["path"] as? String), in: directory)
            return ["path": digest.path, "bytes": digest.bytes, "xxh3": digest.xxh3, "sha256": digest.sha256]
        }
        try JSONSerialization.data(withJSONObject: manifest, options: [.sortedKeys]).write(to: URL(fileURLWithPath: path))
        let sums = try (files.compactMap { $0["path"] as? String } + ["manifest.json"]).map { name in
            "\(try FileDigest.compute(name, in: directory).sha256)  \(name)\n"
        }.joined()
        try sums.write(toFile: directory + "/SHA256SUMS", atomically: true, encoding: .utf8)
    }

    static func copyBackups(_ dir: String, to name: String) throws -> String {
        let copy = dir + "/" + name
        try FileManager.default.copyItem(atPath: dir + "/backups", toPath: copy)
        return copy
    }

    @Test func aTruncatedSegmentIsNamedAndTheTargetIsUntouched() async throws {
        try await withTemporaryDirectory(prefix: "tally-damage") { dir in
            _ = try await Self.makeBackups(in: dir.path)
            let target = dir.path + "/target"
            try Self.makeTarget(target)
            let backups = try Self.copyBackups(dir.path, to: "truncated")
            let segment = backups + "/inc/log.segment"
            let size = try #require(try FileManager.default.attributesOfItem(atPath: segment)[.size] as? Int)
            let handle = try #require(FileHandle(forWritingAtPath: segment))
            try handle.truncate(atOffset: UInt64(size - 100))
            try handle.close()
            try await Self.expectRefused(backups + "/inc", target: target, code: "file_checksum_mismatch", naming: "inc/log.segment")
            // With the manifest's digests forged to match, the segment's own framing finds it.
            try Self.forgeManifest(backups + "/inc")
            try await Self.expectRefused(backups + "/inc", target: target, code: "segment_truncated", naming: "log.segment", position: true)
        }
    }

    @Test func aFlippedByteInTheBaseIsNamedWithItsPosition() async throws {
        try await withTemporaryDirectory(prefix: "tally-damage") { dir in
            _ = try await Self.makeBackups(in: dir.path)
            let target = dir.path + "/target"
            try Self.makeTarget(target)
            let backups = try Self.copyBackups(dir.path, to: "flipped")
            let file = backups + "/full/log/data.mdb"
            var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
            // Inside a record: the payload of the round-1 task event.
            let needle = Array(#"{"round":1}"#.utf8)
            let offset = try #require((0...(bytes.count - needle.count)).first { bytes[$0..<($0 + needle.count)].elementsEqual(needle) })
            bytes[offset + 9] ^= 0x01
            try Data(bytes).write(to: URL(fileURLWithPath: file))
            try await Self.expectRefused(backups + "/inc", target: target, code: "file_checksum_mismatch", naming: "full/log/data.mdb")
            try Self.forgeManifest(backups + "/full")
            // The incremental backup names its base's chain head, which did not change.
            try await Self.expectRefused(backups + "/inc", target: target, code: "corruption", naming: "log/data.mdb", position: true)
        }
    }

    @Test func anEditedManifestIsRefused() async throws {
        try await withTemporaryDirectory(prefix: "tally-damage") { dir in
            let (_, incremental) = try await Self.makeBackups(in: dir.path)
            let target = dir.path + "/target"
            try Self.makeTarget(target)
            let backups = try Self.copyBackups(dir.path, to: "edited")
            let path = backups + "/inc/manifest.json"
            let text = try String(contentsOfFile: path, encoding: .utf8)
            let edited = text.replacingOccurrences(of: "\"head_position\" : \(incremental.headPosition)", with: "\"head_position\" : \(incremental.headPosition + 50)")
            #expect(edited != text)
            try edited.write(toFile: path, atomically: true, encoding: .utf8)
            try await Self.expectRefused(backups + "/inc", target: target, code: "manifest_mismatch", naming: "manifest.json")
            // Forged sums too: the data still ends where it ends.
            try Self.forgeManifest(backups + "/inc")
            try await Self.expectRefused(backups + "/inc", target: target, code: "manifest_mismatch", naming: "manifest.json", position: true)
        }
    }

    @Test func aSegmentThatDoesNotChainOntoItsBaseIsRefused() async throws {
        try await withTemporaryDirectory(prefix: "tally-damage") { dir in
            _ = try await Self.makeBackups(in: dir.path)
            let target = dir.path + "/target"
            try Self.makeTarget(target)
            let backups = try Self.copyBackups(dir.path, to: "rebased")
            let later = try BackupManifest.read(from: backups + "/full-later")
            // The segment claims the later full backup as its base.
            try Self.forgeManifest(backups + "/inc") { manifest in
                manifest["base"] = ["id": later.id, "path": "../full-later", "head_position": later.headPosition, "chain_head": later.chainHead]
            }
            try await Self.expectRefused(backups + "/inc", target: target, code: "segment_does_not_chain", naming: "log.segment", position: true)
        }
    }

    /// `tally backup verify` in a child process, and what standard tools say of a backup.
    @Test func backupVerifyAndStandardTools() async throws {
        try await withTemporaryDirectory(prefix: "tally-verify") { dir in
            _ = try await Self.makeBackups(in: dir.path)
            let tally = BuiltProducts.executable("tally")
            for name in ["full", "inc"] {
                let run = try await runProcess(tally, ["backup", "verify", dir.path + "/backups/" + name])
                #expect(run.status == 0, "\(run.standardError)")
                #expect(run.standardOutput.hasPrefix("valid: "))
                let sums = try await runProcess("/bin/sh", ["-c", "cd '\(dir.path)/backups/\(name)' && sha256sum -c SHA256SUMS"])
                #expect(sums.status == 0, "\(sums.standardOutput)")
            }
            let list = try await runProcess(tally, ["backup", "list", dir.path + "/backups", "--json"])
            let listed = try #require(try JSONSerialization.jsonObject(with: Data(list.standardOutput.utf8)) as? [[String: Any]])
            #expect(listed.compactMap { $0["kind"] as? String } == ["full", "incremental", "full"])
            // Keep the newest one: `inc` goes, and `full` with it (nothing kept needs it).
            let prune = try await runProcess(tally, ["backup", "prune", dir.path + "/backups", "--keep", "1", "--json"])
            let pruned = try #require(try JSONSerialization.jsonObject(with: Data(prune.standardOutput.utf8)) as? [String: Any])
            #expect((pruned["deleted"] as? [String])?.count == 2)
            #expect(Backup.list(root: dir.path + "/backups").map { URL(fileURLWithPath: $0.path).lastPathComponent } == ["full-later"])
        }
    }

    /// Pruning never deletes the base of a kept incremental backup.
    @Test func pruneKeepsTheBaseOfAKeptSegment() async throws {
        try await withTemporaryDirectory(prefix: "tally-prune") { dir in
            _ = try await Self.makeBackups(in: dir.path)
            try FileManager.default.removeItem(atPath: dir.path + "/backups/full-later")
            let doomed = try Backup.prune(root: dir.path + "/backups", keep: 1, dryRun: true)
            #expect(doomed.isEmpty, "the kept segment needs its base: \(doomed.map(\.path))")
        }
    }
}
