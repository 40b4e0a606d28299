import Testing
@testable import TallyDomain

@Suite struct AccountTableTests {
    private func account(_ id: String, posted: UInt64 = 0) -> Account {
        var account = Account(id: DomainID(stringLiteral: id), agent: "g", currency: "APX")
        account.creditsPosted = posted
        return account
    }

    /// Readers see committed values while a batch's changes are written in; publishing makes
    /// them committed, rolling back restores every committed value and forgets opened ids.
    @Test func batchChangesAreHiddenUntilPublishedAndUndoneOnRollback() {
        var table = AccountTable()
        for number in 0..<1_000 { table.store(self.account("a\(number)", posted: UInt64(number))) }
        for round in 0..<3 {
            for number in stride(from: 0, to: 1_000, by: 3) {
                table.update(self.account("a\(number)", posted: UInt64(number + 10_000 * (round + 1))))
                table.update(self.account("a\(number)", posted: UInt64(number + 20_000 * (round + 1))))
            }
            table.update(self.account("new\(round)", posted: 5))
            #expect(table.hasUncommitted && table.count == 1_000 + (round == 2 ? 1 : 0))
            #expect(table["a3"]?.creditsPosted == (round == 2 ? 3 + 20_000 * 2 : 3), "readers see the committed value")
            #expect(table.current("a3")?.creditsPosted == UInt64(3 + 20_000 * (round + 1)), "the writer sees its own")
            #expect(table[DomainID(stringLiteral: "new\(round)")] == nil && table.current(DomainID(stringLiteral: "new\(round)"))?.creditsPosted == 5)
            if round == 1 {
                table.publish()
                #expect(table["a3"]?.creditsPosted == 3 + 40_000 && table["new1"]?.creditsPosted == 5)
            } else {
                table.rollback()
                #expect(table.current(DomainID(stringLiteral: "new\(round)")) == nil && table[DomainID(stringLiteral: "new\(round)")] == nil)
            }
            #expect(!table.hasUncommitted)
        }
        #expect(table.count == 1_001)
        #expect(table["a3"]?.creditsPosted == 3 + 40_000 && table["a4"]?.creditsPosted == 4)
        #expect(Set(table.values.map(\.id.rawValue)) == Set((0..<1_000).map { "a\($0)" } + ["new1"]))
        var other = AccountTable()
        for account in table.values.reversed() { other.store(account) }
        #expect(other == table, "equality ignores the order accounts were opened in")
    }

    /// Reading ahead (``PaymentsState/warm(_:_:)``) reads the accounts it names through their
    /// home buckets, ids it does not know read nothing, and nothing changes.
    @Test func warmingReadsAndChangesNothing() {
        var table = AccountTable()
        for number in 0..<1_000 { table.store(self.account("a\(number)", posted: UInt64(number + 1))) }
        table.update(self.account("a7", posted: 99))
        let before = table
        func warm(_ ids: [String]) -> UInt64 {
            var words = ids.map { DomainID(stringLiteral: $0).hashWord }
            return words.withUnsafeMutableBufferPointer { table.warm($0) }
        }
        #expect(warm((0..<100).map { "a\($0)" }) != 0)
        #expect(warm((0..<100).map { "unknown\($0)" }) == 0)
        #expect(table == before && table.current("a7")?.creditsPosted == 99 && table["a7"]?.creditsPosted == 8)
    }
}
