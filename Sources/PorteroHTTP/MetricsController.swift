import HTTPTypes
public import Hummingbird
import NIOCore
import PorteroCore

/// How `GET /metrics` answers: the exposition the daemon renders, and whether TCP may ask for it.
public struct MetricsEndpoint: Sendable {
    /// `metrics.tcp`: also serve `/metrics` on TCP; otherwise it is 404 there, as if it did not exist.
    public var overTCP: Bool
    /// The Prometheus text exposition now (PorteroServer brings the gauges up to date first).
    public var render: @Sendable () async -> [UInt8]

    public init(overTCP: Bool, render: @escaping @Sendable () async -> [UInt8]) {
        self.overTCP = overTCP
        self.render = render
    }
}

/// `GET /metrics` in the Prometheus text format (version 0.0.4): on the Unix socket always, on TCP only with
/// `metrics.tcp: true`. Nothing in it names a user, an address or a secret.
struct MetricsController: Sendable {
    static let path = "/metrics"
    static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    let endpoint: MetricsEndpoint

    var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get(RouterPath(Self.path)) { _, context in
            guard context.isUnixSocket || endpoint.overTCP else { throw PorteroError(.notFound, "No such route.") }
            let bytes = await endpoint.render()
            return Response(
                status: .ok, headers: [.contentType: Self.contentType],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        }
        return routes
    }
}
