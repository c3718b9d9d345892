import Dispatch
import HTTPTypes
public import Hummingbird
import Metrics
import Synchronization

/// The outermost middleware: counts every answer in `portero_http_requests_total{route, method, status}` and times
/// it in the histogram `portero_http_request_duration_seconds{route, method, status}` (swift-metrics; the daemon
/// bootstraps the backend).
///
/// Labels stay bounded whatever clients send: `route` is the pattern the router matched (`/admin/v1/users/:user`),
/// never the raw path, and every path no route matched is `unmatched`; `method` is one of the methods the API uses,
/// any other is `other`; `status` is the answer's code.
public struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The label of every path no route matched.
    public static var unmatchedRoute: String { "unmatched" }

    private let cache = MetricsCache()

    public init() {}

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            let response = try await next(request, context)
            record(request, context, response.status, start)
            return response
        } catch {
            record(request, context, (error as? any HTTPResponseError)?.status ?? .internalServerError, start)
            throw error
        }
    }

    private func record(_ request: Request, _ context: Context, _ status: HTTPResponse.Status, _ start: UInt64) {
        let route = context.endpointPath.flatMap { $0 == "NotFound" ? nil : $0 } ?? Self.unmatchedRoute
        let key = MetricsCache.Key(route: route, method: Self.methodLabel(request.method), status: status.code)
        let metrics = cache.metrics(for: key)
        metrics.counter.increment()
        metrics.timer.recordNanoseconds(Int64(clamping: DispatchTime.now().uptimeNanoseconds &- start))
    }

    /// The method's name when it is one the API uses, else `other` (a client can send any token as a method).
    static func methodLabel(_ method: HTTPRequest.Method) -> String {
        switch method {
        case .get, .head, .post, .put, .patch, .delete, .options: method.rawValue
        default: "other"
        }
    }

    /// One counter and one timer per label set, made once: the factory's lookup is not on every request's path.
    final class MetricsCache: Sendable {
        struct Key: Hashable {
            let route: String
            let method: String
            let status: Int
        }

        struct Entry: Sendable {
            let counter: Counter
            let timer: Metrics.Timer
        }

        private let storage = Mutex<[Key: Entry]>([:])

        func metrics(for key: Key) -> Entry {
            storage.withLock { storage in
                if let metrics = storage[key] { return metrics }
                let dimensions = [("route", key.route), ("method", key.method), ("status", String(key.status))]
                let metrics = Entry(
                    counter: Counter(label: "portero_http_requests_total", dimensions: dimensions),
                    timer: Metrics.Timer(label: "portero_http_request_duration_seconds", dimensions: dimensions))
                storage[key] = metrics
                return metrics
            }
        }
    }
}
