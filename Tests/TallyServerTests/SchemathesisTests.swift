import Foundation
import TallyTesting
import Testing

/// schemathesis (PyPI) against a live `tally serve` with a writer key: it generates requests
/// from docs/openapi.yaml (valid and invalid ones, and sequences that follow the document's
/// links) and fails on any 5xx, any response the document does not describe (status, content
/// type, headers, body schema), any invalid request the server accepts, and any method a
/// path does not take answered with something other than 405.
///
/// Left out: `positive_data_acceptance` (a schema-valid request must succeed), because valid
/// JSON can still be refused by the domain, as documented: an unknown account (422), a
/// deployment that was never started, an empty version.
@Suite struct SchemathesisTests {
    /// Runs with random seeds found two server crashes (since fixed); this one passed.
    static let seed: String = {
        let chosen = ProcessInfo.processInfo.environment["TALLY_SCHEMATHESIS_SEED"] ?? "281380900186219668041029737795717619083"
        return chosen == "random" ? String(UInt64.random(in: 1 ... .max)) : chosen
    }()

    @Test func generatedRequestsFindNoServerErrorAndNoAnswerOutsideTheDocument() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let schemathesis = root + "/.build/schemathesis-venv/bin/schemathesis"
        try #require(FileManager.default.isExecutableFile(atPath: schemathesis), "scripts/deps.sh --test installs schemathesis at \(schemathesis)")
        try await withTemporaryDirectory(prefix: "tally-schemathesis") { dir in
            let data = dir.path + "/data"
            let key = try await ServerProcess.createKey(data: data, role: "writer", in: dir.path)
            let server = try ServerProcess.start(data: data)
            defer {
                server.process.terminate()
                server.process.waitUntilExit()
            }
            // The whole suite runs in parallel on two cores in CI and can starve the server
            // for many seconds; schemathesis' default 10 s request timeout then reports a
            // "Runtime Error". A slow answer is not what this test looks for, so requests get
            // 120 s, except the event stream, which schemathesis reads until the timeout.
            let config = dir.path + "/schemathesis.toml"
            try """
                request-timeout = 120

                [[operations]]
                include-path = "/v1/subscribe"
                request-timeout = 10
                """.write(toFile: config, atomically: true, encoding: .utf8)
            let result = try await runProcess(
                "/usr/bin/timeout",
                [
                    "600", schemathesis, "--config-file", config, "run", "http://127.0.0.1:\(server.port)/openapi.yaml", "-H", "Authorization: Bearer \(key)",
                    "--max-examples", "10", "-w", "2", "--exclude-checks", "positive_data_acceptance", "--no-color",
                    // A fixed seed keeps CI repeatable; `TALLY_SCHEMATHESIS_SEED=random` explores.
                    "--seed", Self.seed,
                ],
                // schemathesis keeps its cache in `.schemathesis/` under the working directory.
                currentDirectory: dir.path)
            // The errors and failures sections say what went wrong; the summary only counts.
            let lines = result.standardOutput.split(separator: "\n", omittingEmptySubsequences: false)
            let details = lines.drop { !$0.contains("= ERRORS =") && !$0.contains("= FAILURES =") }.prefix(80)
            let summary = (details + ["…"] + lines.suffix(40)).joined(separator: "\n")
            #expect(result.status == 0, "schemathesis found failures:\n\(summary)\n\(result.standardError.suffix(2_000))")
        }
    }
}
