/// What an append expects of a stream's current version; checked inside the commit.
public enum ExpectedVersion: Sendable, Hashable, CustomStringConvertible {
    /// Append whatever the stream's state.
    case any
    /// The stream must not exist yet.
    case noStream
    /// The stream's last event must have exactly this version.
    case exact(UInt64)

    /// Whether a stream whose last version is `current` (`nil`: no stream) satisfies this.
    public func accepts(current: UInt64?) -> Bool {
        switch self {
        case .any: return true
        case .noStream: return current == nil
        case .exact(let version): return current == version
        }
    }

    /// `any`, `no-stream` or the version number, as the CLI writes it.
    public var description: String {
        switch self {
        case .any: return "any"
        case .noStream: return "no-stream"
        case .exact(let version): return String(version)
        }
    }

    /// Parses the CLI form: `any`, `no-stream` or a version number.
    public init?(parsing text: String) {
        switch text {
        case "any": self = .any
        case "no-stream", "no_stream": self = .noStream
        default:
            guard let version = UInt64(text) else { return nil }
            self = .exact(version)
        }
    }
}
