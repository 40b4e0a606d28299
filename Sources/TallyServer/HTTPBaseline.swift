import Hummingbird
import Logging

/// The HTTP floor of `tally bench http`: the same Hummingbird server stack as `tally serve`
/// with no middleware, no keys and no ledger, answering every `POST` by collecting the body
/// and returning a fixed small JSON, and every `GET` with the same JSON.
///
/// What it reaches under the same load generator on the same machine is the most any route
/// of the API can: the benchmark reports Tally's HTTP rates as a ratio to it, which separates
/// what the server adds per request from what HTTP on loopback costs here.
public enum HTTPBaseline {
    /// Serves on `127.0.0.1` (port 0: the system picks) until the calling task is cancelled.
    ///
    /// - Parameter onListening: hears the port once the server listens.
    public static func run(onListening: @escaping @Sendable (_ port: Int) -> Void) async throws {
        let router = Router()
        let answer = ByteBuffer(string: #"{"positions":[1],"stream_version":1}"#)
        router.on("**", method: .post) { request, _ -> Response in
            _ = try await request.body.collect(upTo: 8 << 20)
            return Response(status: .created, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
        }
        router.on("**", method: .get) { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: answer))
        }
        var logger = Logger(label: "tally.bench.baseline")
        logger.logLevel = .critical
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "tally-baseline"),
            onServerRunning: { channel in onListening(channel.localAddress?.port ?? 0) }, logger: logger)
        try await app.runService(gracefulShutdownSignals: [])
    }
}
