import Foundation

/// How `tally serve` runs. Each setting comes from, in order of precedence: a command-line
/// flag, an environment variable (`TALLY_…`), the config file (`--config FILE` or
/// `TALLY_CONFIG`, a JSON object keyed by the setting's name), then the default.
public struct ServerConfiguration: Sendable, Equatable {
    /// The data directory (created if missing).
    public var data = "./data"
    /// `host:port` to listen on.
    public var listen = "127.0.0.1:8080"
    /// PEM certificate chain and private key; both set turns TLS on.
    public var tlsCertificate: String?
    public var tlsKey: String?
    /// Serve `/metrics` without a key.
    public var publicMetrics = false
    /// The largest request body (413 beyond it).
    public var bodyLimitBytes = 4 << 20
    /// The deepest JSON nesting a request may use.
    public var jsonDepthMax = 32
    /// Requests per second per key (0: no limit); bursts of twice this are allowed.
    public var rateLimitPerSecond = 2_000
    /// How long a request may take before 503 `timeout` (a write that timed out may still
    /// commit; retry it with the same ids).
    public var requestTimeoutSeconds = 30.0
    /// The most concurrent server-sent-event subscribers.
    public var subscribersMax = 256
    /// `/ready` fails while a projection is more events than this behind the log.
    public var readyLagEventsMax: UInt64 = 100_000
    /// The LMDB map size of the log in GiB.
    public var mapSizeGiB = 64
    /// `json` (one object a line) or `text`.
    public var logFormat = "json"
    /// Where `POST /v1/admin/backups` writes backups (each under a name given in the request).
    public var backupRoot = "./backups"
    /// Take a snapshot of the views every this many events (0: never).
    public var snapshotEveryEvents: UInt64 = 1_000_000
    /// How many automatic snapshots to keep.
    public var snapshotsKeep = 3
    /// trace, debug, info, notice, warning, error or critical.
    public var logLevel = "info"

    public init() {}

    /// A setting: its name (the config file's key and, with `--`, the flag), its
    /// environment variable and what it means.
    public struct Setting: Sendable {
        public var name: String
        public var environment: String
        public var help: String
    }

    /// Every setting, in the order `tally serve --help` lists them.
    public static let settings: [Setting] = [
        Setting(name: "data", environment: "TALLY_DATA", help: "the data directory (created if missing)"),
        Setting(name: "listen", environment: "TALLY_LISTEN", help: "host:port to listen on"),
        Setting(name: "tls-cert", environment: "TALLY_TLS_CERT", help: "PEM certificate chain; with tls-key turns on TLS"),
        Setting(name: "tls-key", environment: "TALLY_TLS_KEY", help: "PEM private key"),
        Setting(name: "public-metrics", environment: "TALLY_PUBLIC_METRICS", help: "serve /metrics without a key (true/false)"),
        Setting(name: "body-limit", environment: "TALLY_BODY_LIMIT", help: "largest request body in bytes"),
        Setting(name: "json-depth", environment: "TALLY_JSON_DEPTH", help: "deepest JSON nesting a request may use"),
        Setting(name: "rate-limit", environment: "TALLY_RATE_LIMIT", help: "requests per second per key, 0 for none"),
        Setting(name: "request-timeout", environment: "TALLY_REQUEST_TIMEOUT", help: "seconds before a request gets 503 timeout"),
        Setting(name: "subscribers-max", environment: "TALLY_SUBSCRIBERS_MAX", help: "most concurrent event-stream subscribers"),
        Setting(name: "ready-lag", environment: "TALLY_READY_LAG", help: "events a projection may lag before /ready fails"),
        Setting(name: "map-size", environment: "TALLY_MAP_SIZE", help: "LMDB map size of the log in GiB"),
        Setting(name: "log-format", environment: "TALLY_LOG_FORMAT", help: "json or text"),
        Setting(name: "backup-root", environment: "TALLY_BACKUP_ROOT", help: "where POST /v1/admin/backups writes backups"),
        Setting(name: "snapshot-every", environment: "TALLY_SNAPSHOT_EVERY", help: "take a views snapshot every N events, 0 for never"),
        Setting(name: "snapshots-keep", environment: "TALLY_SNAPSHOTS_KEEP", help: "how many automatic snapshots to keep"),
        Setting(name: "log-level", environment: "TALLY_LOG_LEVEL", help: "trace, debug, info, notice, warning, error, critical"),
    ]

    /// A bad setting: which, from where, and why.
    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Sets the setting `name` from its text form.
    public mutating func set(_ name: String, _ value: String, source: String) throws(Invalid) {
        func number<T: FixedWidthInteger>(_: T.Type) throws(Invalid) -> T {
            guard let parsed = T(value), parsed >= 0 else { throw Invalid(description: "\(source): \(name) must be a whole number ≥ 0, not \(value)") }
            return parsed
        }
        switch name {
        case "data": self.data = value
        case "listen":
            guard Self.hostAndPort(value) != nil else {
                throw Invalid(description: "\(source): listen must be host:port (for example 127.0.0.1:8080), not \(value)")
            }
            self.listen = value
        case "tls-cert": self.tlsCertificate = value
        case "tls-key": self.tlsKey = value
        case "public-metrics":
            switch value.lowercased() {
            case "true", "1", "yes": self.publicMetrics = true
            case "false", "0", "no": self.publicMetrics = false
            default: throw Invalid(description: "\(source): public-metrics must be true or false, not \(value)")
            }
        case "body-limit": self.bodyLimitBytes = try number(Int.self)
        case "json-depth": self.jsonDepthMax = max(1, try number(Int.self))
        case "rate-limit": self.rateLimitPerSecond = try number(Int.self)
        case "request-timeout":
            guard let seconds = Double(value), seconds > 0 else {
                throw Invalid(description: "\(source): request-timeout must be a number of seconds > 0, not \(value)")
            }
            self.requestTimeoutSeconds = seconds
        case "subscribers-max": self.subscribersMax = try number(Int.self)
        case "ready-lag": self.readyLagEventsMax = try number(UInt64.self)
        case "map-size": self.mapSizeGiB = max(1, try number(Int.self))
        case "backup-root": self.backupRoot = value
        case "snapshot-every": self.snapshotEveryEvents = try number(UInt64.self)
        case "snapshots-keep": self.snapshotsKeep = max(1, try number(Int.self))
        case "log-format":
            guard ["json", "text"].contains(value) else { throw Invalid(description: "\(source): log-format must be json or text, not \(value)") }
            self.logFormat = value
        case "log-level":
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(value) else {
                throw Invalid(description: "\(source): log-level must be one of \(levels.joined(separator: ", ")), not \(value)")
            }
            self.logLevel = value
        default:
            throw Invalid(
                description: "\(source): there is no setting \(name); the settings are \(Self.settings.map(\.name).joined(separator: ", "))")
        }
    }

    /// Resolves the configuration from `flags` (setting name → value, only those given),
    /// `environment` and the config file, in that order of precedence.
    public static func resolve(flags: [String: String], configFile: String?, environment: [String: String]) throws(Invalid)
        -> ServerConfiguration
    {
        var configuration = ServerConfiguration()
        if let path = configFile ?? environment["TALLY_CONFIG"] {
            for (name, value) in try Self.readFile(path) { try configuration.set(name, value, source: path) }
        }
        for setting in Self.settings {
            if let value = environment[setting.environment] { try configuration.set(setting.name, value, source: setting.environment) }
        }
        for setting in Self.settings {
            if let value = flags[setting.name] { try configuration.set(setting.name, value, source: "--\(setting.name)") }
        }
        if (configuration.tlsCertificate == nil) != (configuration.tlsKey == nil) {
            throw Invalid(description: "TLS needs both tls-cert and tls-key")
        }
        return configuration
    }

    private static func readFile(_ path: String) throws(Invalid) -> [(String, String)] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw Invalid(description: "cannot read the config file \(path)")
        }
        let parsed: JSONValue
        do throws(APIProblem) { parsed = try JSONValue.parse(Array(data)) } catch { throw Invalid(description: "\(path): \(error.detail)") }
        guard case .object(let pairs) = parsed.kind else {
            throw Invalid(description: "\(path) must hold one JSON object, for example {\"listen\": \"0.0.0.0:8080\"}")
        }
        return try pairs.map { (key, value) throws(Invalid) -> (String, String) in
            switch value.kind {
            case .string(let text): return (key, text)
            case .number(let text): return (key, text)
            case .bool(let flag): return (key, flag ? "true" : "false")
            default: throw Invalid(description: "\(path): \(key) must be a string, number or boolean")
            }
        }
    }

    /// The host and port of `listen`.
    public var hostAndPort: (host: String, port: Int) {
        Self.hostAndPort(self.listen) ?? ("127.0.0.1", 8080)
    }

    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port) else {
            return nil
        }
        let host = String(text[..<colon])
        return host.isEmpty ? nil : (host, port)
    }
}
