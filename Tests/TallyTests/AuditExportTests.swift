import Foundation
import Tally
import TallyChecksum
import TallyTesting
import Testing

/// Exports, then damages the file the ways an auditor must catch, and checks that verify
/// names each by line.
@Suite struct AuditExportTests {
    private func ledgerWithEvents(_ dir: TemporaryDirectory) async throws -> Ledger {
        let ledger = try await Ledger.open(at: dir.path, configuration: LogConfiguration(createIfMissing: true), expiryInterval: nil)
        _ = try await ledger.openAccount(Account(id: "treasury", agent: "ops", currency: "APX"))
        _ = try await ledger.openAccount(Account(id: "w1", agent: "a1", currency: "APX"))
        for index in 0..<30 {
            _ = try await ledger.submit(TransferRequest(id: DomainID(stringLiteral: "t\(index)"), debitAccount: "treasury", creditAccount: "w1", amount: UInt64(index + 1), currency: "APX"))
        }
        _ = try await ledger.log.append(to: "note-1", events: [ProposedEvent(type: "note.added", payload: Array(#"{"text":"=SUM(A1:A9)"}"#.utf8), metadata: EventMetadata(actor: "ops"))])
        return ledger
    }

    private func problems(_ path: String, _ edit: (inout [String]) -> Void) throws -> [AuditVerification.Problem] {
        var lines = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\n").filter { !$0.isEmpty }
        edit(&lines)
        let damaged = path + ".damaged.jsonl"
        try (lines.joined(separator: "\n") + "\n").write(toFile: damaged, atomically: true, encoding: .utf8)
        // The attacker also fixes the file hashes in the manifest: only the chain and the proof remain.
        var manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + ".manifest.json"))) as? [String: Any] ?? [:]
        let bytes = try Data(contentsOf: URL(fileURLWithPath: damaged))
        var sha256 = SHA256Stream()
        sha256.update(Array(bytes))
        manifest["xxh3"] = XXH3.hex(XXH3.hash(Array(bytes)))
        manifest["sha256"] = sha256.hex()
        try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: damaged + ".manifest.json"))
        return try Ledger.verifyAuditExport(at: damaged).problems
    }

    @Test func aCleanExportVerifiesAndEveryKindOfDamageIsNamedByLine() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await self.ledgerWithEvents(dir)
            let path = dir.path + "/export.jsonl"
            let manifest = try ledger.exportAudit(to: path, format: .jsonl, filter: AuditFilter(), withProof: true)
            #expect(manifest.count == ledger.log.headPosition && manifest.chainComplete)
            #expect(try Ledger.verifyAuditExport(at: path, against: ledger.log).isValid)

            // An edited field (amount in the payload of line 10).
            let edited = try self.problems(path) { lines in lines[9] = lines[9].replacingOccurrences(of: #""amount":"8""#, with: #""amount":"800""#) }
            #expect(edited.contains { $0.line == 10 && $0.message.contains("payload") }, "\(edited)")
            // A dropped line.
            let dropped = try self.problems(path) { lines in lines.remove(at: 5) }
            #expect(dropped.contains { $0.line == 6 }, "\(dropped)")
            // Two lines swapped.
            let swapped = try self.problems(path) { lines in lines.swapAt(3, 4) }
            #expect(swapped.contains { $0.line == 4 }, "\(swapped)")
            // A duplicated line.
            let duplicated = try self.problems(path) { lines in lines.insert(lines[7], at: 8) }
            #expect(duplicated.contains { $0.line == 9 }, "\(duplicated)")
            // An inserted line taken from another export position.
            let inserted = try self.problems(path) { lines in lines.insert(lines[20], at: 2) }
            #expect(inserted.contains { $0.line == 3 }, "\(inserted)")
            // A seal in the manifest that is not the ledger's, or one left out.
            let manifestURL = URL(fileURLWithPath: path + ".manifest.json")
            let original = try Data(contentsOf: manifestURL)
            for edit in ["forged", "dropped"] {
                var object = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
                var seals = try #require(object["seals"] as? [[String: Any]])
                if edit == "forged" { seals[seals.count / 2]["seal"] = String(repeating: "0", count: 64) } else { seals.removeLast() }
                object["seals"] = seals
                try JSONSerialization.data(withJSONObject: object).write(to: manifestURL)
                let problems = try Ledger.verifyAuditExport(at: path, against: ledger.log).problems
                #expect(problems.contains { $0.message.contains("seals differ") }, "\(edit): \(problems)")
            }
            try original.write(to: manifestURL)
            #expect(try Ledger.verifyAuditExport(at: path, against: ledger.log).isValid)
            // The file's hashes guard the whole file: a change without fixing the manifest.
            var plain = try String(contentsOfFile: path, encoding: .utf8)
            plain = plain.replacingOccurrences(of: "treasury", with: "treasurx")
            try plain.write(toFile: path, atomically: true, encoding: .utf8)
            #expect(try Ledger.verifyAuditExport(at: path).problems.contains { $0.message.contains("XXH3") })
            await ledger.close()
        }
    }

    /// scripts/verify_export.py, which shares no code with Tally, finds the same damage.
    @Test func theIndependentPythonVerifierFindsTheSameDamage() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await self.ledgerWithEvents(dir)
            let path = dir.path + "/export.jsonl"
            _ = try ledger.exportAudit(to: path, format: .jsonl, filter: AuditFilter(), withProof: true)
            await ledger.close()
            let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("scripts/verify_export.py").path
            func python(_ file: String) async throws -> ProcessOutput { try await runProcess("/usr/bin/env", ["python3", script, file]) }
            let clean = try await python(path)
            #expect(clean.status == 0, "\(clean.standardOutput)\(clean.standardError)")
            /// Damages a copy (manifest hashes forged) and returns the problem lines.
            func damaged(_ edit: (inout [String]) -> Void) async throws -> String {
                _ = try self.problems(path, edit)
                let run = try await python(path + ".damaged.jsonl")
                #expect(run.status == 1, "\(run.standardOutput)")
                return run.standardOutput
            }
            #expect(try await damaged { $0[9] = $0[9].replacingOccurrences(of: #""amount":"8""#, with: #""amount":"800""#) }.contains("line 10: field payload"))
            #expect(try await damaged { $0.remove(at: 5) }.contains("line 6:"))
            #expect(try await damaged { $0.swapAt(3, 4) }.contains("line 4:"))
            #expect(try await damaged { $0.insert($0[7], at: 8) }.contains("line 9:"))
            #expect(try await damaged { $0.insert($0[20], at: 2) }.contains("line 3:"))
            // An edited manifest: a seal that is not the records'.
            var manifest = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path + ".manifest.json"))) as? [String: Any])
            var seals = try #require(manifest["seals"] as? [[String: Any]])
            seals[0]["seal"] = String(repeating: "0", count: 64)
            manifest["seals"] = seals
            try JSONSerialization.data(withJSONObject: manifest).write(to: URL(fileURLWithPath: path + ".manifest.json"))
            let forgedSeal = try await python(path)
            #expect(forgedSeal.status == 1 && forgedSeal.standardOutput.contains("seal of positions"), "\(forgedSeal.standardOutput)")
        }
    }

    /// Python's csv module (a standard RFC 4180 reader) reads the CSV export as the same
    /// events, with the same payloads and amounts, as the JSONL export.
    @Test func aStandardCSVReaderGetsTheSameEventsAsTheJSONL() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await self.ledgerWithEvents(dir)
            _ = try ledger.exportAudit(to: dir.path + "/all.csv", format: .csv, filter: AuditFilter())
            _ = try ledger.exportAudit(to: dir.path + "/all.jsonl", format: .jsonl, filter: AuditFilter())
            let count = ledger.log.headPosition
            await ledger.close()
            let script = """
                import csv, json, sys
                with open(sys.argv[1], newline="") as f:
                    rows = list(csv.DictReader(f))
                lines = [json.loads(l) for l in open(sys.argv[2])]
                assert len(rows) == len(lines), (len(rows), len(lines))
                for row, line in zip(rows, lines):
                    for key in ("position", "stream", "type", "recorded_at"):
                        assert str(line[key]) == row[key], (key, row[key], line[key])
                    assert json.loads(row["payload"]) == line["payload"], (row["payload"], line["payload"])
                    assert row["actor"] == line["metadata"].get("actor", ""), row
                    if isinstance(line["payload"], dict) and "amount" in line["payload"]:
                        assert row["amount"] == line["payload"]["amount"], row
                print(len(rows))
                """
            let run = try await runProcess("/usr/bin/env", ["python3", "-c", script, dir.path + "/all.csv", dir.path + "/all.jsonl"])
            #expect(run.status == 0, "\(run.standardError)")
            #expect(run.standardOutput.trimmingCharacters(in: .whitespacesAndNewlines) == "\(count)")
        }
    }

    @Test func csvHasAHeaderFlattenedColumnsAndNeutralisedFormulas() async throws {
        try await withTemporaryDirectory { dir in
            let ledger = try await self.ledgerWithEvents(dir)
            let path = dir.path + "/export.csv"
            var filter = AuditFilter()
            filter.types = ["transfer.posted", "note.added"]
            let manifest = try ledger.exportAudit(to: path, format: .csv, filter: filter)
            #expect(manifest.count == 31 && !manifest.chainComplete)
            let rows = try String(contentsOfFile: path, encoding: .utf8).components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows[0].hasPrefix("position,recorded_at,stream,type,actor,amount,currency,debit_account,credit_account"))
            #expect(rows[1].contains(",transfer.posted,,1,APX,treasury,w1,"))
            // The note's payload cell starts with {, so it is safe; a formula-looking cell gets a quote.
            #expect(Ledger.csvCell("=SUM(A1)") == "'=SUM(A1)")
            #expect(Ledger.csvCell("-5") == "'-5")
            #expect(Ledger.csvCell("a,b") == "\"a,b\"")
            #expect(try Ledger.verifyAuditExport(at: path).isValid)
            await ledger.close()
        }
    }
}
