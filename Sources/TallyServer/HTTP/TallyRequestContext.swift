public import Hummingbird

/// The request context of the Tally API: Hummingbird's core storage plus the key the
/// caller authenticated with (set by ``RequestMiddleware``).
public struct TallyRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated key, or `nil` when the request carried none.
    public var key: APIKey?
    /// Why the `Authorization` header was refused, if it was.
    var authenticationFailure: APIProblem?
    /// The request id: the client's `X-Request-Id`, or one made here.
    public var requestID = ""

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// Bodies are collected by the routes against the configured limit instead.
    public var maxUploadSize: Int { .max }
}
