import Foundation
import Testing
import TallyTesting
@testable import TallyLMDB

@Suite struct EnvironmentTests {
    private func open(_ path: String, mapSize: Int = 1 << 26, writer: WriterThread) throws -> Environment {
        try Environment.open(
            at: path, databases: ["a", "b"],
            configuration: EnvironmentConfiguration(mapSizeBytes: mapSize, databasesMax: 4, readOnly: false),
            writer: writer)
    }

    @Test func writeThenReadBack() async throws {
        try await withTemporaryDirectory { dir in
            let writer = WriterThread(name: "test-writer")
            defer { writer.stop() }
            let env = try self.open(dir.path, writer: writer)
            defer { env.close() }
            let db = env.database("a")
            try await writer.run {
                try env.write { txn in
                    for i: UInt64 in 1...100 {
                        try withUnsafeBytes(of: i.bigEndian) { key in
                            try withUnsafeBytes(of: i * 10) { try txn.put(db, key: key, value: $0, flags: .append) }
                        }
                    }
                }
            }
            let (count, last) = try env.read { txn in
                let count = try txn.count(db)
                let last = try txn.withCursor(db) { cursor in try cursor.last()?.value.loadUnaligned(as: UInt64.self) }
                return (count, last)
            }
            #expect(count == 100)
            #expect(last == 1_000)
        }
    }

    /// The writer thread's CPU time counts what runs on it and only that: a job that spins
    /// until its own thread clock advanced 50 ms adds at least that, a wait adds almost nothing.
    @Test func theWriterThreadsCPUTimeCountsItsWork() async throws {
        let writer = WriterThread(name: "test-writer")
        defer { writer.stop() }
        _ = try await writer.run { 0 }
        let before = try #require(writer.cpuSeconds)
        try await Task.sleep(for: .milliseconds(50))
        let idle = try #require(writer.cpuSeconds)
        #expect(idle - before < 0.02, "an idle writer thread used \(idle - before) s")
        _ = try await writer.run {
            func threadSeconds() -> Double {
                var spec = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
                return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
            }
            let start = threadSeconds()
            var spins: UInt64 = 0
            while threadSeconds() - start < 0.05 { spins &+= 1 }
            return spins
        }
        let busy = try #require(writer.cpuSeconds)
        #expect(busy - idle >= 0.04, "50 ms of spinning counted \(busy - idle) s")
    }

    @Test func aTransactionAfterCloseIsAnErrorNotACrash() async throws {
        try await withTemporaryDirectory { dir in
            let writer = WriterThread(name: "test-writer")
            defer { writer.stop() }
            let env = try self.open(dir.path, writer: writer)
            let db = env.database("a")
            env.close()
            do {
                _ = try env.read { txn in try txn.count(db) }
                Issue.record("a read on a closed environment began")
            } catch let error as LMDBError {
                #expect(error.function == "mdb_txn_begin" && error.message.contains("closed"), "\(error)")
            }
            await #expect(throws: LMDBError.self) { try await writer.run { try env.write { _ in } } }
        }
    }

    @Test func closingWhileOtherThreadsReadEndsTheirReadsWithAnError() async throws {
        try await withTemporaryDirectory { dir in
            let writer = WriterThread(name: "test-writer")
            defer { writer.stop() }
            for _ in 0..<20 {
                let env = try self.open(dir.path, writer: writer)
                let db = env.database("a")
                let stopped = DispatchSemaphore(value: 0)
                let readers = 4
                for _ in 0..<readers {
                    Thread {
                        // Reads until the environment closes under them: each ends with an error, none crashes.
                        while (try? env.read { txn in try txn.count(db) }) != nil {}
                        stopped.signal()
                    }.start()
                }
                usleep(2_000)
                env.close()
                for _ in 0..<readers { stopped.wait() }
            }
        }
    }

    @Test func appendOutOfOrderIsATypedError() async throws {
        try await withTemporaryDirectory { dir in
            let writer = WriterThread(name: "test-writer")
            defer { writer.stop() }
            let env = try self.open(dir.path, writer: writer)
            defer { env.close() }
            let db = env.database("a")
            let error = await #expect(throws: LMDBError.self) {
                try await writer.run {
                    try env.write { txn in
                        for i: UInt64 in [5, 3] {
                            try withUnsafeBytes(of: i.bigEndian) { key in
                                try txn.put(db, key: key, value: key, flags: .append)
                            }
                        }
                    }
                }
            }
            #expect(error?.code == .keyExists)
            #expect(error?.function == "mdb_put")
            // The failed transaction was aborted: nothing is visible.
            #expect(try env.read { try $0.count(db) } == 0)
        }
    }

    @Test func secondOpenInOneProcessIsRefused() async throws {
        try await withTemporaryDirectory { dir in
            let writer = WriterThread(name: "test-writer")
            defer { writer.stop() }
            let env = try self.open(dir.path, writer: writer)
            let error = #expect(throws: LMDBError.self) { _ = try self.open(dir.path, writer: writer) }
            #expect(error?.code == .alreadyOpen)
            env.close()
            // After close the path may be opened again.
            let again = try self.open(dir.path, writer: writer)
            again.close()
        }
    }

    @Test func fullMapIsAMapFullError() async throws {
        try await withTemporaryDirectory { dir in
            let writer = WriterThread(name: "test-writer")
            defer { writer.stop() }
            let env = try self.open(dir.path, mapSize: 1 << 20, writer: writer)
            defer { env.close() }
            let db = env.database("a")
            let value = [UInt8](repeating: 7, count: 4_000)
            var failure: LMDBError?
            for batch: UInt64 in 0..<1_000 where failure == nil {
                do {
                    try await writer.run {
                        try env.write { txn in
                            try withUnsafeBytes(of: batch.bigEndian) { key in
                                try value.withUnsafeBytes { try txn.put(db, key: key, value: $0, flags: []) }
                            }
                        }
                    }
                } catch let error as LMDBError {
                    failure = error
                }
            }
            #expect(failure?.code == .mapFull)
            // Reads keep working after the failure, and what was committed is intact.
            let count = try env.read { try $0.count(db) }
            #expect(count > 100)
        }
    }

    @Test func fileDescriptorsAreCloseOnExec() async throws {
        try await withTemporaryDirectory { dir in
            let writer = WriterThread(name: "test-writer")
            defer { writer.stop() }
            let env = try self.open(dir.path, writer: writer)
            defer { env.close() }
            var checked = 0
            for entry in try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
                    target.hasPrefix(dir.path)
                else { continue }
                let info = try String(contentsOfFile: "/proc/self/fdinfo/\(entry)", encoding: .utf8)
                let flagsLine = info.split(separator: "\n").first { $0.hasPrefix("flags:") } ?? ""
                let flags = Int(flagsLine.split(separator: "\t").last ?? "", radix: 8) ?? 0
                #expect(flags & 0o2000000 != 0, "\(target) is not O_CLOEXEC")
                checked += 1
            }
            #expect(checked >= 2)  // data.mdb and lock.mdb
        }
    }

    @Test func staleReaderCheckRuns() async throws {
        try await withTemporaryDirectory { dir in
            let writer = WriterThread(name: "test-writer")
            defer { writer.stop() }
            let env = try self.open(dir.path, writer: writer)
            defer { env.close() }
            #expect(try env.clearStaleReaders() == 0)
            #expect(try env.info().pageSizeBytes >= 4_096)
        }
    }
}

/// A reader process killed while it holds a read transaction leaves a stale slot that
/// would pin old pages forever; the writer clears it (at open and every 10 s).
@Suite struct StaleReaderTests {
    @Test func aKilledReadersSlotIsCleared() async throws {
        try await withTemporaryDirectory { dir in
            let writer = WriterThread(name: "stale-writer")
            defer { writer.stop() }
            let env = try Environment.open(
                at: dir.path, databases: ["a"],
                configuration: EnvironmentConfiguration(mapSizeBytes: 1 << 26, databasesMax: 4, readOnly: false), writer: writer)
            defer { env.close() }
            #expect(try env.clearStaleReaders() == 0)
            let child = Process()
            child.executableURL = URL(fileURLWithPath: BuiltProducts.executable("TallyCrashChild"))
            child.arguments = [dir.path, "0", "0", "hold-reader"]
            let out = Pipe()
            child.standardOutput = out
            child.standardError = FileHandle.nullDevice
            try child.run()
            var seen = Data()
            let deadline = Date().addingTimeInterval(20)
            while !String(decoding: seen, as: UTF8.self).contains("READING") && Date() < deadline && child.isRunning {
                seen.append(out.fileHandleForReading.availableData)
            }
            #expect(String(decoding: seen, as: UTF8.self).contains("READING"), "the reader never started")
            #expect(try env.clearStaleReaders() == 0, "a live reader is not stale")
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(try env.clearStaleReaders() == 1, "the killed reader's slot should be cleared")
            #expect(try env.clearStaleReaders() == 0)
        }
    }
}
