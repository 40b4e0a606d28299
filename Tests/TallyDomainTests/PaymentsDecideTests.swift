import Foundation
import Testing
@testable import TallyDomain

@Suite struct PaymentsDecideTests {
    private func state(_ events: [PaymentEvent]) throws -> PaymentsState {
        var state = PaymentsState()
        var changes = PaymentChanges()
        for event in events { try Payments.evolve(event, state: state, changes: &changes) }
        state.apply(changes)
        return state
    }

    private func decide(_ command: PaymentCommand, _ state: PaymentsState, now: UInt64 = 1_000) -> PaymentOutcome {
        Payments.decide(command, state: state, changes: PaymentChanges(), now: now)
    }

    private let wallet = Account(id: "w", agent: "g", currency: "APX", flags: .debitsMustNotExceedCredits)
    private let treasury = Account(id: "t", agent: "ops", currency: "APX")

    @Test func overflowIsRejectedNotWrapped() throws {
        let state = try self.state([
            .accountOpened(self.treasury), .accountOpened(self.wallet),
            .transferCreated(Transfer(id: "x", kind: .posted, debitAccount: "t", creditAccount: "w", amount: .max, currency: "APX", state: .posted)),
        ])
        let outcome = self.decide(.transfer(TransferRequest(id: "y", debitAccount: "t", creditAccount: "w", amount: 1, currency: "APX")), state)
        #expect(outcome.code == "overflow")
    }

    @Test func everyCodeHasAOneLineMeaningAndIsSnakeCase() {
        let codes = RejectionCode.all.map(\.code.rawValue)
        #expect(Set(codes).count == codes.count)
        for code in codes { #expect(code.allSatisfy { $0.isLowercase || $0 == "_" }, "\(code)") }
    }

    @Test func docsListEveryRejectionCode() throws {
        let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/rejections.md")
        let text = try String(contentsOf: docs, encoding: .utf8)
        for (code, _) in RejectionCode.all { #expect(text.contains("`\(code.rawValue)`"), "docs/rejections.md lacks \(code)") }
    }

    @Test func payloadsRoundTripWithDocumentedKeyOrder() throws {
        let transfer = Transfer(
            id: "p-1", kind: .pending, debitAccount: "w", creditAccount: "t", amount: 42, currency: "APX", memo: "say \"hi\"\n",
            externalReference: nil, expiresAt: 9_000, timeoutNanoseconds: 8_000, reversalOf: nil, state: .pending)
        let event = PaymentEvent.transferCreated(transfer)
        #expect(
            String(decoding: event.payload, as: UTF8.self)
                == #"{"transfer":"p-1","debit_account":"w","credit_account":"t","amount":"42","currency":"APX","memo":"say \"hi\"\u000a","timeout_ns":"8000","expires_at_ns":"9000"}"#)
        for event in [event, .accountOpened(self.wallet), .accountClosed("w"), .transferCommitted("p-1", amount: 40), .transferVoided("p-1"), .transferExpired("p-1")] {
            #expect(try PaymentEvent(type: event.type, payload: event.payload) == event)
        }
    }

    @Test func pendingTransferExpiresAtItsDeadline() throws {
        var state = try self.state([.accountOpened(self.treasury), .accountOpened(self.wallet)])
        let outcome = self.decide(
            .transfer(TransferRequest(id: "h", debitAccount: "t", creditAccount: "w", amount: 5, currency: "APX", timeoutNanoseconds: 100)),
            state, now: 1_000)
        guard case .applied(let events) = outcome else { Issue.record("\(outcome)"); return }
        var changes = PaymentChanges()
        for event in events { try Payments.evolve(event, state: state, changes: &changes) }
        state.apply(changes)
        #expect(self.decide(.expireDue, state, now: 1_099) == .applied([]))
        #expect(self.decide(.commitPending("h", amount: nil), state, now: 1_100).code == "pending_transfer_expired")
        #expect(self.decide(.expireDue, state, now: 1_100) == .applied([.transferExpired("h")]))
        #expect(self.decide(.commitPending("h", amount: 6), state, now: 1_050).code == "amount_exceeds_pending")
    }

    @Test func invalidInputsHaveTheirCodes() {
        // Variables, not literals: `Currency("apx")` with a literal is literal coercion (and traps).
        let lower = "apx", short = "A", spaced = "has space", long = String(repeating: "a", count: 65)
        #expect(throws: Rejection.self) { try Currency(lower) }
        #expect((try? Currency(short)) == nil)
        #expect((try? DomainID(spaced, field: "id")) == nil)
        #expect((try? DomainID(long, field: "id")) == nil)
        #expect((try? AccountFlags(names: ["nope"])) == nil)
    }
}

@Suite struct PaymentsSnapshotTests {
    @Test func snapshotRoundTripsAndRejectsDamage() throws {
        var state = PaymentsState()
        var changes = PaymentChanges()
        let events: [PaymentEvent] = [
            .accountOpened(Account(id: "t", agent: "ops", currency: "APX", externalReference: "ext-1")),
            .accountOpened(Account(id: "w", agent: "g", currency: "APX", flags: .debitsMustNotExceedCredits)),
            .transferCreated(Transfer(id: "p", kind: .posted, debitAccount: "t", creditAccount: "w", amount: 50, currency: "APX", memo: "m")),
            .transferCreated(Transfer(id: "h", kind: .pending, debitAccount: "w", creditAccount: "t", amount: 5, currency: "APX", expiresAt: 99, timeoutNanoseconds: 9)),
            .transferCreated(Transfer(id: "r", kind: .reversal, debitAccount: "w", creditAccount: "t", amount: 10, currency: "APX", reversalOf: "p")),
            .accountClosed("t"),
        ]
        for event in events { try Payments.evolve(event, state: state, changes: &changes) }
        state.apply(changes)
        let bytes = state.snapshot()
        #expect(try PaymentsState(snapshot: bytes) == state)
        #expect(throws: Rejection.self) { try PaymentsState(snapshot: Array(bytes.dropLast())) }
        #expect(throws: Rejection.self) { try PaymentsState(snapshot: bytes + [0]) }
        #expect(throws: Rejection.self) { try PaymentsState(snapshot: [9] + bytes.dropFirst()) }
    }

    @Test func snapshotKeepsEveryFieldOfEveryKindAndState() throws {
        var state = PaymentsState()
        var changes = PaymentChanges()
        var big = Account(id: "big", agent: "ops", currency: "CREDIT1", flags: .creditsMustNotExceedDebits)
        big.debitsPosted = .max - 500
        let events: [PaymentEvent] = [
            .accountOpened(Account(id: "t", agent: "ops", currency: "CREDIT1")),
            .accountOpened(big),
            .transferCreated(Transfer(id: "p", kind: .posted, debitAccount: "t", creditAccount: "big", amount: .max - 1_000, currency: "CREDIT1", externalReference: "inv-7")),
            .transferCreated(Transfer(id: "c", kind: .pending, debitAccount: "t", creditAccount: "big", amount: 300, currency: "CREDIT1", memo: "escrow", expiresAt: .max, timeoutNanoseconds: 1)),
            .transferCommitted("c", amount: 128),
            .transferCreated(Transfer(id: "v", kind: .pending, debitAccount: "t", creditAccount: "big", amount: 1, currency: "CREDIT1", expiresAt: 5, timeoutNanoseconds: 5)),
            .transferVoided("v"),
            .transferCreated(Transfer(id: "x", kind: .pending, debitAccount: "t", creditAccount: "big", amount: 2, currency: "CREDIT1", expiresAt: 6, timeoutNanoseconds: 6)),
            .transferExpired("x"),
            .transferCreated(Transfer(id: "r", kind: .reversal, debitAccount: "big", creditAccount: "t", amount: 100, currency: "CREDIT1", memo: "back", reversalOf: "c")),
        ]
        for event in events { try Payments.evolve(event, state: state, changes: &changes) }
        state.apply(changes)
        #expect(state.transfers["c"]?.reversedAmount == 100)
        let restored = try PaymentsState(snapshot: state.snapshot())
        #expect(restored == state)
        #expect(restored.openPending == state.openPending)
        // Every truncation is refused, never misread.
        let bytes = state.snapshot()
        for length in 0..<bytes.count { #expect((try? PaymentsState(snapshot: Array(bytes[..<length]))) == nil, "\(length)") }
    }

    /// Version 1 (u64 integers and lengths), as earlier releases wrote it, still restores:
    /// an upgraded ledger keeps its checkpoint.
    @Test func versionOneSnapshotStillRestores() throws {
        var bytes: [UInt8] = [1]
        func u64(_ value: UInt64) { withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) } }
        func string(_ value: String) { u64(UInt64(value.utf8.count)); bytes.append(contentsOf: value.utf8) }
        u64(2)
        for (id, credits, debits) in [("a", UInt64(0), UInt64(7)), ("b", UInt64(7), UInt64(0))] {
            string(id); string("g"); string("APX"); u64(0); bytes.append(0); bytes.append(0)
            for value in [debits, credits, UInt64(0), UInt64(0)] { u64(value) }
        }
        u64(1)
        string("t"); string("posted"); string("a"); string("b"); u64(7); string("APX")
        bytes.append(contentsOf: [1]); string("rent"); bytes.append(contentsOf: [0, 0, 0, 0])
        string("posted"); bytes.append(0); u64(0)
        let state = try PaymentsState(snapshot: bytes)
        #expect(state.accounts["a"]?.debitsPosted == 7)
        #expect(state.accounts["b"]?.creditsPosted == 7)
        #expect(state.transfers["t"] == Transfer(id: "t", kind: .posted, debitAccount: "a", creditAccount: "b", amount: 7, currency: "APX", memo: "rent"))
    }
}

@Suite struct FlatJSONTests {
    @Test func readsWhatTheWriterWritesAndFallsBackForOtherJSON() throws {
        #expect(FlatJSON.parse(Array(#"{"a":"x\"y\\z\u000a","b":["p","q"],"c":null}"#.utf8))?.dictionary
            == ["a": .string("x\"y\\z\n"), "b": .strings(["p", "q"]), "c": .null])
        #expect(FlatJSON.parse(Array(#"{"a":"1","a":"2","e":[],"f":["x\"","y"]}"#.utf8))?.dictionary
            == ["a": .string("2"), "e": .strings([]), "f": .strings(["x\"", "y"])])
        #expect(FlatJSON.parse(Array(#"{"a":"x"}"#.utf8))?["b"] == nil)
        #expect(FlatJSON.parse(Array(#"{"a":nul}"#.utf8)) == nil)
        #expect(FlatJSON.parse(Array(#"{"a":"x\ny"}"#.utf8)) == nil)
        #expect(FlatJSON.parse(Array(#"{"a":["x\ty"]}"#.utf8)) == nil)
        #expect(FlatJSON.parse(Array(#"{"a":["x",]}"#.utf8)) == nil)
        #expect(FlatJSON.parse(Array(#"{ "a": "x" }"#.utf8)) == nil)
        #expect(FlatJSON.parse(Array(#"{"a":1}"#.utf8)) == nil)
        #expect(FlatJSON.parse(Array(#"{"a":"x"} "#.utf8)) == nil)
        // Hand-written JSON still decodes (through Foundation).
        let spaced = Array(#"{ "account": "w", "agent": "g", "currency": "APX", "flags": [] }"#.utf8)
        #expect(try PaymentEvent(type: "account.opened", payload: spaced) == .accountOpened(Account(id: "w", agent: "g", currency: "APX")))
    }
}
