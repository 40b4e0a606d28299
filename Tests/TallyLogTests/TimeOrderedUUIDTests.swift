import Foundation
import TallyLog
import Testing

/// The default event id: RFC 9562 version 7, unique, and ordered by the time it was made.
@Suite struct TimeOrderedUUIDTests {
    @Test func versionVariantAndTimestampAreRFC9562() {
        let before = UInt64(Date().timeIntervalSince1970 * 1_000)
        let id = UUID.timeOrdered()
        let after = UInt64(Date().timeIntervalSince1970 * 1_000)
        let bytes = withUnsafeBytes(of: id.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 7, "version nibble of \(id)")
        #expect(bytes[8] >> 6 == 0b10, "variant bits of \(id)")
        let milliseconds = bytes[0..<6].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(milliseconds >= before && milliseconds <= after + 1)
    }

    @Test func idsAreUniqueAndIdsMadeInLaterMillisecondsSortLater() async throws {
        var seen = Set<UUID>()
        for _ in 0..<50_000 { seen.insert(UUID.timeOrdered()) }
        #expect(seen.count == 50_000)

        let first = UUID.timeOrdered()
        try await Task.sleep(for: .milliseconds(3))
        let second = UUID.timeOrdered()
        #expect(first.uuidString < second.uuidString, "\(first) then \(second)")
    }

    /// The random bits come from one shared pool of kernel randomness: ids made on many
    /// threads at once never share them (each word is handed out once).
    @Test func idsMadeOnManyThreadsAtOnceAreUnique() async {
        let batches = await withTaskGroup(of: [UUID].self) { group in
            for _ in 0..<8 { group.addTask { (0..<10_000).map { _ in UUID.timeOrdered() } } }
            var all: [[UUID]] = []
            for await batch in group { all.append(batch) }
            return all
        }
        let ids = batches.flatMap { $0 }
        #expect(ids.count == 80_000)
        #expect(Set(ids).count == 80_000)
        // Not even the random halves repeat (same millisecond, same fraction is common here).
        let randomHalves = Set(ids.map { id in withUnsafeBytes(of: id.uuid) { Array($0[8..<16]) } })
        #expect(randomHalves.count == 80_000)
    }
}
