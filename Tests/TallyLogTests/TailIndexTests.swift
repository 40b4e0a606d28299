import Foundation
import Testing

@testable import TallyLog

/// The in-memory tail of the index: what it holds after adds and drops equals a plain model
/// (every event after the checkpoint, grouped by stream), whatever the runs look like.
@Suite struct TailIndexTests {
    @Test func dropsInAnyChunksLeaveExactlyTheNewerEntries() {
        var random = SystemRandomNumberGenerator()
        for round in 0..<20 {
            var tail = TailIndex(checkpoint: 0)
            var model: [(position: UInt64, stream: String, version: UInt64, id: UUID)] = []
            var versions: [String: UInt64] = [:]
            var position: UInt64 = 0
            // Streams of every kind: one event each, a few hot ones interleaved in runs of
            // 1 to 5, and ids that share their first 16 bytes.
            let streams = (0..<12).map { "stream-shared-prefix-\($0)" } + ["hot", "warm"]
            for _ in 0..<400 {
                let stream = Int.random(in: 0..<4, using: &random) == 0 ? "once-\(position)" : streams.randomElement(using: &random) ?? "hot"
                var run: [TailIndex.Entry] = []
                for _ in 0..<Int.random(in: 1...5, using: &random) {
                    position += 1
                    let version = versions[stream].map { $0 + 1 } ?? 0
                    versions[stream] = version
                    let id = UUID()
                    run.append(TailIndex.Entry(position: position, stream: StreamKey(stream), version: version, key: EventKey(id)))
                    model.append((position, stream, version, id))
                }
                tail.add(run)
            }
            var checkpoint: UInt64 = 0
            while tail.count > 0 {
                let count = min(tail.count, round % 2 == 0 ? Int.random(in: 1...120, using: &random) : Int.random(in: 1...3, using: &random))
                checkpoint += UInt64(count)
                tail.dropOldest(count, newCheckpoint: checkpoint)
                let held = model.filter { $0.position > checkpoint }
                #expect(tail.count == held.count)
                var expected: [String: (first: UInt64, positions: [UInt64])] = [:]
                for entry in held {
                    if expected[entry.stream] == nil { expected[entry.stream] = (entry.version, []) }
                    expected[entry.stream]?.positions.append(entry.position)
                }
                #expect(Set(tail.streams.keys.map(\.id)) == Set(expected.keys), "round \(round) after dropping to \(checkpoint)")
                for (stream, value) in expected {
                    #expect(tail.streams[StreamKey(stream)]?.firstVersion == value.first, "\(stream)")
                    #expect(tail.streams[StreamKey(stream)]?.positions == value.positions, "\(stream)")
                    #expect(tail.streams[StreamKey(stream)]?.dropping == 0, "\(stream)")
                }
                // Dropped ids are gone, held ones found.
                for entry in model.prefix(Int(checkpoint)).suffix(count) { #expect(tail.position(of: entry.id) == nil) }
                for entry in held.prefix(5) { #expect(tail.position(of: entry.id) == entry.position) }
            }
            #expect(tail.streams.isEmpty)
        }
    }

    @Test func theSortPrefixOrdersIdsAsTheirBytes() {
        let ids = ["", "a", "a0", "ab", "abcdefgh", "abcdefghi", "abcdefghijklmnop", "abcdefghijklmnoq", "abcdefghijklmnopz", "b", "é", "~"]
        for a in ids {
            for b in ids {
                let (pa, pb) = (Committer.sortPrefix(a), Committer.sortPrefix(b))
                let byPrefix = (pa.high, pa.low) < (pb.high, pb.low)
                if byPrefix { #expect(Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)), "\(a) < \(b)") }
                if (pa.high, pa.low) == (pb.high, pb.low) { #expect(Array(a.utf8.prefix(16)) == Array(b.utf8.prefix(16))) }
            }
        }
    }
}
