import Foundation
import Testing
@testable import TallyLog

@Suite struct EventIDTableTests {
    @Test func eventKeyRoundTripsAndOrdersLikeTheUUIDBytes() {
        for _ in 0..<1_000 {
            let a = UUID()
            let b = UUID()
            #expect(EventKey(a).uuid == a)
            let bytesA = withUnsafeBytes(of: a.uuid) { Array($0) }
            let bytesB = withUnsafeBytes(of: b.uuid) { Array($0) }
            #expect((EventKey(a) < EventKey(b)) == bytesA.lexicographicallyPrecedes(bytesB))
            Keys.withID(EventKey(a)) { key in #expect(Array(key) == bytesA) }
        }
    }

    /// Random inserts, lookups and removals agree with a `Dictionary`; a small key space
    /// with few high bits forces long probe runs and shifts on removal.
    @Test func agreesWithADictionaryUnderRandomOperations() {
        var generator = SystemRandomNumberGenerator()
        var table = EventIDTable()
        var reference: [EventKey: UInt64] = [:]
        for step in 0..<200_000 {
            let key = EventKey(high: UInt64.random(in: 0..<4, using: &generator), low: UInt64.random(in: 0..<3_000, using: &generator))
            switch step % 5 {
            case 0, 1:
                let position = UInt64(step + 1)
                let inserted = table.insert(key, position: position)
                #expect(inserted == (reference[key] == nil))
                if inserted { reference[key] = position }
            case 2:
                table.remove(key)
                reference[key] = nil
            default:
                #expect(table[key] == reference[key])
            }
            if step % 50_000 == 49_999 {
                #expect(table.count == reference.count)
                for (key, position) in reference { #expect(table[key] == position) }
            }
        }
        table.removeAll()
        #expect(table.isEmpty)
        for key in reference.keys { #expect(table[key] == nil) }
    }

    @Test func insertAllReportsARepeatedKey() {
        var table = EventIDTable()
        let keys = (0..<100).map { _ in EventKey(UUID()) }
        let first = table.insertAll(keys)
        #expect(first)
        table.removeAll()
        let second = table.insertAll(keys + [keys[42]])
        #expect(!second)
    }
}

@Suite struct BloomFilterTests {
    @Test func hasNoFalseNegativesAndFewFalsePositivesAcrossStages() {
        var filter = BloomFilter(initialCapacity: 1_000)
        let keys = (0..<100_000).map { _ in EventKey(UUID()) }
        for key in keys { filter.insert(key.bloomHash) }
        #expect(filter.count == keys.count)
        for key in keys { #expect(filter.mayContain(key.bloomHash)) }
        let strangers = (0..<100_000).filter { _ in filter.mayContain(EventKey(UUID()).bloomHash) }.count
        // Five stages (1,000 growing four times each) of ~1% each: well under 10% in total.
        #expect(strangers < 10_000, "\(strangers) false positives in 100,000")
    }
}
