import Foundation

/// What `tally bench` prints first: the machine the figures belong to.
enum BenchMachine {
    /// CPU model, cores, memory, kernel, the filesystem of `directory`, and the median and
    /// p99 of 200 `write` + `fdatasync` pairs there (the floor under every durable commit).
    static func describe(directory: String) -> [String: Any] {
        var info: [String: Any] = ["workload": "machine", "cores": ProcessInfo.processInfo.activeProcessorCount]
        let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        if let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("model name") }), let colon = line.firstIndex(of: ":") {
            info["cpu"] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        info["memory_gib"] = Double(ProcessInfo.processInfo.physicalMemory) / Double(1 << 30)
        var name = utsname()
        uname(&name)
        info["kernel"] = withUnsafeBytes(of: name.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        info["filesystem"] = Self.filesystem(of: directory)
        if let latency = Self.fsyncLatency(directory: directory) {
            info["fsync_p50_ms"] = latency.p50 * 1_000
            info["fsync_p99_ms"] = latency.p99 * 1_000
        }
        return info
    }

    /// The type of the mount that holds `path` (longest matching mount point in /proc/mounts).
    private static func filesystem(of path: String) -> String {
        let mounts = (try? String(contentsOfFile: "/proc/mounts", encoding: .utf8)) ?? ""
        var best = (length: -1, type: "unknown")
        for line in mounts.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3 else { continue }
            let point = String(fields[1])
            if (path == point || path.hasPrefix(point == "/" ? "/" : point + "/")) && point.count > best.length {
                best = (point.count, String(fields[2]))
            }
        }
        return best.type
    }

    private static func fsyncLatency(directory: String) -> (p50: Double, p99: Double)? {
        let path = "\(directory)/tally-fsync-probe-\(getpid())"
        let fd = open(path, O_CREAT | O_WRONLY | O_TRUNC, 0o600)
        guard fd >= 0 else { return nil }
        defer {
            close(fd)
            unlink(path)
        }
        let block = [UInt8](repeating: 0xAB, count: 4_096)
        var samples: [Double] = []
        for _ in 0..<200 {
            let start = ContinuousClock.now
            guard block.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) == block.count, fdatasync(fd) == 0 else { return nil }
            let elapsed = ContinuousClock.now - start
            samples.append(Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
        }
        samples.sort()
        return (samples[samples.count / 2], samples[samples.count * 99 / 100])
    }
}
