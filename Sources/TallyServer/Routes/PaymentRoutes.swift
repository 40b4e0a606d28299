import Foundation
import HTTPTypes
import Hummingbird
import Tally

/// Payments: accounts, transfers (batches with per-item results), pending commit and void,
/// reversals, statements and balances.
extension APIRoutes {
    func addPaymentRoutes() {
        let api = self.api
        self.add(.post, "/v1/accounts", .write) { request, context in
            let (body, _) = try await api.bodyObject(request)
            let account = try TallyAPI.accountOpening(body)
            let outcome = try await api.ledger.execute([.openAccount(account)], metadata: api.metadata(context))
            return try api.single(outcome) { out in
                out.key("account")
                out.account(api.ledger.account(account.id) ?? account)
            }
        }
        self.add(.get, "/v1/accounts/{id}", .read) { _, context in
            let id = try context.id("id")
            guard let account = api.ledger.account(id) else { throw APIProblem(.notFound, "account_not_found", "no account has the id \(id)") }
            return api.json { $0.account(account) }
        }
        self.add(.post, "/v1/accounts/{id}/close", .write) { _, context in
            let id = try context.id("id")
            let outcome = try await api.ledger.execute([.closeAccount(id)], metadata: api.metadata(context))
            return try api.single(outcome) { out in
                if let account = api.ledger.account(id) {
                    out.key("account")
                    out.account(account)
                }
            }
        }
        self.add(.get, "/v1/agents/{agent}/accounts", .read) { _, context in
            let agent = try context.id("agent")
            let accounts = api.ledger.accounts(agent: agent)
            return api.json { out in
                out.objectStart()
                out.field("agent", agent.rawValue)
                out.key("accounts")
                out.arrayStart()
                for account in accounts { out.account(account) }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/accounts/{id}/statement", .read) { request, context in
            let id = try context.id("id")
            let asOf = try await api.projectionPosition("balances", request)
            let lines = try api.views.statement(of: id.rawValue, fromPosition: request.query(uint64: "from_position") ?? 1, limit: request.limit())
            return api.json { out in
                out.objectStart()
                out.field("account", id.rawValue)
                out.field("as_of_position", asOf)
                out.key("lines")
                out.arrayStart()
                for line in lines {
                    out.objectStart()
                    out.field("position", line.position)
                    out.field("transfer", line.transfer)
                    out.field("side", line.isDebit ? "debit" : "credit")
                    out.amount("amount", line.amount)
                    out.field("balance_after", String(line.balanceAfter))
                    out.time("recorded_at", line.recordedAt)
                    out.objectEnd()
                }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/accounts/{id}/balance", .read) { request, context in
            let id = try context.id("id")
            let asOf = try await api.projectionPosition("balances", request)
            guard let current = try api.views.balance(of: id.rawValue) else {
                throw APIProblem(.notFound, "account_not_found", "no account has the id \(id) (as of position \(asOf))")
            }
            var position = try request.query(uint64: "at_position")
            if let time = try request.query(time: "at_time") {
                guard position == nil else { throw APIProblem.malformed("give at_position or at_time, not both", at: "query.at_time") }
                position = try api.ledger.log.lastPosition(atOrBefore: time)
            }
            return api.json { out in
                out.objectStart()
                out.field("account", id.rawValue)
                out.field("currency", current.currency)
                if let position {
                    let line = try? api.views.statementLine(of: id.rawValue, atPosition: position)
                    out.field("position", position)
                    out.amount("debits_posted", line?.debitsPosted ?? 0)
                    out.amount("credits_posted", line?.creditsPosted ?? 0)
                    out.field("balance", String(line?.balanceAfter ?? 0))
                } else {
                    out.field("position", asOf)
                    out.amount("debits_posted", current.debitsPosted)
                    out.amount("credits_posted", current.creditsPosted)
                    out.amount("debits_pending", current.debitsPending)
                    out.amount("credits_pending", current.creditsPending)
                    out.field("balance", String(current.balance))
                }
                out.objectEnd()
            }
        }
        self.add(.post, "/v1/transfers", .write) { request, context in
            let (body, _) = try await api.bodyObject(request)
            let (commands, linked) = try TallyAPI.transferBatch(body)
            let outcomes = try await api.ledger.execute(commands, linked: linked, metadata: api.metadata(context))
            return api.json { out in
                out.objectStart()
                out.field("linked", linked)
                out.field("applied", UInt64(outcomes.count { if case .applied = $0 { true } else { false } }))
                out.field("failed", UInt64(outcomes.count { !$0.succeeded }))
                out.key("results")
                out.arrayStart()
                for (index, outcome) in outcomes.enumerated() { out.outcome(outcome, index: index) }
                out.arrayEnd()
                out.objectEnd()
            }
        }
        self.add(.get, "/v1/transfers/{id}", .read) { _, context in
            let id = try context.id("id")
            guard let transfer = api.ledger.transfer(id) else { throw APIProblem(.notFound, "transfer_not_found", "no transfer has the id \(id)") }
            return api.json { $0.transfer(transfer) }
        }
        self.add(.post, "/v1/transfers/{id}/commit", .write) { request, context in
            let id = try context.id("id")
            let (body, _) = try await api.bodyObject(request)
            let outcome = try await api.ledger.execute([try TallyAPI.pendingCommit(body, transfer: id)], metadata: api.metadata(context))
            return try api.single(outcome) { api.transferField(id, &$0) }
        }
        self.add(.post, "/v1/transfers/{id}/void", .write) { _, context in
            let id = try context.id("id")
            let outcome = try await api.ledger.execute([.voidPending(id)], metadata: api.metadata(context))
            return try api.single(outcome) { api.transferField(id, &$0) }
        }
        self.add(.post, "/v1/transfers/{id}/reverse", .write) { request, context in
            let original = try context.id("id")
            let (body, _) = try await api.bodyObject(request)
            let (command, reversal) = try TallyAPI.reversal(body, of: original)
            let outcome = try await api.ledger.execute([command], metadata: api.metadata(context))
            return try api.single(outcome) { api.transferField(reversal, &$0) }
        }
    }
}

extension TallyAPI {
    /// The transfers of a `POST /v1/transfers` body: `{"linked": bool, "transfers": [1 to 10000]}`.
    static func transferBatch(_ body: JSONObject) throws -> (commands: [PaymentCommand], linked: Bool) {
        try body.allowOnly(["linked", "transfers"])
        let items = try body.requiredArray("transfers")
        guard !items.isEmpty, items.count <= 10_000 else {
            throw APIProblem.malformed("$.transfers must hold 1 to 10000 transfers, not \(items.count)", at: "$.transfers")
        }
        let commands = try items.enumerated().map { index, item in
            PaymentCommand.transfer(try Self.transferRequest(JSONObject(item, path: "$.transfers[\(index)]")))
        }
        return (commands, try body.bool("linked") ?? false)
    }

    /// A transfer from `{"id", "debit_account", "credit_account", "amount", "currency", "memo",
    /// "external_reference", "timeout_ms"}`.
    static func transferRequest(_ object: JSONObject) throws -> TransferRequest {
        try object.allowOnly(["id", "debit_account", "credit_account", "amount", "currency", "memo", "external_reference", "timeout_ms"])
        var timeout: UInt64?
        if let milliseconds = try object.uint64("timeout_ms") {
            guard milliseconds > 0 else {
                throw APIProblem.malformed("\(object.pointer("timeout_ms")) must be at least 1 (omit it for a posted transfer)", at: object.pointer("timeout_ms"))
            }
            let (nanoseconds, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
            guard !overflow else { throw APIProblem.malformed("\(object.pointer("timeout_ms")) is too large", at: object.pointer("timeout_ms")) }
            timeout = nanoseconds
        }
        return TransferRequest(
            id: try object.requiredID("id"), debitAccount: try object.requiredID("debit_account"),
            creditAccount: try object.requiredID("credit_account"), amount: try object.requiredUInt64("amount"),
            currency: try object.currency("currency"), memo: try object.string("memo"),
            externalReference: try object.string("external_reference"), timeoutNanoseconds: timeout)
    }

    /// The response to one command: 201 applied, 200 already applied, else the rejection
    /// as a problem (409 conflicts, 422 the rest).
    func single(_ outcomes: [some CommandOutcome], _ write: (inout JSONOutput) -> Void) throws -> Response {
        guard let outcome = outcomes.first else { throw APIProblem(.internalServerError, "internal_error", "no outcome") }
        if let rejection = outcome.rejection { throw APIProblem.rejection(rejection) }
        return self.json(outcome.eventTypes == nil ? .ok : .created) { out in
            out.objectStart()
            out.field("code", outcome.code)
            if let types = outcome.eventTypes {
                out.key("events")
                out.arrayStart()
                for type in types { out.string(type) }
                out.arrayEnd()
            }
            write(&out)
            out.objectEnd()
        }
    }

    func transferField(_ id: DomainID, _ out: inout JSONOutput) {
        guard let transfer = self.ledger.transfer(id) else { return }
        out.key("transfer")
        out.transfer(transfer)
    }

    /// Waits until the projection `name` has applied `min_position` (when given; 503
    /// `projection_lagging` after `wait_ms`, default 5 s) or, without it, the head as of
    /// the request (at most 2 s, then answers from where it is). Returns its checkpoint.
    func projectionPosition(_ name: String, _ request: Request) async throws -> UInt64 {
        guard let worker = self.worker(name) else { throw APIProblem(.internalServerError, "internal_error", "no projection \(name)") }
        if let failure = worker.status.failure {
            throw APIProblem(.serviceUnavailable, "projection_stopped", "the \(name) projection stopped: \(failure)")
        }
        let waitMilliseconds = try request.query(uint64: "wait_ms")
        if let position = try request.query(uint64: "min_position") {
            let head = self.ledger.log.headPosition
            guard position <= head else {
                throw APIProblem.malformed(
                    "min_position \(position) is past the log head \(head): use a position an append or command returned", at: "query.min_position")
            }
            let timeout = Duration.milliseconds(Int64(min(waitMilliseconds ?? 5_000, 60_000)))
            guard await worker.wait(until: position, timeout: timeout) else {
                throw APIProblem(
                    .serviceUnavailable, "projection_lagging",
                    "the \(name) projection has not reached position \(position) yet (it is at \(worker.status.checkpoint)); retry")
            }
        } else {
            _ = await worker.wait(until: self.ledger.log.headPosition, timeout: .milliseconds(Int64(min(waitMilliseconds ?? 2_000, 60_000))))
        }
        return worker.status.checkpoint
    }
}

extension EventLog {
    /// The last position recorded at or before `nanoseconds` (0 if none): a binary search,
    /// since recorded times never decrease along the log.
    func lastPosition(atOrBefore nanoseconds: UInt64) throws -> UInt64 {
        var low: UInt64 = 1
        var high = self.headPosition
        var found: UInt64 = 0
        while low <= high {
            let middle = low + (high - low) / 2
            guard let event = try self.read(fromPosition: middle, limit: 1).first else { break }
            if event.recordedAtNanoseconds <= nanoseconds {
                found = middle
                low = middle + 1
            } else {
                if middle == 0 { break }
                high = middle - 1
            }
        }
        return found
    }
}

/// What the API needs of a payment or operations outcome.
protocol CommandOutcome {
    var code: String { get }
    /// The rejection, when refused.
    var rejection: Rejection? { get }
    /// The types of the events written, when applied now (`nil`: applied before, or refused).
    var eventTypes: [String]? { get }
}

extension PaymentOutcome: CommandOutcome {
    var rejection: Rejection? {
        if case .rejected(let rejection) = self { return rejection }
        return nil
    }

    var eventTypes: [String]? {
        if case .applied(let events) = self { return events.map(\.type) }
        return nil
    }
}

extension OperationsOutcome: CommandOutcome {
    var rejection: Rejection? {
        if case .rejected(let rejection) = self { return rejection }
        return nil
    }

    var eventTypes: [String]? {
        if case .applied(let events) = self { return events.map(\.type) }
        return nil
    }
}
