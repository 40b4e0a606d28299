import Foundation
@_spi(Fuzzing) import Tally
import TallyTesting
import Testing

/// The fuzz corpora in fixtures/fuzz: every seed and every saved crash replayed through its
/// target by the real `tally-fuzz` binary (a crash found by `scripts/fuzz.sh` is copied
/// there and stays a regression test), and the seeds themselves valid, so the fuzzer starts
/// from inputs that reach the deep checks rather than the first refusal.
@Suite struct FuzzCorpusTests {
    static let targets = ["record", "payload", "segment", "manifest", "export", "request"]

    static var corpora: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("fixtures/fuzz")
    }

    /// The files of a corpus: seeds, and `crash-*` inputs the fuzzer found (not valid).
    static func files(_ target: String) throws -> [URL] {
        let directory = Self.corpora.appendingPathComponent(target)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { directory.appendingPathComponent($0) }
    }

    @Test(arguments: targets)
    func everyInputOfTheCorpusReplaysWithoutACrash(_ target: String) async throws {
        let count = try Self.files(target).count
        #expect(count > 0, "fixtures/fuzz/\(target) is empty; run scripts/fuzz-seeds.sh")
        let result = try await runProcess(
            BuiltProducts.executable("tally-fuzz"), [target, Self.corpora.appendingPathComponent(target).path])
        #expect(!result.wasSignalled && result.status == 0, "tally-fuzz \(target) crashed: \(result.standardError)")
        #expect(result.standardOutput.contains("\(target): \(count) inputs, no crash"), "\(result.standardOutput)")
    }

    @Test func theSeedRecordsDecodeAsTheirTypeWithAValidChecksum() throws {
        for file in try Self.files("record") {
            let event = try EventLog.decodeRecord(Array(try Data(contentsOf: file)))
            #expect(event.type + ".bin" == file.lastPathComponent)
        }
    }

    @Test func theSeedPayloadsDecodeAsTheTypeTheirFirstByteNames() throws {
        let payments = PaymentEvent.types.sorted()
        let operations = [
            "deployment.started", "deployment.succeeded", "deployment.failed", "deployment.rolled_back", "service.scaled",
            "config.changed", "migration.applied", "health.checked",
        ]
        let types = payments + operations
        for file in try Self.files("payload") {
            let bytes = Array(try Data(contentsOf: file))
            let type = types[Int(try #require(bytes.first))]
            #expect(type + ".bin" == file.lastPathComponent)
            if PaymentEvent.types.contains(type) {
                #expect(try PaymentEvent(type: type, payload: Array(bytes.dropFirst())).type == type)
            } else {
                #expect(try OperationsEvent(type: type, payload: Array(bytes.dropFirst())).type == type)
            }
        }
    }

    @Test func theSeedSegmentAndManifestsAreValid() throws {
        for file in try Self.files("segment") where !file.lastPathComponent.hasPrefix("crash-") {
            #expect(try RecoveryFuzzing.readSegment(atPath: file.path) > 0)
        }
        for file in try Self.files("manifest") where file.lastPathComponent.hasPrefix("backup-") {
            let manifest = try BackupManifest.decode(try Data(contentsOf: file), path: file.path)
            #expect(manifest.head != nil)
        }
    }

    @Test func theSeedExportsVerifyAgainstTheirManifests() async throws {
        try await withTemporaryDirectory(prefix: "tally-fuzz-seeds") { dir in
            for file in try Self.files("export") {
                let bytes = Array(try Data(contentsOf: file))
                let split = try #require(bytes.firstIndex(of: 0))
                let path = dir.path + "/" + file.deletingPathExtension().lastPathComponent
                try Data(bytes[..<split]).write(to: URL(fileURLWithPath: path + ".manifest.json"))
                try Data(bytes[(split + 1)...]).write(to: URL(fileURLWithPath: path))
                let verification = try Ledger.verifyAuditExport(at: path)
                #expect(verification.isValid, "\(file.lastPathComponent): \(verification.problems)")
                #expect(verification.linesChecked > 0)
            }
        }
    }
}

/// Inputs the fuzzer found that crashed a reader, each refused cleanly now.
@Suite struct FuzzRegressionTests {
    @Test func aSegmentWithAShortSealFrameIsRefusedNamingTheFrame() throws {
        let file = FuzzCorpusTests.corpora.appendingPathComponent("segment/crash-short-seal-frame.segment")
        do {
            _ = try RecoveryFuzzing.readSegment(atPath: file.path)
            Issue.record("a segment with a 47-byte seal frame was accepted")
        } catch let error as RecoveryError {
            #expect(error.code == .corruption)
            #expect(error.message.contains("seal frame at byte") && error.message.contains("has 47 bytes, not 48"), "\(error)")
        }
    }
}
