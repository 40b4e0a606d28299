import Testing
@testable import TallyDomain

/// ``PaymentEffect/decode(type:payload:)`` reads transfer payloads in one pass and falls back
/// to ``PaymentEvent/init(type:payload:)`` for anything else: both must accept and refuse
/// exactly the same payloads, and agree on what they mean.
@Suite struct PaymentEffectTests {
    /// What the full decoder makes of `payload`: the effect, or the rejection's message.
    private func full(_ type: String, _ payload: [UInt8]) -> Result<PaymentEffect, Rejection> {
        Result { () throws(Rejection) in PaymentEffect(try PaymentEvent(type: type, payload: payload)) }
    }

    private func fast(_ type: String, _ payload: [UInt8]) -> Result<PaymentEffect, Rejection> {
        let typeBytes = Array(type.utf8)
        return typeBytes.withUnsafeBytes { type in
            payload.withUnsafeBytes { payload in
                Result { () throws(Rejection) in try PaymentEffect.decode(type: type, payload: payload) }
            }
        }
    }

    private func expectSame(_ type: String, _ payload: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Array(payload.utf8)
        switch (self.fast(type, bytes), self.full(type, bytes)) {
        case (.success(let fast), .success(let full)):
            #expect(fast == full, "\(type) \(payload)", sourceLocation: sourceLocation)
        case (.failure(let fast), .failure(let full)):
            #expect(fast.code == full.code && fast.message == full.message, "\(type) \(payload)", sourceLocation: sourceLocation)
        case (let fast, let full):
            Issue.record("\(type) \(payload): fast \(fast), full \(full)", sourceLocation: sourceLocation)
        }
    }

    @Test func everyCanonicalPaymentEventDecodesToItsEffect() throws {
        let transfer = Transfer(
            id: "t-1", kind: .posted, debitAccount: "treasury", creditAccount: "wallet:7", amount: 18_446_744_073_709_551_615,
            currency: "APX", memo: "payroll \"Dec\" \\ ✓", externalReference: "run-12")
        var pending = transfer
        pending.kind = .pending
        pending.expiresAt = 99
        pending.timeoutNanoseconds = 30_000_000_000
        var reversal = transfer
        reversal.kind = .reversal
        reversal.reversalOf = "t-0"
        let events: [PaymentEvent] = [
            .accountOpened(Account(id: "w1", agent: "agent-1", currency: "APX", flags: .debitsMustNotExceedCredits)),
            .accountClosed("w1"), .transferCreated(transfer), .transferCreated(pending), .transferCreated(reversal),
            .transferCommitted("t-1", amount: 5), .transferVoided("t-1"), .transferExpired("t-1"),
        ]
        for event in events {
            let effect = try #require(try? self.fast(event.type, event.payload).get(), "\(event)")
            #expect(effect == PaymentEffect(event))
            self.expectSame(event.type, String(decoding: event.payload, as: UTF8.self))
        }
    }

    @Test func payloadsOffTheWritersFormAgreeWithTheFullDecoder() {
        let base = #""transfer":"t1","debit_account":"a","credit_account":"b","amount":"10","currency":"APX""#
        let payloads = [
            "{\(base)}", "{\(base),\"memo\":null,\"reversal_of\":null}", "{\(base),\"memo\":\"x\\\"y\"}",
            "{\(base),\"unknown\":\"z\"}", "{\(base),\"flags\":[\"a\"]}", "{\(base),\"amount\":\"11\"}",
            "{\(base),\"amount\":\"+12\"}", "{\(base),\"amount\":\"-1\"}", "{\(base),\"amount\":\"18446744073709551616\"}",
            "{\(base),\"amount\":\"\"}", "{\(base),\"amount\":10}", "{\(base),\"amount\":null}",
            "{\(base),\"currency\":\"apx\"}", "{\(base),\"currency\":\"A\"}", "{\(base),\"debit_account\":\"a b\"}",
            "{\(base),\"debit_account\":\"\"}", "{\(base),\"transfer\":\"\(String(repeating: "x", count: 65))\"}",
            "{\(base),\"reversal_of\":\"bad id\"}", "{\(base),\"reversal_of\":\"t0\"}", "{\(base),\"timeout_ns\":\"x\"}",
            "{\(base),\"expires_at_ns\":\"5\"}", "{\(base),\"memo\":[\"list\"]}", "{\(base),\"memo\":5}",
            "{ \(base) }", "{\(base)", "\(base)}", "[]", "", "null", "{}", "{\(base),}", "{\"transfer\":\"t\\u0031\"}",
            #"{"transfer":"t1","amount":"3"}"#, #"{"transfer":"t1"}"#, #"{"amount":"3"}"#, #"{"transfer":null}"#,
            #"{"transfer":"t1","transfer":"t2","amount":"1"}"#, #"{"transfer":"t1","amount":"1","amount":"x"}"#,
        ]
        let types = [
            "transfer.posted", "transfer.pending", "transfer.reversed", "transfer.committed", "transfer.voided", "transfer.expired",
            "transfer.other", "transfer.", "account.opened", "account.closed", "deployment.started",
        ]
        for type in types {
            for payload in payloads { self.expectSame(type, payload) }
        }
    }

    @Test func randomPayloadsAgreeWithTheFullDecoder() {
        // Byte-level mutations of canonical payloads: most break the form, some only a field.
        var random = SystemRandomNumberGenerator()
        let alphabet = Array(#"{}[]",:\ "tn0123456789+-aAu"#.utf8)
        let event = PaymentEvent.transferCreated(
            Transfer(id: "t1", kind: .posted, debitAccount: "a", creditAccount: "b", amount: 42, currency: "APX", memo: "m"))
        for _ in 0..<5_000 {
            var bytes = event.payload
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let index = Int.random(in: 0..<bytes.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: bytes[index] = alphabet.randomElement(using: &random) ?? 0
                case 1: bytes.remove(at: index)
                default: bytes.insert(alphabet.randomElement(using: &random) ?? 0, at: index)
                }
            }
            for type in ["transfer.posted", "transfer.committed", "transfer.voided"] {
                self.expectSame(type, String(decoding: bytes, as: UTF8.self))
            }
        }
    }
}
