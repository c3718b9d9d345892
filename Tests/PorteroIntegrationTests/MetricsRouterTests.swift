import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PorteroCore
import PorteroHTTP
import PorteroTestSupport
import ServiceLifecycle
import Synchronization
import Testing

/// `GET /metrics` in process: where it is served (the Unix socket always, TCP only with `metrics.tcp`) and that it
/// answers the exposition the daemon renders, in Prometheus' text format. The metrics themselves are checked through
/// the binary by ``MetricsTests``.
@Suite("GET /metrics in process")
struct MetricsRouterTests {
    static let exposition = "# TYPE portero_test_total counter\nportero_test_total 3\n"

    /// How often the exposition was rendered.
    final class Renders: Sendable {
        let count = Mutex(0)
    }

    static func router(_ harness: AuthHarness, overTCP: Bool, renders: Renders? = nil) -> Router<AppRequestContext> {
        PorteroRouter.build(
            auth: harness.auth,
            admin: AdminService(store: harness.store, clock: harness.clock.source),
            adminAccess: AdminAccess(daemonUID: getuid(), groupID: nil),
            trustedProxies: .none,
            tokens: { await harness.auth.currentTokens() },
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            metrics: MetricsEndpoint(overTCP: overTCP) {
                renders?.count.withLock { $0 += 1 }
                return Array(Self.exposition.utf8)
            }
        )
    }

    @Test("over TCP /metrics does not exist unless metrics.tcp: 404 for every method, never 405")
    func tcpIs404ByDefault() async throws {
        let harness = try await AuthHarness()
        let renders = Renders()
        try await Application(router: Self.router(harness, overTCP: false, renders: renders)).test(.router) {
            client in
            for (uri, method) in [
                ("/metrics", HTTPRequest.Method.get), ("/metrics", .post), ("/metrics", .head), ("/metrics/x", .get),
            ] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .notFound, "\(method) \(uri)")
            }
        }
        #expect(renders.count.withLock { $0 } == 0, "the exposition was rendered for a TCP client")
    }

    @Test("with metrics.tcp the exposition is served over TCP as Prometheus text")
    func tcpWhenEnabled() async throws {
        let harness = try await AuthHarness()
        try await Application(router: Self.router(harness, overTCP: true)).test(.router) { client in
            let response = try await client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/plain; version=0.0.4; charset=utf-8")
            #expect(String(buffer: response.body) == Self.exposition)
        }
    }

    @Test("on the Unix socket /metrics is served without metrics.tcp")
    func unixSocketAlways() async throws {
        let harness = try await AuthHarness()
        let directory = try TestDirectory("metrics")
        defer { directory.remove() }
        let path = directory.file("m.sock")
        let (running, serverRunning) = AsyncStream.makeStream(of: Void.self)
        let logger = Logger(label: "metrics-test") { _ in SwiftLogNoOpLogHandler() }
        let app = Application(
            router: Self.router(harness, overTCP: false),
            configuration: .init(address: .unixDomainSocket(path: path)),
            onServerRunning: { _ in serverRunning.yield() },
            logger: logger
        )
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            for await _ in running { break }
            let answer = try await HTTPTestClient.request("GET", "/metrics", to: .unix(path: path))
            #expect(answer.status == 200)
            #expect(answer.text == Self.exposition)
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
