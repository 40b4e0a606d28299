import NIOConcurrencyHelpers

/// The API's path templates and the methods each takes, so that a request for a path that
/// exists with a method it does not take is answered 405 with `Allow`, not 404.
final class RouteTable: Sendable {
    private let routes = NIOLockedValueBox<[(segments: [Substring], methods: [String])]>([])

    /// Records that `path` (a template with `{name}` segments) takes `method`.
    func add(method: String, path: String) {
        let segments = path.split(separator: "/")
        self.routes.withLockedValue { routes in
            if let index = routes.firstIndex(where: { $0.segments == segments }) {
                if !routes[index].methods.contains(method) { routes[index].methods.append(method) }
            } else {
                routes.append((segments, [method]))
            }
        }
    }

    /// The methods of the first template `path` matches, or `nil` when it matches none.
    func methods(for path: String) -> [String]? {
        let parts = path.split(separator: "/")
        return self.routes.withLockedValue { routes in
            routes.first { route in
                route.segments.count == parts.count
                    && zip(route.segments, parts).allSatisfy { template, part in template.hasPrefix("{") || template == part }
            }?.methods.sorted()
        }
    }
}
