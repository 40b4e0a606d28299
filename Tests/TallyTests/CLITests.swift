import Foundation
import TallyTesting
import Testing

/// The `tally` executable as a user runs it: exit codes, stable error codes, JSON keys.
@Suite struct CLITests {
    let tally = BuiltProducts.executable("tally")

    @Test func appendReadStatsRoundTrip() async throws {
        try await withTemporaryDirectory(prefix: "tally-cli") { dir in
            #expect(try await runProcess(self.tally, ["init", "--data", dir.path]).status == 0)
            let appended = try await runProcess(self.tally, [
                "append", "--data", dir.path, "--stream", "agent-1", "--type", "agent.registered",
                "--payload", "{\"currency\":\"APX\"}", "--expected-version", "no-stream", "--actor", "ops", "--json",
            ])
            #expect(appended.status == 0, "\(appended.standardError)")
            #expect(appended.standardOutput.contains("\"positions\":[1]"))
            let file = dir.path + "/events.jsonl"
            try """
                {"stream":"agent-1","type":"agent.renamed","payload":{"amount":"5"},"expected_version":0}
                {"stream":"probe-api","type":"probe.answered","payload":{"status":"healthy"},"metadata":{"actor":"prober"}}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(try await runProcess(self.tally, ["append", "--data", dir.path, "--file", file]).standardOutput == "2\n3\n")
            let read = try await runProcess(self.tally, ["read", "--data", dir.path, "--stream", "agent-1", "--json"])
            let lines = read.standardOutput.split(separator: "\n")
            #expect(lines.count == 2)
            let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
            #expect(first["type"] as? String == "agent.registered")
            #expect((first["metadata"] as? [String: String])?["actor"] == "ops")
            let stats = try await runProcess(self.tally, ["stats", "--data", dir.path, "--json"])
            let object = try #require(try JSONSerialization.jsonObject(with: Data(stats.standardOutput.utf8)) as? [String: Any])
            for key in ["head_position", "events", "streams", "bytes", "chain_head"] {
                #expect(object[key] != nil, "stats --json lacks \(key)")
            }
            #expect(object["head_position"] as? Int == 3)
            #expect(object["streams"] as? Int == 2)
        }
    }

    @Test func appendFileStoresPayloadsAsWrittenAndRefusesUnknownKeys() async throws {
        try await withTemporaryDirectory(prefix: "tally-cli-file") { dir in
            #expect(try await runProcess(self.tally, ["init", "--data", dir.path]).status == 0)
            let file = dir.path + "/events.jsonl"
            // A misspelt key is refused by name, and nothing of the file is appended.
            try """
                {"stream":"s","type":"a.b","payload":{"b": 1, "a": [1, 2]}}
                {"stream":"s","type":"a.b","payload":{},"expected_verison":3}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            let misspelt = try await runProcess(self.tally, ["append", "--data", dir.path, "--file", file])
            #expect(misspelt.status == 2)
            #expect(misspelt.standardError.contains("invalid_json"), "\(misspelt.standardError)")
            #expect(misspelt.standardError.contains("line 2"), "\(misspelt.standardError)")
            #expect(misspelt.standardError.contains("expected_verison"), "\(misspelt.standardError)")
            try """
                {"stream":"s","type":"a.b","payload":{"b":1},"metadata":{"n":7}}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            let number = try await runProcess(self.tally, ["append", "--data", dir.path, "--file", file])
            #expect(number.status == 2)
            #expect(number.standardError.contains("$.metadata.n"), "\(number.standardError)")
            #expect(try await runProcess(self.tally, ["stats", "--data", dir.path, "--json"]).standardOutput.contains("\"head_position\":0"))
            // The payload is stored byte for byte as the line writes it (key order, spaces), as
            // the HTTP API stores it (metadata is stored in key order, as always).
            try #"""
                {"stream":"s","type":"a.b","payload":{"b": 1, "a": [1, 2], "s": "caf\u00e9 \"q\""},"metadata":{"z":"1","actor":"me","a":"2"}}
                """#.write(toFile: file, atomically: true, encoding: .utf8)
            let appended = try await runProcess(self.tally, ["append", "--data", dir.path, "--file", file])
            #expect(appended.status == 0, "\(appended.standardError)")
            let export = dir.path + "/e.jsonl"
            #expect(try await runProcess(self.tally, ["audit", "export", "--data", dir.path, "--format", "jsonl", "--output", export]).status == 0)
            let line = try String(contentsOfFile: export, encoding: .utf8)
            #expect(line.contains(#""payload":{"b": 1, "a": [1, 2], "s": "caf\u00e9 \"q\""}"#), "\(line)")
            #expect(line.contains(#""metadata":{"a":"2","actor":"me","z":"1"}"#), "\(line)")
        }
    }

    @Test func rejectionsExitOneWithTheirCodeAndChangeNothing() async throws {
        try await withTemporaryDirectory(prefix: "tally-cli") { dir in
            _ = try await runProcess(self.tally, ["init", "--data", dir.path])
            let bad = try await runProcess(self.tally, ["append", "--data", dir.path, "--stream", "s", "--type", "Bad Type", "--payload", "{}"])
            #expect(bad.status == 1)
            #expect(bad.standardError.contains("invalid_event_type"))
            let json = try await runProcess(self.tally, ["append", "--data", dir.path, "--stream", "s", "--type", "a.b", "--payload", "{not json"])
            #expect(json.status == 2)
            #expect(json.standardError.contains("invalid_json"))
            let version = try await runProcess(self.tally, ["append", "--data", dir.path, "--stream", "s", "--type", "a.b", "--payload", "{}", "--expected-version", "3"])
            #expect(version.status == 1)
            #expect(version.standardError.contains("wrong_expected_version"))
            let missing = try await runProcess(self.tally, ["read", "--data", dir.path + "/nope"])
            #expect(missing.status == 2)
            #expect(missing.standardError.contains("not_initialized"))
            // A wrong --data is named before the file is read (here it does not even exist).
            let unopened = try await runProcess(self.tally, ["append", "--data", dir.path + "/nope", "--file", dir.path + "/absent.jsonl"])
            #expect(unopened.standardError.contains("not_initialized"))
            // Every line is checked before the first append: a bad fourth line (blank lines
            // count, CRLF and indentation are fine) writes nothing, even in appends of one line each.
            let file = URL(fileURLWithPath: dir.path + "/events.jsonl")
            let good = "{\"stream\":\"s\",\"type\":\"a.b\",\"payload\":{}}\r\n \t\r\n\t{\"stream\":\"s\",\"type\":\"a.b\",\"payload\":{}} \r\n"
            try Data((good + "{\"stream\":\"s\",\"type\":\"a.b\"}\n").utf8).write(to: file)
            let partial = try await runProcess(self.tally, ["append", "--data", dir.path, "--file", file.path, "--chunk", "1"])
            #expect(partial.standardError.contains("line 4"), "\(partial.standardError)")
            let stats = try await runProcess(self.tally, ["stats", "--data", dir.path, "--json"])
            #expect(stats.standardOutput.contains("\"head_position\":0"))
            // The good lines alone append, one event each.
            try Data(good.utf8).write(to: file)
            let appended = try await runProcess(self.tally, ["append", "--data", dir.path, "--file", file.path])
            #expect(appended.status == 0, "\(appended.standardError)")
            #expect(appended.standardOutput.split(separator: "\n") == ["1", "2"])
        }
    }

    @Test func paymentsCommandsPrintCodesAndExitOneOnRejection() async throws {
        try await withTemporaryDirectory(prefix: "tally-cli-pay") { dir in
            let data = ["--data", dir.path]
            #expect(try await runProcess(self.tally, ["init"] + data).status == 0)
            for arguments in [
                ["accounts", "open", "--id", "treasury", "--agent", "ops", "--currency", "APX"],
                ["accounts", "open", "--id", "w1", "--agent", "a1", "--currency", "APX", "--flag", "debits_must_not_exceed_credits"],
                ["transfer", "--id", "p1", "--from", "treasury", "--to", "w1", "--amount", "100", "--currency", "APX"],
                ["transfer", "--id", "p1", "--from", "treasury", "--to", "w1", "--amount", "100", "--currency", "APX"],
            ] {
                let result = try await runProcess(self.tally, arguments + data)
                #expect(result.status == 0, "\(arguments): \(result.standardOutput)\(result.standardError)")
            }
            let over = try await runProcess(self.tally, ["transfer", "--id", "p2", "--from", "w1", "--to", "treasury", "--amount", "101", "--currency", "APX"] + data)
            #expect(over.status == 1)
            #expect(over.standardOutput.hasPrefix("exceeds_credits"))
            let currency = try await runProcess(self.tally, ["transfer", "--id", "p3", "--from", "w1", "--to", "treasury", "--amount", "1", "--currency", "apx", "--json"] + data)
            #expect(currency.status == 1)
            #expect(currency.standardOutput.contains("\"invalid_currency\""))
            let reserved = try await runProcess(self.tally, ["append", "--stream", "transfer-x", "--type", "transfer.posted", "--payload", "{}"] + data)
            #expect(reserved.status == 1)
            #expect(reserved.standardError.contains("reserved_stream"))
            let show = try await runProcess(self.tally, ["accounts", "show", "--id", "w1", "--json"] + data)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(show.standardOutput.utf8)) as? [String: Any])
            #expect(object["credits_posted"] as? String == "100")
            #expect(object["available"] as? String == "100")
            #expect(try await runProcess(self.tally, ["verify"] + data).status == 0)

            // A file of transfers: linked, one bad line fails them all; unlinked, only it fails.
            let file = dir.path + "/transfers.jsonl"
            try """
                {"id":"f1","from":"treasury","to":"w1","amount":"10","currency":"APX"}
                {"id":"f2","from":"w1","to":"treasury","amount":"999999","currency":"APX"}

                {"id":"f3","from":"treasury","to":"w1","amount":5,"currency":"APX","memo":"bonus"}
                """.write(toFile: file, atomically: true, encoding: .utf8)
            let linked = try await runProcess(self.tally, ["transfer", "--file", file, "--linked", "--json"] + data)
            #expect(linked.status == 1)
            let linkedCodes = linked.standardOutput.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["code"] as? String
            }
            #expect(linkedCodes == ["linked_event_failed", "exceeds_credits", "linked_event_failed"])
            let unlinked = try await runProcess(self.tally, ["transfer", "--file", file, "--json"] + data)
            #expect(unlinked.status == 1)
            #expect(unlinked.standardOutput.components(separatedBy: "\"ok\"").count - 1 == 2)
        }
    }

    @Test func deployAndHealthCommandsPrintCodesAndExitOneOnRejection() async throws {
        try await withTemporaryDirectory(prefix: "tally-cli-ops") { dir in
            let data = ["--data", dir.path]
            #expect(try await runProcess(self.tally, ["init"] + data).status == 0)
            let start = ["deploy", "start", "--id", "api-v1", "--service", "api", "--version", "1", "--environment", "prod", "--actor", "a7"]
            #expect(try await runProcess(self.tally, start + data).status == 0)
            let again = try await runProcess(self.tally, start + data)
            #expect(again.status == 0 && again.standardOutput.hasPrefix("deployment_exists"))
            #expect(try await runProcess(self.tally, ["deploy", "fail", "--id", "api-v1", "--reason", "boom"] + data).status == 0)
            let late = try await runProcess(self.tally, ["deploy", "succeed", "--id", "api-v1", "--json"] + data)
            #expect(late.status == 1 && late.standardOutput.contains("\"invalid_transition\""))
            let missing = try await runProcess(self.tally, ["deploy", "succeed", "--id", "nope"] + data)
            #expect(missing.status == 1 && missing.standardOutput.hasPrefix("deployment_not_found"))
            let status = try await runProcess(self.tally, ["health", "report", "--component", "api", "--status", "sick", "--latency-ms", "3"] + data)
            #expect(status.status == 1 && status.standardError.contains("invalid_status"))
            #expect(try await runProcess(self.tally, ["health", "report", "--component", "api", "--status", "degraded", "--latency-ms", "840"] + data).status == 0)
            let health = try await runProcess(self.tally, ["health", "--json"] + data)
            #expect(health.standardOutput.contains("\"degraded\""))
            let list = try await runProcess(self.tally, ["deploy", "list", "--json"] + data)
            #expect(list.standardOutput.contains("\"failed\""))
        }
    }

    @Test func balanceStatementAndProjectionsReadTheBalancesProjection() async throws {
        try await withTemporaryDirectory(prefix: "tally-cli-views") { dir in
            let data = ["--data", dir.path]
            #expect(try await runProcess(self.tally, ["demo"] + data).status == 0)
            let show = try await runProcess(self.tally, ["accounts", "show", "--id", "wallet-agent-003", "--json"] + data)
            let account = try #require(try JSONSerialization.jsonObject(with: Data(show.standardOutput.utf8)) as? [String: Any])
            let now = try await runProcess(self.tally, ["balance", "--account", "wallet-agent-003", "--json"] + data)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(now.standardOutput.utf8)) as? [String: Any])
            #expect(object["balance"] as? String == account["balance"] as? String, "the projection agrees with the write model")
            let before = try await runProcess(self.tally, ["balance", "--account", "wallet-agent-003", "--at", "1", "--json"] + data)
            #expect(before.standardOutput.contains("\"balance\":\"0\""))
            let statement = try await runProcess(self.tally, ["statement", "--account", "treasury", "--limit", "1000", "--json"] + data)
            #expect(statement.standardOutput.split(separator: "\n").count == 3 * 200, "three payroll runs of 200")
            let projections = try await runProcess(self.tally, ["projections", "--json"] + data)
            #expect(projections.standardOutput.contains("\"lag_events\":0"))
            #expect(try await runProcess(self.tally, ["balance", "--account", "nope"] + data).status == 1)
            // A rebuild from position 1 gives the same balance.
            #expect(try await runProcess(self.tally, ["replay", "--projection", "balances"] + data).status == 0)
            let rebuilt = try await runProcess(self.tally, ["balance", "--account", "wallet-agent-003", "--json"] + data)
            #expect(rebuilt.standardOutput == now.standardOutput)
            #expect(try await runProcess(self.tally, ["replay", "--projection", "nope"] + data).status == 2)
        }
    }

    /// `tally metrics` is valid Prometheus text exposition (parsed by the Prometheus
    /// project's Python parser, installed by scripts/deps.sh --test) and counts what is there.
    @Test func metricsAreValidPrometheusTextAndAddUp() async throws {
        try await withTemporaryDirectory(prefix: "tally-cli-metrics") { dir in
            let data = ["--data", dir.path]
            #expect(try await runProcess(self.tally, ["demo"] + data).status == 0)
            let metrics = try await runProcess(self.tally, ["metrics"] + data)
            #expect(metrics.status == 0, "\(metrics.standardError)")
            let file = dir.path + "/metrics.txt"
            try metrics.standardOutput.write(toFile: file, atomically: true, encoding: .utf8)
            let script = """
                import sys
                from prometheus_client.parser import text_string_to_metric_families
                families = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
                events = sum(s.value for s in families["tally_events"].samples if s.name == "tally_events_total")
                head = families["tally_log_head_position"].samples[0].value
                assert events == head, (events, head)
                assert families["tally_deployment_duration_seconds"].type == "histogram"
                assert any(s.labels.get("outcome") == "rolled_back" for s in families["tally_deployments"].samples)
                print("ok", len(families))
                """
            let check = try await runProcess("/usr/bin/env", ["python3", "-c", script, file])
            #expect(check.status == 0, "\(check.standardError)")
            #expect(check.standardOutput.hasPrefix("ok"))
        }
    }

    /// `tally bench batch transfers`: each compared rate covers its own events' indexing
    /// (and no other workload's), with the writer thread's figures beside it.
    @Test func benchBatchAndTransfersReportTheirIndexingAndWriter() async throws {
        try await withTemporaryDirectory(prefix: "tally-cli-bench") { dir in
            let run = try await runProcess(
                self.tally, ["bench", "batch", "transfers", "--events", "3000", "--batch", "1000", "--directory", dir.path, "--json"])
            #expect(run.status == 0, "\(run.standardError)")
            let lines = try run.standardOutput.split(separator: "\n").map { line in
                try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            }
            let batch = try #require(lines.first { $0["workload"] as? String == "batch" })
            let transfers = try #require(lines.first { $0["workload"] as? String == "transfers" })
            #expect(batch["events"] as? Int == 3_000)
            #expect(transfers["transfers"] as? Int == 3_000)
            #expect(transfers["rejected"] as? Int == 0)
            for line in [batch, transfers] {
                let seconds = try #require(line["seconds"] as? Double)
                let index = try #require(line["index_seconds"] as? Double, "\(line) lacks index_seconds")
                #expect(index > 0 && index < seconds, "indexing (\(index) s) is timed inside the run (\(seconds) s)")
                #expect((line["writer_cpu_us_per_event"] as? Double ?? 0) > 0)
            }
        }
    }
}
