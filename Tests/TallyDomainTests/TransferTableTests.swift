import Testing
@testable import TallyDomain

@Suite struct TransferTableTests {
    private func transfer(_ id: String, amount: UInt64 = 1) -> Transfer {
        Transfer(id: DomainID(stringLiteral: id), kind: .posted, debitAccount: "a", creditAccount: "b", amount: amount, currency: "APX")
    }

    /// Random stores, overwrites and removals agree with a plain dictionary at every step.
    @Test func agreesWithADictionaryThroughStoresOverwritesAndRemovals() {
        var table = TransferTable()
        var model: [DomainID: Transfer] = [:]
        var generator = SystemRandomNumberGenerator()
        for step in 0..<5_000 {
            let id = DomainID(stringLiteral: "t\(Int.random(in: 0..<300, using: &generator))")
            if Int.random(in: 0..<4, using: &generator) == 0 {
                table[id] = nil
                model[id] = nil
            } else {
                let value = self.transfer(id.rawValue, amount: UInt64(step + 1))
                table[id] = value
                model[id] = value
            }
            #expect(table.count == model.count)
            #expect(table[id] == model[id])
        }
        for (id, value) in model { #expect(table[id] == value) }
        #expect(Set(table.values.map(\.id)) == Set(model.keys))
    }

    @Test func valuesKeepTheOrderOfFirstStoreAndEqualityIgnoresIt() {
        var first = TransferTable()
        var second = TransferTable()
        for id in ["x", "y", "z"] { first[DomainID(stringLiteral: id)] = self.transfer(id) }
        for id in ["z", "x", "y"] { second[DomainID(stringLiteral: id)] = self.transfer(id) }
        first["y"] = self.transfer("y", amount: 7)
        #expect(first.values.map(\.id.rawValue) == ["x", "y", "z"])
        #expect(first != second)
        second["y"] = self.transfer("y", amount: 7)
        #expect(first == second)
        second["w"] = self.transfer("w")
        #expect(first != second)
    }

    /// Past several chunks and index growths: every transfer is found, removals from the
    /// middle move the last one into the hole, and a discarded batch leaves no trace.
    @Test func manyTransfersAcrossChunksGrowthRemovalsAndADiscardedBatch() {
        var table = TransferTable()
        let total = 3 * TransferTable.chunkSize + 17
        for number in 0..<total { table[DomainID(stringLiteral: "t\(number)")] = self.transfer("t\(number)", amount: UInt64(number + 1)) }
        #expect(table.count == total && table.values.count == total)
        for number in stride(from: 0, to: total, by: 7) { table[DomainID(stringLiteral: "t\(number)")] = nil }
        let kept = (0..<total).filter { $0 % 7 != 0 }
        #expect(table.count == kept.count)
        for number in 0..<total {
            let found = table[DomainID(stringLiteral: "t\(number)")]
            #expect(found == (number % 7 == 0 ? nil : self.transfer("t\(number)", amount: UInt64(number + 1))))
        }
        for number in 0..<TransferTable.chunkSize + 5 { table.addUncommitted(self.transfer("u\(number)")) }
        #expect(table["u3"] == nil && table.includingUncommitted("u3") == self.transfer("u3"))
        table.discardUncommitted()
        #expect(table.includingUncommitted("u3") == nil && !table.hasUncommitted && table.count == kept.count)
        table.addUncommitted(self.transfer("u3"))
        table.publishUncommitted()
        #expect(table["u3"] == self.transfer("u3") && table.count == kept.count + 1)
        #expect(Set(table.values.map(\.id.rawValue)) == Set(kept.map { "t\($0)" } + ["u3"]))
    }
}
