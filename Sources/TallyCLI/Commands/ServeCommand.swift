import ArgumentParser
import Foundation
import Logging
import Tally
import TallyServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP API on the embedded LMDB ledger (default ./data on 127.0.0.1:8080).",
        discussion: """
            Every setting comes from a flag, else its environment variable, else the config
            file (--config FILE or TALLY_CONFIG: one JSON object keyed by setting name),
            else the default:
            \(ServerConfiguration.settings.map { "  --\($0.name) (\($0.environment))\n      \($0.help)" }.joined(separator: "\n"))

            Requests need an API key (`Authorization: Bearer tally_…`) except /health,
            /ready and /openapi.yaml. Create the first one with
              tally keys create --role admin --name NAME
            while the server is stopped, then more through POST /v1/admin/keys.
            SIGTERM or SIGINT: stops accepting, finishes in-flight requests and commits,
            closes, exits 0.
            """)

    @Option(help: "A JSON config file (lowest precedence after the defaults).") var config: String?
    @Option(help: "The data directory.") var data: String?
    @Option(help: "host:port to listen on.") var listen: String?
    @Option(name: .customLong("tls-cert"), help: "PEM certificate chain (with --tls-key: HTTPS).") var tlsCert: String?
    @Option(name: .customLong("tls-key"), help: "PEM private key.") var tlsKey: String?
    @Flag(name: .customLong("public-metrics"), help: "Serve /metrics without a key.") var publicMetrics = false
    @Option(name: .customLong("body-limit"), help: "Largest request body in bytes (default 4 MiB).") var bodyLimit: String?
    @Option(name: .customLong("json-depth"), help: "Deepest JSON nesting (default 32).") var jsonDepth: String?
    @Option(name: .customLong("rate-limit"), help: "Requests per second per key, 0 for none (default 2000).") var rateLimit: String?
    @Option(name: .customLong("request-timeout"), help: "Seconds before 503 timeout (default 30).") var requestTimeout: String?
    @Option(name: .customLong("subscribers-max"), help: "Most concurrent event streams (default 256).") var subscribersMax: String?
    @Option(name: .customLong("ready-lag"), help: "Events a projection may lag before /ready fails (default 100000).") var readyLag: String?
    @Option(name: .customLong("map-size"), help: "LMDB map size of the log in GiB (default 64).") var mapSize: String?
    @Option(name: .customLong("log-format"), help: "json or text (default json).") var logFormat: String?
    @Option(name: .customLong("log-level"), help: "trace … critical (default info).") var logLevel: String?
    @Option(name: .customLong("backup-root"), help: "Where POST /v1/admin/backups writes backups (default ./backups).") var backupRoot: String?
    @Option(name: .customLong("snapshot-every"), help: "Snapshot the views every N events, 0 for never (default 1000000).") var snapshotEvery: String?
    @Option(name: .customLong("snapshots-keep"), help: "Automatic snapshots to keep (default 3).") var snapshotsKeep: String?

    func run() async throws {
        var flags: [String: String] = [:]
        flags["data"] = self.data
        flags["listen"] = self.listen
        flags["tls-cert"] = self.tlsCert
        flags["tls-key"] = self.tlsKey
        if self.publicMetrics { flags["public-metrics"] = "true" }
        flags["body-limit"] = self.bodyLimit
        flags["json-depth"] = self.jsonDepth
        flags["rate-limit"] = self.rateLimit
        flags["request-timeout"] = self.requestTimeout
        flags["subscribers-max"] = self.subscribersMax
        flags["ready-lag"] = self.readyLag
        flags["map-size"] = self.mapSize
        flags["log-format"] = self.logFormat
        flags["log-level"] = self.logLevel
        flags["backup-root"] = self.backupRoot
        flags["snapshot-every"] = self.snapshotEvery
        flags["snapshots-keep"] = self.snapshotsKeep
        let configuration: ServerConfiguration
        do {
            configuration = try ServerConfiguration.resolve(flags: flags, configFile: self.config, environment: ProcessInfo.processInfo.environment)
        } catch {
            Output.error(CLIError(code: "invalid_configuration", message: error.description), json: false)
            throw ExitCode(2)
        }
        JSONLogHandler.bootstrap(format: configuration.logFormat, level: Logger.Level(rawValue: configuration.logLevel) ?? .info)
        let logger = Logger(label: "tally")
        try await runReporting(json: false) {
            let api = try await TallyAPI.open(configuration: configuration, logger: logger)
            let live = api.keys.all.filter { !$0.revoked }
            logger.info(
                "tally serving",
                metadata: [
                    "listen": "\(configuration.tlsCertificate == nil ? "http" : "https")://\(configuration.listen)",
                    "data": "\(configuration.data)", "head_position": "\(api.ledger.log.headPosition)", "keys": "\(live.count)",
                ])
            if live.isEmpty {
                logger.warning(
                    "no API keys yet: every route but /health, /ready and /openapi.yaml answers 401; stop the server and run `tally keys create --role admin --name NAME`")
            }
            do {
                let scheme = configuration.tlsCertificate == nil ? "http" : "https"
                try await api.run { host, port in
                    logger.info("listening", metadata: ["url": "\(scheme)://\(host):\(port)"])
                    // One plain line on stdout for people and scripts waiting for the server.
                    FileHandle.standardOutput.write(Data("tally listening on \(scheme)://\(host):\(port)\n".utf8))
                }
            } catch {
                await api.close()
                throw error
            }
        }
    }
}
