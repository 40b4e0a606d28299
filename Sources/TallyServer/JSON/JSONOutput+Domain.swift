import Foundation
import Tally

/// The API's JSON forms of events, accounts, transfers, deployments and health, all
/// snake_case, amounts as strings of digits, times as RFC 3339 (UTC, nanoseconds).
extension JSONOutput {
    mutating func time(_ key: String, _ nanoseconds: UInt64) {
        self.field(key, RFC3339.format(nanoseconds: nanoseconds))
    }

    /// A recorded event. The payload is embedded as stored when it is JSON, else base64.
    mutating func event(_ event: RecordedEvent) {
        self.objectStart()
        self.field("position", event.position)
        self.field("stream", event.streamID)
        self.field("stream_version", event.streamVersion)
        self.field("id", event.id.uuidString.lowercased())
        self.field("type", event.type)
        self.time("recorded_at", event.recordedAtNanoseconds)
        self.key("metadata")
        self.objectStart()
        for (key, value) in event.metadata.entries { self.field(key, value) }
        self.objectEnd()
        if event.payloadIsCheckedJSON || (try? JSONValue.parse(event.payload, depthMax: 512)) != nil {
            self.key("payload")
            self.raw(event.payload)
        } else {
            self.field("payload_base64", Data(event.payload).base64EncodedString())
        }
        self.field("checksum", Self.hex16(event.checksum))
        self.field("previous_checksum", Self.hex16(event.previousChecksum))
        self.objectEnd()
    }

    static func hex16(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    mutating func account(_ account: Account) {
        self.objectStart()
        self.field("id", account.id.rawValue)
        self.field("agent", account.agent.rawValue)
        self.field("currency", account.currency.rawValue)
        self.key("flags")
        self.arrayStart()
        for name in account.flags.names { self.string(name) }
        self.arrayEnd()
        self.field("external_reference", ifPresent: account.externalReference)
        self.field("closed", account.isClosed)
        self.amount("debits_posted", account.debitsPosted)
        self.amount("credits_posted", account.creditsPosted)
        self.amount("debits_pending", account.debitsPending)
        self.amount("credits_pending", account.creditsPending)
        self.field("balance", String(account.balance))
        self.field("available", String(account.available))
        self.objectEnd()
    }

    mutating func transfer(_ transfer: Transfer) {
        self.objectStart()
        self.field("id", transfer.id.rawValue)
        self.field("kind", transfer.kind.rawValue)
        self.field("state", transfer.state.rawValue)
        self.field("debit_account", transfer.debitAccount.rawValue)
        self.field("credit_account", transfer.creditAccount.rawValue)
        self.amount("amount", transfer.amount)
        self.field("currency", transfer.currency.rawValue)
        self.field("memo", ifPresent: transfer.memo)
        self.field("external_reference", ifPresent: transfer.externalReference)
        if let expiresAt = transfer.expiresAt { self.time("expires_at", expiresAt) }
        self.field("reversal_of", ifPresent: transfer.reversalOf?.rawValue)
        if let committed = transfer.committedAmount { self.amount("committed_amount", committed) }
        self.amount("reversed_amount", transfer.reversedAmount)
        self.amount("posted_amount", transfer.postedAmount)
        self.objectEnd()
    }

    /// One item's result: `{"index": 0, "code": "ok", "events": [...types]}` or with a message.
    mutating func result(index: Int, code: String, message: String?, events: [String]) {
        self.objectStart()
        self.field("index", UInt64(index))
        self.field("code", code)
        self.field("message", ifPresent: message)
        if !events.isEmpty {
            self.key("events")
            self.arrayStart()
            for type in events { self.string(type) }
            self.arrayEnd()
        }
        self.objectEnd()
    }

    /// One item's result in a batch.
    mutating func outcome(_ outcome: some CommandOutcome, index: Int) {
        let message = outcome.rejection?.message ?? (outcome.eventTypes == nil ? "already applied; nothing was written" : nil)
        self.result(index: index, code: outcome.code, message: message, events: outcome.eventTypes ?? [])
    }

    mutating func deployment(_ deployment: Deployment) {
        self.objectStart()
        self.field("id", deployment.id.rawValue)
        self.field("service", deployment.service.rawValue)
        self.field("version", deployment.version)
        self.field("environment", deployment.environment.rawValue)
        self.field("strategy", deployment.strategy.rawValue)
        self.field("actor", deployment.actor.rawValue)
        self.field("reason", ifPresent: deployment.reason)
        self.time("started_at", deployment.startedAt)
        self.field("state", deployment.state.rawValue)
        if let duration = deployment.durationMilliseconds { self.field("duration_ms", duration) }
        self.field("failure_reason", ifPresent: deployment.failureReason)
        self.field("rolled_back_to", ifPresent: deployment.rolledBackTo)
        self.objectEnd()
    }

    mutating func deploymentRecord(_ record: DeploymentRecord) {
        self.objectStart()
        self.field("id", record.id)
        self.field("service", record.service)
        self.field("environment", record.environment)
        self.field("version", record.version)
        self.field("actor", record.actor)
        self.time("started_at", record.startedAt)
        self.field("state", record.state)
        if let finished = record.finishedAt { self.time("finished_at", finished) }
        if let duration = record.durationMilliseconds { self.field("duration_ms", duration) }
        self.field("rolled_back_to", ifPresent: record.rolledBackTo)
        self.objectEnd()
    }

    mutating func component(_ name: String, _ health: ComponentHealth) {
        self.objectStart()
        self.field("component", name)
        self.field("status", health.status.rawValue)
        self.time("since", health.since)
        self.time("last_check", health.lastCheck)
        self.field("last_latency_ms", health.lastLatencyMilliseconds)
        self.objectEnd()
    }

    mutating func incident(_ incident: Incident) {
        self.objectStart()
        self.field("component", incident.component)
        self.time("start", incident.start)
        if let end = incident.end { self.time("end", end) }
        self.field("worst", incident.worst.rawValue)
        self.objectEnd()
    }
}
