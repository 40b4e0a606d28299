import Foundation
import Tally
import TallyTesting
import Testing

/// The disk really full: a real writer on a small tmpfs (in a private mount namespace, so
/// nothing outside the test sees it) appends from 8 tasks until the filesystem has no room.
/// The failed batch is not acknowledged and the writer stops with a clear error; once the
/// space returns, appends work again on the same filesystem, every acknowledged event is
/// there and verify is clean. (`FsyncFailureTests` injects the same errno with strace.)
@Suite struct DiskFullTests {
    @Test func aFullFilesystemStopsWritesCleanlyAndTheyResumeWhenSpaceReturns() async throws {
        try await withTemporaryDirectory(prefix: "tally-enospc") { dir in
            let mountPoint = dir.path + "/fs"
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            // Inside the namespace: mount, leave 6 MiB free, write until full, free the space,
            // append once more, copy the data out for the checks, unmount.
            let script = """
                set -u
                mount -t tmpfs -o size=16m tmpfs "$1" || exit 90
                head -c 10m /dev/zero > "$1/filler"
                "$2" "$1/data" 8 20 > "$3/acks.txt" 2> "$3/writer-stderr.txt"
                echo $? > "$3/writer-status.txt"
                df -k "$1" | tail -1 > "$3/df.txt"
                rm "$1/filler"
                "$4" append --data "$1/data" --stream after-full --type disk.recovered --payload '{}' --json > "$3/after.txt" 2>&1
                echo $? > "$3/after-status.txt"
                cp -a "$1/data" "$3/copy"
                umount "$1"
                """
            // As root a mount namespace is enough; otherwise an unprivileged user namespace maps us to root in it.
            let namespace = getuid() == 0 ? ["--mount"] : ["--mount", "--map-root-user"]
            let result = try await runProcess(
                "/usr/bin/unshare",
                namespace + [
                    "/bin/sh", "-c", script, "sh", mountPoint, BuiltProducts.executable("TallyCrashChild"), dir.path,
                    BuiltProducts.executable("tally"),
                ])
            try #require(
                result.status != 90,
                "mounting a tmpfs needs root or unprivileged user namespaces (unshare --mount --map-root-user): \(result.standardError)")
            #expect(result.status == 0, "\(result.standardOutput) \(result.standardError)")

            func read(_ name: String) throws -> String {
                try String(contentsOfFile: dir.path + "/" + name, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let stderr = try read("writer-stderr.txt")
            #expect(try read("writer-status.txt") == "3", "the writer should stop on the failed commit: \(stderr)")
            let lines = try read("acks.txt").split(separator: "\n")
            let errors = lines.filter { $0.hasPrefix("ERR ") }
            let codes = Set(errors.map { String($0.split(separator: " ")[1]) })
            #expect(!codes.isEmpty && codes.isSubset(of: ["storage_error", "unhealthy"]), "\(codes)")
            // LMDB reports the cut-short page write as EIO; the message still says what happened.
            #expect(stderr.contains("the disk is full"), "the writer's log does not say the disk is full: \(stderr)")
            var acknowledged: [UUID] = []
            for line in lines where line.hasPrefix("ACK ") {
                let parts = line.split(separator: " ")
                if parts.count == 5, let id = UUID(uuidString: String(parts[2])) { acknowledged.append(id) }
            }
            #expect(acknowledged.count > 1_000, "the writer acknowledged too little to fill anything: \(acknowledged.count)")
            // The filesystem was full when the writer stopped (a few KiB left at most).
            let available = try read("df.txt").split(separator: " ").dropFirst(3).first.flatMap { Int($0) } ?? -1
            #expect(available >= 0 && available < 1_024, "KiB still free when the writer stopped: \(available)")

            // Space back: the next append on the same filesystem succeeded.
            let after = try read("after.txt")
            #expect(try read("after-status.txt") == "0", "append after the space returned: \(after)")
            let ledger = try await Ledger.open(at: dir.path + "/copy", expiryInterval: nil)
            for id in acknowledged {
                #expect(try ledger.log.event(id: id) != nil, "acknowledged \(id) is missing after the disk filled")
            }
            #expect(try ledger.log.streamVersion("after-full") == 0, "the append after the space returned is missing")
            let report = try ledger.log.verify()
            #expect(report.isClean, "\(report.reason ?? "")")
            #expect(report.recordsChecked == ledger.log.headPosition)
            await ledger.close()
        }
    }
}
