/// A handle to a named database inside an ``Environment``.
///
/// Handles are opened once when the environment opens and stay valid until it closes.
public struct Database: Sendable, Hashable {
    /// The database's name.
    public let name: String
    let dbi: UInt32
}
