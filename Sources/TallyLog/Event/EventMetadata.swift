/// Who and why: the metadata stored with every event.
///
/// The well-known fields are stored under the keys `actor`, `correlation_id` and
/// `causation_id`; ``extra`` holds any other string pairs.
public struct EventMetadata: Sendable, Hashable, Codable {
    /// Who caused the event (an agent, a person, an API key's name).
    public var actor: String?
    /// Groups events of one piece of work.
    public var correlationID: String?
    /// The event or command that caused this one.
    public var causationID: String?
    /// Any other entries; keys must not be one of the well-known names.
    public var extra: [String: String]

    /// The keys reserved for the well-known fields.
    public static let reservedKeys: Set<String> = ["actor", "correlation_id", "causation_id"]

    /// Creates metadata.
    public init(
        actor: String? = nil,
        correlationID: String? = nil,
        causationID: String? = nil,
        extra: [String: String] = [:]
    ) {
        self.actor = actor
        self.correlationID = correlationID
        self.causationID = causationID
        self.extra = extra
    }

    /// No metadata.
    public static let empty = EventMetadata()

    /// All entries, well-known ones under their reserved keys, sorted by key (the stored order).
    public var entries: [(key: String, value: String)] {
        var all = self.extra.map { (key: $0.key, value: $0.value) }
        if let actor = self.actor { all.append((key: "actor", value: actor)) }
        if let correlationID = self.correlationID { all.append((key: "correlation_id", value: correlationID)) }
        if let causationID = self.causationID { all.append((key: "causation_id", value: causationID)) }
        return all.sorted { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }
    }

    /// Builds metadata from stored entries, moving reserved keys into their fields.
    public init(entries: [(key: String, value: String)]) {
        self.init()
        for (key, value) in entries {
            switch key {
            case "actor": self.actor = value
            case "correlation_id": self.correlationID = value
            case "causation_id": self.causationID = value
            default: self.extra[key] = value
            }
        }
    }

    enum CodingKeys: String, CodingKey {
        case actor
        case correlationID = "correlation_id"
        case causationID = "causation_id"
        case extra
    }
}
