/// Which way a stream read goes.
public enum ReadDirection: Sendable, Hashable {
    /// Oldest first.
    case forward
    /// Newest first.
    case backward
}
