import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Tally
import TallyServer
import TallyTesting
import Synchronization
import Testing

/// `tally serve` as a real process on loopback: killed with SIGKILL or stopped with SIGTERM
/// while clients append over HTTP.
@Suite(.serialized) struct ServerProcessTests {
    @Test func killNineLosesNoAcknowledgedAppend() async throws {
        try await withTemporaryDirectory { dir in
            let data = dir.path + "/data"
            let key = try await ServerProcess.createKey(data: data, role: "writer", in: dir.path)
            let server = try ServerProcess.start(data: data)
            let acknowledged = try await ServerProcess.appendUntilStopped(port: server.port, key: key, clients: 16) { count in
                // Kill once enough appends were acknowledged to prove something, however slow the machine.
                try await ServerProcess.waitUntil(count, reaches: 200)
                kill(server.process.processIdentifier, SIGKILL)
            }
            server.process.waitUntilExit()
            #expect(server.process.terminationReason == .uncaughtSignal)
            #expect(acknowledged.count > 50, "too few appends got through to prove anything")
            try await ServerProcess.expectDurable(acknowledged, data: data)
        }
    }

    @Test func sigtermDrainsInFlightAppendsAndExitsZero() async throws {
        try await withTemporaryDirectory { dir in
            let data = dir.path + "/data"
            let key = try await ServerProcess.createKey(data: data, role: "writer", in: dir.path)
            let server = try ServerProcess.start(data: data)
            let acknowledged = try await ServerProcess.appendUntilStopped(port: server.port, key: key, clients: 16) { count in
                try await ServerProcess.waitUntil(count, reaches: 200)
                server.process.terminate()
            }
            server.process.waitUntilExit()
            #expect(server.process.terminationReason == .exit, "\(server.standardError)")
            #expect(server.process.terminationStatus == 0, "\(server.standardError)")
            #expect(acknowledged.count > 50)
            try await ServerProcess.expectDurable(acknowledged, data: data)
        }
    }
}

/// docs/examples/tally_client.py, the client agents copy, against a live server.
@Suite struct PythonClientExampleTests {
    @Test func pythonClientSelfTestPasses() async throws {
        try await withTemporaryDirectory { dir in
            let data = dir.path + "/data"
            let key = try await ServerProcess.createKey(data: data, role: "writer", in: dir.path)
            let server = try ServerProcess.start(data: data)
            defer {
                server.process.terminate()
                server.process.waitUntilExit()
            }
            let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("docs/examples/tally_client.py").path
            let signing = try String(contentsOfFile: dir.path + "/writer.key.signing", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            let run = try await runProcess(
                "/usr/bin/timeout",
                ["120", "python3", example, "--url", "http://127.0.0.1:\(server.port)", "--key", key, "--self-test", "--signing-secret", signing])
            #expect(run.status == 0, "\(run.standardOutput)\n\(run.standardError)")
            #expect(run.standardOutput.contains("self-test passed"))
            #expect(run.standardOutput.contains("signed self-test passed"))
        }
    }
}

/// A `tally serve` child process.
struct ServerProcess {
    let process: Process
    let port: Int
    /// Where the server's standard error goes (warnings, and any sanitizer report).
    let standardErrorPath: String

    /// The server's standard error so far, for a failure message.
    var standardError: String { (try? String(contentsOfFile: self.standardErrorPath, encoding: .utf8)) ?? "" }

    static func createKey(data: String, role: String, in directory: String) async throws -> String {
        let file = directory + "/\(role).key"
        let created = try await runProcess(BuiltProducts.executable("tally"), ["keys", "create", "--data", data, "--role", role, "--name", "\(role)-1", "--output", file, "--map-size", "1"])
        #expect(created.status == 0, "\(created.standardError)")
        return try String(contentsOfFile: file, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Starts the server on a port the system picks and waits until it listens.
    static func start(data: String) throws -> ServerProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: BuiltProducts.executable("tally"))
        process.arguments = ["serve", "--data", data, "--listen", "127.0.0.1:0", "--rate-limit", "0", "--log-level", "warning", "--map-size", "1"]
        let out = Pipe()
        process.standardOutput = out
        let standardErrorPath = data + ".server-stderr.txt"
        guard FileManager.default.createFile(atPath: standardErrorPath, contents: nil),
            let standardError = FileHandle(forWritingAtPath: standardErrorPath)
        else { throw ServerProcessError(message: "cannot create \(standardErrorPath)") }
        process.standardError = standardError
        try process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            text += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("tally listening on http://") }),
                let port = line.split(separator: ":").last.flatMap({ Int($0) })
            {
                return ServerProcess(process: process, port: port, standardErrorPath: standardErrorPath)
            }
        }
        process.terminate()
        throw ServerProcessError(message: "tally serve did not start: \(text)")
    }

    struct ServerProcessError: Error { let message: String }

    /// The acknowledged-append counter the clients share.
    final class AcknowledgedCount: Sendable {
        let value = Atomic<Int>(0)
    }

    /// Sleeps until `count` reaches `target`, or 120 s have passed.
    static func waitUntil(_ count: AcknowledgedCount, reaches target: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(120)
        while count.value.load(ordering: .relaxed) < target, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Appends single events from `clients` connections (each on its own thread) until
    /// `stop` has run and every client has failed; returns the ids of the events that got a
    /// 2xx. `stop` sees the running count of acknowledged appends.
    static func appendUntilStopped(
        port: Int, key: String, clients: Int, stop: @escaping @Sendable (AcknowledgedCount) async throws -> Void
    ) async throws -> [UUID] {
        let count = AcknowledgedCount()
        let results = Mutex<[[UUID]]>([])
        let finished = Mutex(0)
        for client in 0..<clients {
            Thread.detachNewThread {
                let connection = LoopbackHTTPClient(port: port)
                var acknowledged: [UUID] = []
                while true {
                    let id = UUID()
                    let body = #"{"events":[{"id":"\#(id.uuidString)","type":"load.tick","payload":{"client":\#(client)}}]}"#
                    let headers = ["Content-Type": "application/json", "Authorization": "Bearer \(key)"]
                    guard let response = connection.request("POST", "/v1/streams/load-\(client)/events", headers: headers, body: body)
                    else { break }
                    if (200..<300).contains(response.status) {
                        acknowledged.append(id)
                        count.value.add(1, ordering: .relaxed)
                    } else if response.status != 503 {
                        break
                    }
                }
                results.withLock { $0.append(acknowledged) }
                finished.withLock { $0 += 1 }
            }
        }
        try await stop(count)
        let deadline = ContinuousClock.now + .seconds(60)
        while finished.withLock({ $0 }) < clients, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(finished.withLock { $0 } == clients, "a client did not notice that the server stopped")
        return results.withLock { $0.flatMap { $0 } }
    }

    /// Every acknowledged event is in the log exactly once, and the log verifies.
    static func expectDurable(_ acknowledged: [UUID], data: String) async throws {
        let log = try await EventLog.open(at: data, configuration: LogConfiguration(mapSizeBytes: 1 << 30, readOnly: true))
        for id in acknowledged {
            #expect(try log.event(id: id) != nil, "acknowledged event \(id) is missing")
        }
        var seen: [UUID: Int] = [:]
        var position: UInt64 = 1
        while true {
            let page = try log.read(fromPosition: position, limit: 1_000)
            guard let last = page.last else { break }
            for event in page where event.type == "load.tick" { seen[event.id, default: 0] += 1 }
            position = last.position + 1
        }
        #expect(seen.values.allSatisfy { $0 == 1 })
        #expect(seen.count >= acknowledged.count)
        #expect(try log.verify().isClean)
        await log.close()
    }
}
