import Foundation
import PorteroCore
import PorteroMail
import PorteroTestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Webhook transport")
struct WebhookMailerTests {
    enum Transport: String, CaseIterable, Sendable {
        case tcp
        case unix
    }

    /// Starts the HTTP listener answering `status`; returns it and the webhook target that reaches it.
    static func listener(_ transport: Transport, status: Int, in directory: TestDirectory) async throws
        -> (ScriptServer, String)
    {
        var arguments = [directory.file("requests"), String(status), transport.rawValue]
        let socket = directory.file("hook.sock")
        if transport == .unix { arguments.append(socket) }
        let server = try await ScriptServer(
            script: PeerScripts.httpListener, name: "http_listener.py", arguments: arguments, in: directory
        )
        let target = transport == .unix ? "unix:\(socket):/hooks/mail" : "http://127.0.0.1:\(server.ready)/hooks/mail"
        return (server, target)
    }

    @Test(arguments: Transport.allCases)
    func postsTheJSONWithAllFields(transport: Transport) async throws {
        let directory = try TestDirectory("webhook")
        defer { directory.remove() }
        let (server, target) = try await Self.listener(transport, status: 202, in: directory)
        defer { server.stop() }
        let user = UUID()
        let message = MailTemplates.verification(
            code: "012345", to: "alice@example.test",
            userID: user)

        let mailer = try WebhookMailer(target: target)
        try await mailer.deliver(message)
        await mailer.shutdown()

        let recorded = directory.file("requests/1.json")
        #expect(await waitUntil { FileManager.default.fileExists(atPath: recorded) })
        let request = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: recorded))) as? [String: Any]
        )
        #expect(request["method"] as? String == "POST")
        #expect(request["path"] as? String == "/hooks/mail")
        let headers = try #require(request["headers"] as? [String: String])
        #expect(headers["content-type"] == "application/json")
        #expect(headers["idempotency-key"] == message.id.uuidString.lowercased())
        #expect(headers["x-portero-signature"] == nil)
        #expect(headers["host"] == (transport == .unix ? "localhost" : target.split(separator: "/")[1].description))
        let bodyText = try #require(request["body"] as? String)
        let body = try #require(try JSONSerialization.jsonObject(with: Data(bodyText.utf8)) as? [String: Any])
        #expect(Set(body.keys) == ["to", "subject", "text", "kind", "code", "user_id"])
        #expect(body["to"] as? String == "alice@example.test")
        #expect(body["subject"] as? String == message.subject)
        #expect(body["text"] as? String == message.text)
        #expect(body["kind"] as? String == "verify_email")
        #expect(body["code"] as? String == "012345")
        #expect(body["user_id"] as? String == user.uuidString.lowercased())
    }

    @Test func absentCodeAndUserAreNull() async throws {
        let directory = try TestDirectory("webhook")
        defer { directory.remove() }
        let (server, target) = try await Self.listener(.unix, status: 200, in: directory)
        defer { server.stop() }
        let message = OutboxMail(
            id: UUID(), to: "a@example.test", subject: "S", text: "T\n", kind: "verify_email", queuedAt: Date())

        let mailer = try WebhookMailer(target: target)
        try await mailer.deliver(message)
        await mailer.shutdown()

        let recorded = directory.file("requests/1.json")
        #expect(await waitUntil { FileManager.default.fileExists(atPath: recorded) })
        let request = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: recorded)))
        let bodyText = try #require((request as? [String: Any])?["body"] as? String)
        #expect(bodyText.contains("\"code\":null"))
        #expect(bodyText.contains("\"user_id\":null"))
    }

    @Test(arguments: Transport.allCases)
    func aServerErrorIsAMailError(transport: Transport) async throws {
        let directory = try TestDirectory("webhook")
        defer { directory.remove() }
        let (server, target) = try await Self.listener(transport, status: 500, in: directory)
        defer { server.stop() }
        let message = MailTemplates.passwordReset(code: "987654", to: "alice@example.test")

        let mailer = try WebhookMailer(target: target)
        let error = await #expect(throws: MailError.self) { try await mailer.deliver(message) }
        await mailer.shutdown()
        #expect(error?.code == .badResponse)
        let description = error.map { "\($0)" } ?? ""
        #expect(description.contains("500"))
        #expect(!description.contains("987654"))
    }

    @Test func nobodyListeningIsAConnectionFailure() async throws {
        let directory = try TestDirectory("webhook")
        defer { directory.remove() }
        let message = MailTemplates.passwordReset(code: "987654", to: "alice@example.test")
        let mailer = try WebhookMailer(target: "unix:\(directory.file("nobody.sock")):/hook")

        let error = await #expect(throws: MailError.self) { try await mailer.deliver(message) }
        await mailer.shutdown()
        #expect(error?.code == .connectionFailed)
    }

    @Test func aSilentServerTimesOut() async throws {
        let directory = try TestDirectory("webhook")
        defer { directory.remove() }
        // A Unix socket that listens but never accepts or answers.
        let path = directory.file("silent.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        try #require(fd >= 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8.prefix($0.count - 1)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        try #require(bound == 0 && listen(fd, 4) == 0)
        let mailer = try WebhookMailer(target: "unix:\(path):/hook", timeout: .milliseconds(300))
        let message = MailTemplates.passwordReset(code: "987654", to: "alice@example.test")

        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: MailError.self) { try await mailer.deliver(message) }
        await mailer.shutdown()
        #expect(error?.code == .timedOut)
        // The server never answers: only the 300 ms timeout ends this; generous for a loaded machine.
        #expect(clock.now - started < .seconds(120))
    }

    @Test(arguments: [
        (
            "http://127.0.0.1:8080/hooks/mail",
            WebhookMailer.Endpoint.tcp(host: "127.0.0.1", port: 8080, secure: false),
            "/hooks/mail"
        ),
        ("http://mail-relay.internal", .tcp(host: "mail-relay.internal", port: 80, secure: false), "/"),
        ("HTTP://[::1]:9000/h?x=1", .tcp(host: "::1", port: 9000, secure: false), "/h?x=1"),
        ("http://localhost:81?x", .tcp(host: "localhost", port: 81, secure: false), "/?x"),
        ("https://api.resend.com/emails", .tcp(host: "api.resend.com", port: 443, secure: true), "/emails"),
        ("https://[::1]:8443", .tcp(host: "::1", port: 8443, secure: true), "/"),
        ("unix:/run/relay/hook.sock:/mail", .unix(path: "/run/relay/hook.sock"), "/mail"),
        ("unix:/run/relay/hook.sock", .unix(path: "/run/relay/hook.sock"), "/"),
    ])
    func targetsAreParsed(target: String, endpoint: WebhookMailer.Endpoint, path: String) throws {
        let mailer = try WebhookMailer(target: target)  // never used: no client is made, none to shut down
        #expect(mailer.endpoint == endpoint)
        #expect(mailer.path == path)
    }

    @Test(arguments: [
        "ftp://hooks.example/mail",
        "https://user:pass@hooks.example/mail",
        "http://:80/x",
        "http://host:0/x",
        "http://host:70000/x",
        "http://user:pass@host/x",
        "http://host/a b",
        "http://[::1/x",
        "unix:relative.sock:/x",
        "unix:/run/hook.sock:mail",
        "",
    ])
    func badTargetsAreRefused(target: String) {
        let error = #expect(throws: MailError.self) { try WebhookMailer(target: target) }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test("the signature is HMAC-SHA256 over \"<t>.<body>\", in hex, as documented")
    func signatureFormat() {
        // Python: hmac.new(b"whsec", b"1700000000." + b'{"a":1}', hashlib.sha256).hexdigest()
        let header = WebhookMailer.signature(
            secret: Array("whsec".utf8), body: Array(#"{"a":1}"#.utf8), at: 1_700_000_000)
        #expect(header == "t=1700000000,v1=\(Self.expectedMAC)")
    }

    static let expectedMAC = "8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032"
}
