public import Hummingbird
import HummingbirdCore
import UnixSignals
public import Logging
public import ServiceLifecycle
public import Tally
import NIOConcurrencyHelpers

/// Everything `tally serve` runs: the ledger (log and write models), the views and their
/// projection workers, the API keys, and the HTTP application in front of them.
///
/// ```swift
/// let api = try await TallyAPI.open(configuration: configuration, logger: logger)
/// try await api.run()   // until SIGTERM or SIGINT; closes everything cleanly
/// ```
public final class TallyAPI: Sendable {
    public let ledger: Ledger
    public let views: ViewStore
    public let workers: [ProjectionWorker]
    public let keys: KeyStore
    /// HMAC request signing (the master secret in `<data>/signing.secret`).
    public let signing: RequestSigning
    public let configuration: ServerConfiguration
    let logger: Logger
    let limiter: RateLimiter
    /// Answers requests that run past the configured time with 503 `timeout`.
    let deadlines: RequestDeadlines
    let subscribers: SubscriberRegistry

    private init(
        ledger: Ledger, views: ViewStore, workers: [ProjectionWorker], keys: KeyStore, signing: RequestSigning, configuration: ServerConfiguration,
        logger: Logger
    ) {
        self.signing = signing
        self.ledger = ledger
        self.views = views
        self.workers = workers
        self.keys = keys
        self.configuration = configuration
        self.logger = logger
        self.limiter = RateLimiter(rate: configuration.rateLimitPerSecond)
        self.deadlines = RequestDeadlines(seconds: configuration.requestTimeoutSeconds)
        self.subscribers = SubscriberRegistry(max: configuration.subscribersMax)
    }

    /// Opens (creating if missing) the data directory of `configuration`.
    ///
    /// - Throws: ``LogError`` (`locked` when another process has the data directory,
    ///   `corruption`, `storage_error`).
    public static func open(configuration: ServerConfiguration, logger: Logger) async throws -> TallyAPI {
        let ledger = try await Ledger.open(
            at: configuration.data,
            configuration: LogConfiguration(mapSizeBytes: configuration.mapSizeGiB << 30, createIfMissing: true),
            logger: logger)
        do {
            let keys = try KeyStore(log: ledger.log)
            let signing = try RequestSigning(dataDirectory: configuration.data)
            let views = try ViewStore.open(dataDirectory: configuration.data, projections: Ledger.builtInProjections)
            do {
                let workers = try Ledger.builtInProjections.map { projection in
                    try ProjectionWorker(projection: projection, log: ledger.log, views: views, logger: logger)
                }
                return TallyAPI(
                    ledger: ledger, views: views, workers: workers, keys: keys, signing: signing, configuration: configuration, logger: logger)
            } catch {
                views.close()
                throw error
            }
        } catch {
            await ledger.close()
            throw error
        }
    }

    /// The worker of the projection `name`.
    func worker(_ name: String) -> ProjectionWorker? {
        self.workers.first { $0.projection.name == name }
    }

    /// The HTTP application (router, middleware, TLS when configured), without the ledger's
    /// services; ``run()`` adds those. Tests drive it with HummingbirdTesting.
    public func makeApplication(
        services: [any Service] = [], onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }
    ) throws -> some ApplicationProtocol {
        let (host, port) = self.configuration.hostAndPort
        let router = self.makeRouter().router
        let server: HTTPServerBuilder
        if let certificate = self.configuration.tlsCertificate, let key = self.configuration.tlsKey {
            server = try TLSSetup.server(certificate: certificate, key: key)
        } else {
            server = .http1()
        }
        return Application(
            router: router, server: server,
            configuration: .init(address: .hostname(host, port: port), serverName: "tally"),
            services: services,
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? port
                onListening(host, port)
            },
            logger: self.logger)
    }

    /// Serves until SIGTERM or SIGINT, then stops accepting, ends the event streams, lets
    /// in-flight requests and commits finish, stops the projection workers and closes the
    /// ledger. Nothing acknowledged is lost.
    ///
    /// - Parameter onListening: hears the host and port once the server listens (the port
    ///   the system chose when the configuration says 0).
    public func run(onListening: @escaping @Sendable (_ host: String, _ port: Int) -> Void = { _, _ in }) async throws {
        let app = try self.makeApplication(onListening: onListening)
        // ServiceGroup shuts services down last to first: streams, HTTP, projections, ledger.
        // The projections follow the log together: one subscription, one views commit a batch.
        var services: [any Service] = [LedgerCloser(api: self), ProjectionGroup(self.workers)]
        if self.configuration.snapshotEveryEvents > 0 { services.append(SnapshotScheduler(api: self)) }
        services.append(app)
        services.append(SubscriberCloser(registry: self.subscribers))
        let group = ServiceGroup(
            configuration: .init(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: self.logger))
        try await group.run()
    }

    /// Closes the views and the ledger (queued commits finish first).
    public func close() async {
        self.views.close()
        await self.ledger.close()
    }
}

/// Closes the ledger when the group shuts down (after the server and workers stopped).
struct LedgerCloser: Service {
    let api: TallyAPI

    func run() async throws {
        try? await gracefulShutdown()
        await self.api.close()
        self.api.logger.info("ledger closed", metadata: ["head_position": "\(self.api.ledger.log.headPosition)"])
    }
}

/// Ends every event stream first on shutdown, so the server's drain does not wait on them.
struct SubscriberCloser: Service {
    let registry: SubscriberRegistry

    func run() async throws {
        try? await gracefulShutdown()
        self.registry.closeAll()
    }
}

/// The open server-sent-event streams: counted against the limit, told to end on shutdown.
final class SubscriberRegistry: Sendable {
    let max: Int
    private let state = NIOLockedValueBox<(open: Int, closed: Bool)>((0, false))

    init(max: Int) {
        self.max = max
    }

    /// Counts a new stream in; `false` when the limit is reached or the server is stopping.
    func enter() -> Bool {
        self.state.withLockedValue { state in
            guard !state.closed, state.open < self.max else { return false }
            state.open += 1
            return true
        }
    }

    func leave() {
        self.state.withLockedValue { $0.open -= 1 }
    }

    var count: Int { self.state.withLockedValue { $0.open } }

    /// Whether streams should end (the server is shutting down).
    var isClosed: Bool { self.state.withLockedValue { $0.closed } }

    func closeAll() {
        self.state.withLockedValue { $0.closed = true }
    }
}

extension TallyAPI {
    /// The router with every route of the API, and the documented list of them.
    func makeRouter() -> (router: Router<TallyRequestContext>, routes: [RouteSpec]) {
        let routes = APIRoutes(api: self)
        routes.addSystemRoutes()
        routes.addEventRoutes()
        routes.addSubscriptionRoutes()
        routes.addPaymentRoutes()
        routes.addOperationsRoutes()
        routes.addAuditRoutes()
        routes.addAdminRoutes()
        routes.addRecoveryRoutes()
        return (routes.router, routes.specs)
    }

    /// Every route the server answers, with what each needs (for docs and tests).
    public var routes: [RouteSpec] { self.makeRouter().routes }
}
