import Foundation
import PorteroTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The durable outbox through the binary: a receiver that is down, a kill -9 with mail queued, a code that expires
/// before any attempt got through, and a slow receiver that holds up nobody else.
@Suite("Outbox", .serialized)
struct OutboxTests {
    typealias Client = AuthFlowTests.Client

    /// The JSON log lines of `daemon` whose `event` is `event`.
    static func events(_ event: String, in daemon: PorteroProcess) -> [[String: Any]] {
        daemon.stderrText.split(separator: "\n").compactMap { line in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                object["event"] as? String == event
            else { return nil }
            return object
        }
    }

    /// An HTTP receiver on `port` (fixed, so it can come up after the daemon), recording into `directory/requests`.
    static func receiver(port: Int, in directory: TestDirectory) async throws -> ScriptServer {
        try await ScriptServer(
            script: PeerScripts.httpListener, name: "receiver-\(port).py",
            arguments: [directory.file("requests"), "200", "tcp", String(port)], in: directory)
    }

    static func requests(in directory: TestDirectory) -> [[String: Any]] {
        let folder = directory.file("requests")
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter {
            $0.hasSuffix(".json")
        }
        return names.sorted().compactMap { name in
            guard let data = FileManager.default.contents(atPath: folder + "/" + name),
                let request = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                let body = request["body"] as? String,
                let json = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            else { return nil }
            return json
        }
    }

    @Test("a receiver that is down gets the mail once it is back, after several backed-off attempts")
    func receiverComesBack() async throws {
        let directory = try TestDirectory("outbox-down")
        defer { directory.remove() }
        let port = try PorteroProcess.freePort()
        let arguments = [
            "--mail-transport", "webhook", "--mail-webhook", "http://127.0.0.1:\(port)/hook",
            "--mail-retry-max-delay", "2s",
        ]
        try await withDaemon(arguments: arguments) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "later@example.com", "password": "arrives at last"]).status
                    == 201)
            // Down: attempts fail and are spaced out, each one logged and recorded.
            #expect(await waitUntil(timeout: .seconds(30)) { Self.events("mail.deferred", in: daemon).count >= 3 })
            let deferred = Self.events("mail.deferred", in: daemon)
            #expect(deferred.map { $0["attempt"] as? String } == (1...deferred.count).map { String($0) })
            #expect(deferred.allSatisfy { $0["level"] as? String == "warning" })
            #expect(Self.events("mail.failed", in: daemon).isEmpty)

            let server = try await Self.receiver(port: port, in: directory)
            defer { server.stop() }
            #expect(await waitUntil(timeout: .seconds(20)) { !Self.events("mail.sent", in: daemon).isEmpty })
            let received = Self.requests(in: directory)
            #expect(received.count == 1)
            #expect(received.first?["to"] as? String == "later@example.com")
            #expect((received.first?["code"] as? String)?.count == 6)
            let sent = try #require(Self.events("mail.sent", in: daemon).first)
            #expect(Int(sent["attempt"] as? String ?? "") ?? 0 >= 4)
        }
    }

    @Test("kill -9 with mail queued: the restarted daemon continues the attempts and delivers")
    func killNineWithMailQueued() async throws {
        let directory = try TestDirectory("outbox-kill")
        defer { directory.remove() }
        let port = try PorteroProcess.freePort()
        let daemon = try PorteroProcess(
            arguments: [
                "--mail-transport", "webhook", "--mail-webhook", "http://127.0.0.1:\(port)/hook",
                "--mail-retry-max-delay", "1s",
            ])
        defer { daemon.directory.remove() }
        try await daemon.startAndWait()
        let client = Client(endpoint: try daemon.unix, daemon: daemon)
        #expect(
            try await client.post("/register", ["email": "crash@example.com", "password": "survives a crash"]).status
                == 201)
        #expect(await waitUntil(timeout: .seconds(30)) { Self.events("mail.deferred", in: daemon).count >= 2 })
        daemon.signal(SIGKILL)
        _ = try await daemon.waitForExit()
        let before = Self.events("mail.deferred", in: daemon).count

        let server = try await Self.receiver(port: port, in: directory)
        defer { server.stop() }
        try await daemon.startAndWait()
        #expect(await waitUntil(timeout: .seconds(20)) { !Self.events("mail.sent", in: daemon).isEmpty })
        await daemon.stop()
        let received = Self.requests(in: directory)
        #expect(received.count == 1)
        #expect(received.first?["to"] as? String == "crash@example.com")
        // The count went on from the store, not from zero.
        let sent = try #require(Self.events("mail.sent", in: daemon).first)
        #expect(Int(sent["attempt"] as? String ?? "") ?? 0 > before)
    }

    @Test("a message whose code expires undelivered is dead: mail.failed at error, and no more attempts")
    func deadWhenTheCodeExpires() async throws {
        let port = try PorteroProcess.freePort()
        let arguments = [
            "--mail-transport", "webhook", "--mail-webhook", "http://127.0.0.1:\(port)/hook",
            "--mail-retry-max-delay", "1s", "--code-ttl", "3s",
        ]
        try await withDaemon(arguments: arguments) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "never@example.com", "password": "never arrives"]).status
                    == 201)
            #expect(await waitUntil(timeout: .seconds(30)) { !Self.events("mail.failed", in: daemon).isEmpty })
            let failed = try #require(Self.events("mail.failed", in: daemon).first)
            #expect(failed["level"] as? String == "error")
            #expect(failed["kind"] as? String == "verify_email")
            #expect(Int(failed["attempts"] as? String ?? "") ?? 0 >= 1)
            let deferredAtDeath = Self.events("mail.deferred", in: daemon).count
            // Two more ticks of the worker: nothing is tried again.
            try await Task.sleep(for: .seconds(2.5))
            #expect(Self.events("mail.deferred", in: daemon).count == deferredAtDeath)
            #expect(Self.events("mail.failed", in: daemon).count == 1)
            let stats = try await HTTPTestClient.request("GET", "/admin/v1/stats", to: try daemon.unix)
            #expect(stats.json?["queued_mail"] as? Int == 0)
        }
    }

    @Test("a receiver stuck on one message does not hold up the next")
    func slowReceiverHoldsUpNobody() async throws {
        let directory = try TestDirectory("outbox-slow")
        defer { directory.remove() }
        let port = try PorteroProcess.freePort()
        let server = try await Self.receiver(port: port, in: directory)
        defer {
            FileManager.default.createFile(atPath: directory.file("requests/release"), contents: nil)
            server.stop()
        }
        let arguments = ["--mail-transport", "webhook", "--mail-webhook", "http://127.0.0.1:\(port)/hook"]
        try await withDaemon(arguments: arguments) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            // The receiver holds every message to hold…@ until the release file appears.
            #expect(
                try await client.post("/register", ["email": "hold@example.com", "password": "stuck for a while"])
                    .status == 201)
            #expect(await waitUntil(timeout: .seconds(20)) { Self.requests(in: directory).count == 1 })
            #expect(
                try await client.post("/register", ["email": "quick@example.com", "password": "goes right through"])
                    .status == 201)
            #expect(await waitUntil(timeout: .seconds(20)) { Self.events("mail.sent", in: daemon).count == 1 })
            #expect(Self.requests(in: directory).last?["to"] as? String == "quick@example.com")
            FileManager.default.createFile(atPath: directory.file("requests/release"), contents: nil)
            #expect(await waitUntil(timeout: .seconds(20)) { Self.events("mail.sent", in: daemon).count == 2 })
        }
    }
}
