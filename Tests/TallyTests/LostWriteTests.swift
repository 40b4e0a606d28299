import Foundation
import Tally
import TallyTesting
import Testing

/// Lost writes, simulated on copies of closed data files: a page of the log overwritten with
/// an older version of itself (the disk acknowledged a write it never made), and the newest
/// LMDB meta page reverted the same way, which makes LMDB open the log at the transaction
/// before: its last commit is gone whole, and only the views, which never lead the log, can
/// tell. `tally verify` (a real process) must report both.
@Suite struct LostWriteTests {
    static let pageSize = 4_096

    /// Appends `batches` commits of 100 events, each payload carrying a unique marker.
    static func appendMarked(_ ledger: Ledger, batches: Range<Int>) async throws {
        for batch in batches {
            let events = (0..<100).map { index in
                ProposedEvent(
                    type: "test.marked",
                    payload: Array(String(format: "{\"marker\":\"M%06d\",\"pad\":\"%@\"}", batch * 100 + index, String(repeating: "p", count: 90)).utf8))
            }
            _ = try await ledger.log.append(to: "lost-\(batch % 7)", events: events)
        }
    }

    /// The markers in `data` and how often each occurs (a freed page keeps stale copies).
    static func markerCounts(_ data: Data) -> [Data: Int] {
        let needle = Data("marker\":\"M".utf8)
        var counts: [Data: Int] = [:]
        var searchFrom = data.startIndex
        while let found = data.range(of: needle, in: searchFrom..<data.endIndex) {
            let marker = data[found.upperBound..<min(data.endIndex, found.upperBound + 6)]
            counts[Data(marker), default: 0] += 1
            searchFrom = found.upperBound
        }
        return counts
    }

    @Test func aLogPageRevertedToAnOlderVersionOfItselfIsReported() async throws {
        try await withTemporaryDirectory(prefix: "tally-stale") { dir in
            let pristine = dir.path + "/pristine"
            var ledger = try await Ledger.open(at: pristine, configuration: LogConfiguration(createIfMissing: true))
            try await Self.appendMarked(ledger, batches: 0..<20)
            await ledger.close()
            let old = try Data(contentsOf: URL(fileURLWithPath: pristine + "/log/data.mdb"))
            ledger = try await Ledger.open(at: pristine)
            try await Self.appendMarked(ledger, batches: 20..<40)
            await ledger.close()
            let new = try Data(contentsOf: URL(fileURLWithPath: pristine + "/log/data.mdb"))

            // A live record page (one holding the only copy of some record) whose page number
            // held something else when `old` was taken: LMDB reused the freed page.
            let counts = Self.markerCounts(new)
            let zero = Data(count: Self.pageSize)
            var candidates: [Int] = []
            for page in 2..<(min(old.count, new.count) / Self.pageSize) {
                let range = page * Self.pageSize..<(page + 1) * Self.pageSize
                let before = old[range]
                let after = new[range]
                guard before != after, before != zero[...] else { continue }
                let markers = Self.markerCounts(Data(after))
                if markers.keys.contains(where: { counts[$0] == 1 }) { candidates.append(page) }
            }
            try #require(!candidates.isEmpty, "no live page was reused between the two copies")
            for page in candidates.shuffled().prefix(3) {
                var damaged = new
                let range = page * Self.pageSize..<(page + 1) * Self.pageSize
                damaged.replaceSubrange(range, with: old[range])
                let copy = dir.path + "/damaged-\(page)"
                try FileManager.default.createDirectory(atPath: copy + "/log", withIntermediateDirectories: true)
                try damaged.write(to: URL(fileURLWithPath: copy + "/log/data.mdb"))
                let result = try await runProcess(BuiltProducts.executable("tally"), ["verify", "--data", copy, "--json"])
                let said = result.standardOutput + result.standardError
                #expect(result.status != 0, "page \(page): verify exited 0 on a stale page: \(said)")
                let report = (try? JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))) as? [String: Any]
                #expect(report?["clean"] as? Bool != true, "page \(page): reported clean")
                #expect(
                    said.contains("position") || said.contains("crashed") || said.contains("MDB_") || said.contains("storage_error"),
                    "page \(page): verify did not name the damage: \(said)")
            }
        }
    }

    @Test func aRevertedMetaPageLosesTheLastCommitAndVerifyReportsIt() async throws {
        try await withTemporaryDirectory(prefix: "tally-meta") { dir in
            let pristine = dir.path + "/pristine"
            var ledger = try await Ledger.open(at: pristine, configuration: LogConfiguration(createIfMissing: true))
            try await Self.appendMarked(ledger, batches: 0..<5)
            await ledger.close()
            let old = try Data(contentsOf: URL(fileURLWithPath: pristine + "/log/data.mdb"))
            ledger = try await Ledger.open(at: pristine)
            try await Self.appendMarked(ledger, batches: 5..<6)
            let head = ledger.log.headPosition
            let (views, _) = try await ledger.catchUpProjections()
            views.close()
            await ledger.close()
            let new = try Data(contentsOf: URL(fileURLWithPath: pristine + "/log/data.mdb"))

            // LMDB's two meta pages; the one with the higher transaction id is current. Put
            // back its older version (the lost write of the last commit's meta page).
            func transaction(_ data: Data, page: Int) -> UInt64 {
                data[(page * Self.pageSize + 144)..<(page * Self.pageSize + 152)].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
            }
            let current = transaction(new, page: 0) > transaction(new, page: 1) ? 0 : 1
            #expect(transaction(old, page: current) < transaction(new, page: current))
            var damaged = new
            let range = current * Self.pageSize..<(current + 1) * Self.pageSize
            damaged.replaceSubrange(range, with: old[range])
            let copy = dir.path + "/damaged"
            try FileManager.default.createDirectory(atPath: copy + "/log", withIntermediateDirectories: true)
            try damaged.write(to: URL(fileURLWithPath: copy + "/log/data.mdb"))

            // The log alone is a consistent older log: the last commit is gone without a trace.
            let alone = try await runProcess(BuiltProducts.executable("tally"), ["verify", "--data", copy, "--json"])
            let aloneReport = try #require(try JSONSerialization.jsonObject(with: Data(alone.standardOutput.utf8)) as? [String: Any])
            let lostHead = try #require(aloneReport["head_position"] as? Int, "\(alone.standardOutput)")
            #expect(UInt64(lostHead) < head, "the reverted meta page should have lost the last commit")
            #expect(alone.status == 0, "without views there is nothing to compare with: \(alone.standardOutput)")

            // With the views beside it, verify names the loss.
            try FileManager.default.copyItem(atPath: pristine + "/views", toPath: copy + "/views")
            let result = try await runProcess(BuiltProducts.executable("tally"), ["verify", "--data", copy, "--json"])
            #expect(result.status == 1, "\(result.standardOutput) \(result.standardError)")
            let report = try #require(try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any])
            #expect(report["clean"] as? Bool == false)
            let reason = report["reason"] as? String ?? ""
            #expect(reason.contains("ends at \(lostHead)") && reason.contains("lost commits"), "\(reason)")
            #expect(report["first_bad_position"] as? Int == lostHead + 1)

            // And a server (its projection workers) refuses to start on it.
            let reopened = try await Ledger.open(at: copy)
            await #expect(throws: LogError.self) { _ = try await reopened.catchUpProjections() }
            await reopened.close()
        }
    }
}
