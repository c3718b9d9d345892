public import Hummingbird
import PorteroCore

/// Turns the router's 404 for a path that exists under other methods into 405 `method_not_allowed` with `Allow`
/// (RFC 9110 §15.5.6); Hummingbird's router itself answers 404 for both.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    /// Each route's path components (`{name}` for a capture) and the methods it has.
    private let routes: [(components: [String], methods: [String])]

    init(routes: [(path: RouterPath, method: HTTPRequest.Method)]) {
        var methods: [String: [String]] = [:]
        for route in routes {
            methods[route.path.description, default: []].append(route.method.rawValue)
        }
        self.routes = methods.keys.sorted().map { path in
            (path.split(separator: "/").map(String.init), (methods[path] ?? []).sorted())
        }
    }

    func handle(
        _ request: Request,
        context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let allowed = allowedMethods(path: request.uri.path)
            guard !allowed.isEmpty else { throw error }
            throw PorteroError(
                .methodNotAllowed, "This route does not accept that method.", extra: .allowedMethods(allowed))
        }
    }

    /// The methods of the route `path` matches; empty when none does.
    func allowedMethods(path: String) -> [String] {
        let segments = path.split(separator: "/")
        for route in routes where route.components.count == segments.count {
            let matches = zip(route.components, segments).allSatisfy { pattern, segment in
                (pattern.hasPrefix("{") && pattern.hasSuffix("}")) || pattern == segment
            }
            if matches { return route.methods }
        }
        return []
    }
}
