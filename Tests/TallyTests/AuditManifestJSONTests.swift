import Foundation
@testable import Tally
import Testing

/// The manifest written by hand (no encoder tree: a seal per commit made that O(commits) in
/// memory) reads back as the same manifest, and as the same JSON value `JSONEncoder` writes.
@Suite struct AuditManifestJSONTests {
    @Test func theHandWrittenManifestDecodesToTheSameValueAsTheEncodersOwn() throws {
        var full = AuditManifest(
            createdAt: "2026-12-03T12:00:00.000000001Z", format: "jsonl", file: "fy \"2026\"\\q1/é.jsonl",
            filters: ["stream": "a\"b\\c\nd", "actor": "ops/ci", "from_position": "1"], chainComplete: false, withProof: true, count: 3,
            firstPosition: 7, lastPosition: 9, firstRecordedAt: "2026-12-03T11:00:00.000000000Z", lastRecordedAt: "2026-12-03T11:00:01.000000000Z",
            previousChecksumAtStart: "00000000000000ff", checksumAtEnd: "0123456789abcdef",
            seals: (0..<50).map { AuditManifest.Seal(first: UInt64($0) * 10 + 1, last: UInt64($0) * 10 + 10, seal: String(repeating: "ab", count: 32)) },
            xxh3: "fedcba9876543210", sha256: String(repeating: "0f", count: 32))
        var empty = full
        empty.filters = [:]
        empty.seals = []
        empty.firstPosition = nil
        empty.lastPosition = nil
        empty.firstRecordedAt = nil
        empty.lastRecordedAt = nil
        empty.previousChecksumAtStart = nil
        empty.checksumAtEnd = nil
        empty.count = 0
        full.manifestVersion = 1
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        for manifest in [full, empty] {
            let bytes = Data(manifest.encodedJSON())
            #expect(try JSONDecoder().decode(AuditManifest.self, from: bytes) == manifest)
            let ours = try JSONSerialization.jsonObject(with: bytes) as? NSDictionary
            let theirs = try JSONSerialization.jsonObject(with: try encoder.encode(manifest)) as? NSDictionary
            #expect(ours != nil && ours == theirs)
        }
    }
}
