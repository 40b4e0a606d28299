import Foundation
import HTTPTypes
public import Tally
import NIOConcurrencyHelpers

/// The API keys of a ledger, kept as events in the reserved stream `tally-keys`
/// (`key.created`, `key.revoked`): creating and revoking a key is on the record like any
/// other change, and the store is rebuilt from the log at start.
public final class KeyStore: Sendable {
    /// The stream holding the key events.
    public static let streamID = Ledger.systemStreamPrefix + "keys"

    private let keys = NIOLockedValueBox<[String: APIKey]>([:])

    /// The keys recorded in `log`.
    public init(log: EventLog) throws {
        var loaded: [String: APIKey] = [:]
        var next: UInt64? = nil
        while true {
            let events = try log.read(stream: Self.streamID, fromVersion: next, limit: 1_000)
            for event in events { Self.fold(event, into: &loaded) }
            guard let last = events.last else { break }
            next = last.streamVersion + 1
        }
        self.keys.withLockedValue { $0 = loaded }
    }

    private static func fold(_ event: RecordedEvent, into keys: inout [String: APIKey]) {
        guard let value = try? JSONValue.parse(event.payload), let fields = try? JSONObject(value),
            let id = try? fields.requiredString("key_id")
        else { return }
        switch event.type {
        case "key.created":
            guard let name = try? fields.requiredString("name"), let role = (try? fields.requiredString("role")).flatMap(Role.init),
                let hashHex = try? fields.requiredString("sha256"), let hash = bytes(fromHex: hashHex)
            else { return }
            keys[id] = APIKey(id: id, name: name, role: role, secretHash: hash, createdAt: event.recordedAtNanoseconds)
        case "key.revoked":
            keys[id]?.revoked = true
        default:
            break
        }
    }

    /// Every key, revoked ones included, by name then id.
    public var all: [APIKey] {
        self.keys.withLockedValue { Array($0.values) }.sorted { ($0.name, $0.id) < ($1.name, $1.id) }
    }

    /// The live key with this id, or `nil` (unknown or revoked).
    public func live(id: String) -> APIKey? {
        self.keys.withLockedValue { $0[id] }.flatMap { $0.revoked ? nil : $0 }
    }

    /// The live key a bearer token names, or `nil` (unknown, malformed or revoked).
    public func authenticate(_ token: String) -> APIKey? {
        guard let id = APIKey.id(of: token), let key = self.keys.withLockedValue({ $0[id] }), !key.revoked, key.matches(token) else {
            return nil
        }
        return key
    }

    /// Creates a key and records it; returns it with the key string (shown once).
    ///
    /// - Throws: ``APIProblem`` `invalid_field` (bad name), `key_exists` (a live key has the
    ///   name), or the log's error.
    public func create(name: String, role: Role, in ledger: Ledger, actor: String) async throws -> (key: APIKey, secret: String) {
        do throws(Rejection) { _ = try DomainID(name, field: "name") } catch { throw APIProblem.invalidField(error.message, at: "$.name") }
        if self.all.contains(where: { $0.name == name && !$0.revoked }) {
            throw APIProblem(.conflict, "key_exists", "a live key is already named \(name); revoke it first or pick another name")
        }
        let (key, secret) = APIKey.generate(name: name, role: role, now: UInt64(Date().timeIntervalSince1970 * 1e9))
        var payload = JSONOutput()
        payload.objectStart()
        payload.field("key_id", key.id)
        payload.field("name", name)
        payload.field("role", role.rawValue)
        payload.field("sha256", key.secretHashHex)
        payload.objectEnd()
        try await Self.record(type: "key.created", payload: payload.bytes, actor: actor, in: ledger)
        self.keys.withLockedValue { $0[key.id] = key }
        return (key, secret)
    }

    /// Revokes the key with this id (or name); returns it.
    ///
    /// - Throws: ``APIProblem`` `not_found`, or the log's error.
    @discardableResult
    public func revoke(_ idOrName: String, in ledger: Ledger, actor: String) async throws -> APIKey {
        guard let key = self.all.first(where: { !$0.revoked && ($0.id == idOrName || $0.name == idOrName) }) else {
            throw APIProblem.notFound("no live key has the id or name \(idOrName); `tally keys list` shows them")
        }
        var payload = JSONOutput()
        payload.objectStart()
        payload.field("key_id", key.id)
        payload.field("name", key.name)
        payload.objectEnd()
        try await Self.record(type: "key.revoked", payload: payload.bytes, actor: actor, in: ledger)
        self.keys.withLockedValue { $0[key.id]?.revoked = true }
        var revoked = key
        revoked.revoked = true
        return revoked
    }

    private static func record(type: String, payload: [UInt8], actor: String, in ledger: Ledger) async throws {
        let event = ProposedEvent(type: type, payload: payload, metadata: EventMetadata(actor: actor))
        let result = try await ledger.log.withinCommit { append in
            append([StreamAppend(streamID: Self.streamID, events: [event])])
        }
        _ = try result.get()
    }
}
