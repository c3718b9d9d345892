import Foundation
import PorteroTestSupport
import Testing

/// sd_notify against a real `NOTIFY_SOCKET` datagram listener: READY only once the store is loaded and both
/// listeners accept; STOPPING on SIGTERM.
@Suite("sd_notify", .serialized)
struct SystemdNotifyTests {
    @Test("READY=1 comes once both listeners accept, with a human STATUS; STOPPING=1 on SIGTERM")
    func readyAndStopping() async throws {
        let listener = try DatagramListener()
        let daemon = try PorteroProcess(environment: ["NOTIFY_SOCKET": listener.path])
        try daemon.start()
        var ready: [String: String]?
        let deadline = ContinuousClock.now + .seconds(30)
        while ready == nil && ContinuousClock.now < deadline {
            if let message = await listener.receive(timeout: .seconds(1)) {
                let fields = notifyAssignments(message)
                if fields["READY"] == "1" { ready = fields }
            }
        }
        let fields = try #require(ready, "no READY=1: \(daemon.stderrText)")
        // At the moment READY arrives, both listeners already answer.
        #expect(try await HTTPTestClient.request("GET", "/readyz", to: try daemon.tcp, timeout: 2).status == 200)
        #expect(try await HTTPTestClient.request("GET", "/readyz", to: try daemon.unix, timeout: 2).status == 200)
        let status = try #require(fields["STATUS"])
        #expect(status.hasPrefix("serving 0 users on 127.0.0.1:\(daemon.port ?? 0) and "))
        #expect(status.hasSuffix(daemon.socketPath ?? "-"))

        daemon.signal(SIGTERM)
        var stopping = false
        while !stopping, let message = await listener.receive(timeout: .seconds(10)) {
            stopping = notifyAssignments(message)["STOPPING"] == "1"
        }
        #expect(stopping)
        #expect(try await daemon.waitForExit() == 0)
        daemon.directory.remove()
    }
}
