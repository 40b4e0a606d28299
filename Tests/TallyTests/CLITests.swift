import Foundation
import TallyTesting
import Testing

/// The `tally` executable as a user runs it: exit codes, stable error codes, JSON keys.
@Suite struct CLITests {
    let tally = BuiltProducts.executable("tally")

    @Test func appendReadStatsRoundTrip() async throws {
        try await withTemporaryDirectory(prefix: "tally-cli") { dir in
            #expect(try runProcess(self.tally, ["init", "--data", dir.path]).status == 0)
            let appended = try runProcess(self.tally, [
                "append", "--data", dir.path, "--stream", "account-1", "--type", "account.opened",
                "--payload", "{\"currency\":\"APX\"}", "--expected-version", "no-stream", "--actor", "ops", "--json",
            ])
            #expect(appended.status == 0, "\(appended.standardError)")
            #expect(appended.standardOutput.contains("\"positions\":[1]"))
            let file = dir.path + "/events.jsonl"
            try """
                {"stream":"account-1","type":"account.credited","payload":{"amount":"5"},"expected_version":0}
                {"stream":"health-api","type":"health.checked","payload":{"status":"healthy"},"metadata":{"actor":"prober"}}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try runProcess(self.tally, ["append", "--data", dir.path, "--file", file]).standardOutput == "2\n3\n")
            let read = try runProcess(self.tally, ["read", "--data", dir.path, "--stream", "account-1", "--json"])
            let lines = read.standardOutput.split(separator: "\n")
            #expect(lines.count == 2)
            let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
            #expect(first["type"] as? String == "account.opened")
            #expect((first["metadata"] as? [String: String])?["actor"] == "ops")
            let stats = try runProcess(self.tally, ["stats", "--data", dir.path, "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.standardOutput.utf8)) as? [String: Any])
            for key in ["head_position", "events", "streams", "bytes", "chain_head"] {
                #expect(object[key] != nil, "stats --json lacks \(key)")
            }
            #expect(object["head_position"] as? Int == 3)
            #expect(object["streams"] as? Int == 2)
        }
    }

    @Test func rejectionsExitOneWithTheirCodeAndChangeNothing() async throws {
        try await withTemporaryDirectory(prefix: "tally-cli") { dir in
            _ = try runProcess(self.tally, ["init", "--data", dir.path])
            let bad = try runProcess(self.tally, ["append", "--data", dir.path, "--stream", "s", "--type", "Bad Type", "--payload", "{}"])
            #expect(bad.status == 1)
            #expect(bad.standardError.contains("invalid_event_type"))
            let json = try runProcess(self.tally, ["append", "--data", dir.path, "--stream", "s", "--type", "a.b", "--payload", "{not json"])
            #expect(json.status == 2)
            #expect(json.standardError.contains("invalid_json"))
            let version = try runProcess(self.tally, ["append", "--data", dir.path, "--stream", "s", "--type", "a.b", "--payload", "{}", "--expected-version", "3"])
            #expect(version.status == 1)
            #expect(version.standardError.contains("wrong_expected_version"))
            let missing = try runProcess(self.tally, ["read", "--data", dir.path + "/nope"])
            #expect(missing.status == 2)
            #expect(missing.standardError.contains("not_initialized"))
            let stats = try runProcess(self.tally, ["stats", "--data", dir.path, "--json"])
            #expect(stats.standardOutput.contains("\"head_position\":0"))
        }
    }
}
