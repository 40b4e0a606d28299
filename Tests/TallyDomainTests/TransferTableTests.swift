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
}
