/// What a route needs from the caller.
public enum Permission: String, Sendable, CaseIterable {
    /// No key: `/health`, `/ready`, `/openapi.yaml`.
    case open
    /// Queries and subscriptions.
    case read
    /// Appends and domain commands.
    case write
    /// Audit exports.
    case audit
    /// Keys, verification and the other admin routes.
    case admin
}

/// The role of an API key: reader (queries, subscribe), writer (reader + appends and domain
/// commands), auditor (reader + audit export), admin (everything).
public enum Role: String, Sendable, CaseIterable, Codable {
    case reader, writer, auditor, admin

    /// Whether a key with this role may use a route that needs `permission`.
    public func allows(_ permission: Permission) -> Bool {
        switch (self, permission) {
        case (_, .open), (_, .read), (.admin, _): true
        case (.writer, .write), (.auditor, .audit): true
        default: false
        }
    }
}
