import Testing
@testable import TallyLog

/// The relations between limits that the code relies on (TigerBeetle puts these in comptime).
@Suite struct LimitsTests {
    @Test func limitsFitTogether() {
        #expect(Limits.batchEventsMax >= Limits.appendEventsMax, "one append must fit in one batch")
        #expect(Limits.batchBytesMax >= Limits.appendBytesMax, "one append must fit in one batch")
        #expect(Limits.appendBytesMax >= Limits.recordBytesMax, "one maximal record must fit in an append")
        #expect(Limits.recordBytesMax < Int(UInt32.max), "the record length field is 32 bits")
        #expect(Limits.streamIDBytesMax <= Int(UInt16.max) && Limits.typeBytesMax <= Int(UInt16.max))
        #expect(Limits.indexFlushEventsMax <= Limits.tailEventsMax)
        #expect(Limits.readEventsMax >= Limits.subscriptionBufferEventsMax)
        #expect(Limits.mapSoftLimitPercent > 0 && Limits.mapSoftLimitPercent < 100)
    }
}
