import Foundation
import NIOConcurrencyHelpers
import Tally
import TallyServer

/// W7: durable appends through `tally serve` over HTTP on loopback, driven by `wrk`
/// (Debian's package) with keep-alive connections: single events a request, and batches of
/// 1,000 events a request, and `GET /health`; each beside ``HTTPBaseline`` (the same server
/// stack with nothing behind it) under the same load. Run it in the same `tally bench` as `single` and `batch` to read
/// the ratios to the in-process rates.
struct BenchHTTP {
    let root: String
    let connections: Int
    let seconds: Int
    let report: ([String: Any]) -> Void

    func run() async throws {
        guard let wrk = ["/usr/bin/wrk", "/usr/local/bin/wrk"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CLIError(code: "invalid_argument", message: "the http workload drives the server with wrk: apt-get install -y wrk")
        }
        let data = self.root + "-http"
        try? FileManager.default.removeItem(atPath: data)
        defer { try? FileManager.default.removeItem(atPath: data) }
        let ledger = try await Ledger.open(at: data, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
        let secret = try await KeyStore(log: ledger.log).create(name: "bench", role: .writer, in: ledger, actor: "bench").secret
        await ledger.close()

        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        server.arguments = ["serve", "--data", data, "--listen", "127.0.0.1:0", "--rate-limit", "0", "--log-level", "error", "--snapshot-every", "0"]
        let out = Pipe()
        server.standardOutput = out
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer {
            server.terminate()
            server.waitUntilExit()
        }
        var text = ""
        var port: Int?
        let deadline = Date().addingTimeInterval(30)
        while port == nil, Date() < deadline, server.isRunning {
            text += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
            port = text.split(separator: "\n").first { $0.hasPrefix("tally listening on http://") }?.split(separator: ":").last.flatMap { Int($0) }
        }
        guard let port else { throw CLIError(code: "storage_error", message: "tally serve did not start: \(text)") }

        // The floor: the same Hummingbird stack with nothing behind it, under the same load.
        let baselinePort = NIOLockedValueBox<Int?>(nil)
        let baseline = Task { try await HTTPBaseline.run { port in baselinePort.withLockedValue { $0 = port } } }
        defer { baseline.cancel() }
        while baselinePort.withLockedValue({ $0 }) == nil, Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        guard let floorPort = baselinePort.withLockedValue({ $0 }) else { throw CLIError(code: "storage_error", message: "the HTTP baseline did not start") }

        var floor: [String: Double] = [:]
        for (name, events) in [("single", 1), ("batch", 1_000), ("get", 0)] {
            let connections = events > 1 ? min(self.connections, 8) : self.connections
            let script = data + "/\(name).lua"
            try Self.script(key: secret, eventsPerRequest: events).write(toFile: script, atomically: true, encoding: .utf8)
            let bare = try self.drive(wrk: wrk, port: floorPort, connections: connections, script: script)
            floor[name] = bare.requests
            let result = try self.drive(wrk: wrk, port: port, connections: connections, script: script)
            self.report([
                "workload": "http", "mode": name, "connections": connections, "events_per_request": events,
                "requests_per_second": result.requests, "events_per_second": result.requests * Double(events),
                "p50_ms": result.p50, "p99_ms": result.p99, "non_2xx": result.non2xx,
                "baseline_requests_per_second": bare.requests, "baseline_p50_ms": bare.p50,
                "ratio_to_baseline": bare.requests > 0 ? result.requests / bare.requests : 0,
            ])
        }
    }

    /// One wrk run against `port` with `script`: requests a second, p50 and p99 in ms.
    private func drive(wrk: String, port: Int, connections: Int, script: String) throws -> (requests: Double, p50: Double, p99: Double, non2xx: Int) {
        let run = Process()
        run.executableURL = URL(fileURLWithPath: wrk)
        run.arguments = ["-t2", "-c\(connections)", "-d\(self.seconds)s", "--latency", "-s", script, "http://127.0.0.1:\(port)"]
        let output = Pipe()
        run.standardOutput = output
        try run.run()
        let result = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        run.waitUntilExit()
        return (
            Self.number(after: "Requests/sec:", in: result) ?? 0, Self.latency("50%", in: result) ?? -1, Self.latency("99%", in: result) ?? -1,
            Int(Self.number(after: "Non-2xx or 3xx responses:", in: result) ?? 0)
        )
    }

    /// A wrk script posting `eventsPerRequest` 200-byte events a request (``BenchCommand/payload``) over 10,000 streams,
    /// or, for 0, getting `/health`.
    static func script(key: String, eventsPerRequest: Int) -> String {
        if eventsPerRequest == 0 {
            return """
                wrk.method = "GET"
                request = function() return wrk.format(nil, "/health") end
                """
        }
        return """
            wrk.method = "POST"
            wrk.headers["Content-Type"] = "application/json"
            wrk.headers["Authorization"] = "Bearer \(key)"
            local event = '{"type":"bench.appended","payload":\(String(decoding: BenchCommand.payload, as: UTF8.self))}'
            local events = {}
            for i = 1, \(eventsPerRequest) do events[i] = event end
            local body = '{"events":[' .. table.concat(events, ",") .. ']}'
            local counter = 0
            request = function()
              counter = counter + 1
              return wrk.format(nil, "/v1/streams/bench-" .. (counter % 10000) .. "/events", nil, body)
            end
            """
    }

    static func number(after label: String, in text: String) -> Double? {
        guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(label) }) else { return nil }
        return Double(line.replacingOccurrences(of: label, with: "").trimmingCharacters(in: .whitespaces))
    }

    /// A latency percentile from wrk's distribution, in milliseconds.
    static func latency(_ percentile: String, in text: String) -> Double? {
        guard let line = text.split(separator: "\n").first(where: { $0.trimmingCharacters(in: .whitespaces).hasPrefix(percentile + " ") }) else { return nil }
        let value = line.trimmingCharacters(in: .whitespaces).dropFirst(percentile.count).trimmingCharacters(in: .whitespaces)
        for (unit, factor) in [("us", 0.001), ("ms", 1.0), ("s", 1_000.0)] where value.hasSuffix(unit) {
            return Double(value.dropLast(unit.count)).map { $0 * factor }
        }
        return nil
    }
}
