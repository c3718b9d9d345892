import Foundation
import PorteroTestSupport
import Testing

/// `mail.transport: webhook` through the binary: an `https://` receiver with a private CA that checks the
/// signature, and the same `Idempotency-Key` as the message id.
@Suite("Webhook transport end to end", .serialized, .enabled("needs openssl and python3") { TLSTests.canRun })
struct WebhookTransportTests {
    typealias Client = AuthFlowTests.Client

    @Test("https with a private CA: the receiver checks the signature, and the idempotency key is the message id")
    func httpsSignedDelivery() async throws {
        let directory = try TestDirectory("webhook-https")
        defer { directory.remove() }
        _ = try await TLSTests.makeCertificate("hook", in: directory)
        let secret = "whsec-test-only-8c1f2e"
        let secretFile = try directory.write("hook.secret", secret + "\n")
        let server = try await ScriptServer(
            script: PeerScripts.httpListener, name: "https_listener.py",
            arguments: [
                directory.file("requests"), "200", "tcp", "0", "--tls", directory.file("hook.pem"),
                directory.file("hook.key"), "--secret", secretFile,
            ], in: directory)
        defer { server.stop() }
        let arguments = [
            "--mail-transport", "webhook", "--mail-webhook", "https://127.0.0.1:\(server.ready)/hooks/mail",
            "--mail-webhook-ca", directory.file("hook.pem"),
        ]
        try await withDaemon(arguments: arguments, environment: ["PORTERO_MAIL_WEBHOOK_SECRET": secret]) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "hook@example.com", "password": "over https"]).status
                    == 201)
            let recorded = directory.file("requests/1.json")
            #expect(await waitUntil(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: recorded) })
            let request = try #require(
                try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: recorded)))
                    as? [String: Any])
            #expect(request["signature_ok"] as? Bool == true)
            #expect(request["path"] as? String == "/hooks/mail")
            let headers = try #require(request["headers"] as? [String: String])
            let body = try #require(
                try JSONSerialization.jsonObject(with: Data((request["body"] as? String ?? "").utf8)) as? [String: Any])
            #expect(body["to"] as? String == "hook@example.com")
            #expect(await waitUntil(timeout: .seconds(10)) { !OutboxTests.events("mail.sent", in: daemon).isEmpty })
            let sent = try #require(OutboxTests.events("mail.sent", in: daemon).first)
            #expect(headers["idempotency-key"] == sent["mail_id"] as? String)
            await daemon.stop()
            #expect(!daemon.stderrText.contains(secret))
        }
    }

    @Test("a receiver whose certificate is not signed by the configured CA gets nothing")
    func untrustedCertificate() async throws {
        let directory = try TestDirectory("webhook-untrusted")
        defer { directory.remove() }
        _ = try await TLSTests.makeCertificate("hook", in: directory)
        _ = try await TLSTests.makeCertificate("other", in: directory)
        let server = try await ScriptServer(
            script: PeerScripts.httpListener, name: "https_listener.py",
            arguments: [
                directory.file("requests"), "200", "tcp", "0", "--tls", directory.file("hook.pem"),
                directory.file("hook.key"),
            ], in: directory)
        defer { server.stop() }
        let arguments = [
            "--mail-transport", "webhook", "--mail-webhook", "https://127.0.0.1:\(server.ready)/hooks/mail",
            "--mail-webhook-ca", directory.file("other.pem"), "--mail-retry-max-delay", "1s",
        ]
        try await withDaemon(arguments: arguments) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "mitm@example.com", "password": "not trusted"]).status
                    == 201)
            #expect(
                await waitUntil(timeout: .seconds(20)) { OutboxTests.events("mail.deferred", in: daemon).count >= 2 })
            #expect(!FileManager.default.fileExists(atPath: directory.file("requests/1.json")))
        }
    }
}
