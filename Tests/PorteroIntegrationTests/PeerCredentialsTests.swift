import Foundation
import Hummingbird
import Logging
import PorteroHTTP
import PorteroTestSupport
import ServiceLifecycle
import Testing

/// ``AppRequestContext/peerCredentials()``, the one `SO_PEERCRED` reader, on a real Unix-socket request to an
/// in-process server; runs without root, unlike ``AdminAccessTests``.
@Suite("SO_PEERCRED on the request's own channel")
struct PeerCredentialsTests {
    @Test("a Unix-socket request carries the uid, gid and pid of the process that connected")
    func unixSocketPeerIsThisProcess() async throws {
        let directory = try TestDirectory("peer")
        defer { directory.remove() }
        let path = directory.file("peer.sock")
        let router = Router(context: AppRequestContext.self)
        router.get("/peer") { _, context -> String in
            guard let peer = await context.peerCredentials() else { return "none" }
            return "\(peer.uid) \(peer.gid) \(peer.pid)"
        }
        let (running, serverRunning) = AsyncStream.makeStream(of: Void.self)
        let logger = Logger(label: "peer-credentials-test") { _ in SwiftLogNoOpLogHandler() }
        let app = Application(
            router: router,
            configuration: .init(address: .unixDomainSocket(path: path)),
            onServerRunning: { _ in serverRunning.yield() },
            logger: logger
        )
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            for await _ in running { break }
            let answer = try await HTTPTestClient.request("GET", "/peer", to: .unix(path: path))
            #expect(answer.status == 200)
            #expect(answer.text == "\(geteuid()) \(getegid()) \(getpid())")
            await services.triggerGracefulShutdown()
            try await group.waitForAll()
        }
    }
}
