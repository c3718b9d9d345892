import Foundation
import PorteroTestSupport
import Testing

/// `mail.transport: smtp` through the binary against a real SMTP server (aiosmtpd): STARTTLS with a private CA,
/// AUTH with the password from the environment or the systemd credential, implicit refusal of clear text.
@Suite(
    "SMTP transport", .serialized,
    .enabled("needs openssl and aiosmtpd") { await MailTools.shared.ensure() && TLSTests.canRun })
struct SMTPTransportTests {
    typealias Client = AuthFlowTests.Client

    static let password = "smtp-pass-never-logged-5150"

    /// A sink on a free port; with `tls`, STARTTLS is required with a certificate for 127.0.0.1, whose file is
    /// the CA the daemon is given.
    /// With `implicit`, TLS starts at the first byte instead (`mail.smtp.tls: tls`, port 465 style).
    static func sink(tls: Bool, auth: Bool, implicit: Bool = false, in directory: TestDirectory) async throws -> (
        ScriptServer, Int
    ) {
        var arguments = [directory.file("received")]
        if tls {
            _ = try await TLSTests.makeCertificate("smtp", in: directory)
            arguments += [
                implicit ? "--implicit-tls" : "--tls", directory.file("smtp.pem"), directory.file("smtp.key"),
            ]
        }
        if auth { arguments += ["--auth", "portero:\(password)"] }
        let sink = try await ScriptServer(
            script: PeerScripts.smtpSink, name: "smtp_sink.py", arguments: arguments, in: directory)
        return (sink, try #require(Int(sink.ready)))
    }

    static func smtpArguments(port: Int, tls: String, directory: TestDirectory, auth: Bool = true) -> [String] {
        var arguments = [
            "--mail-transport", "smtp", "--mail-smtp-host", "127.0.0.1", "--mail-smtp-port", String(port),
            "--mail-smtp-tls", tls, "--mail-from", "Portero <portero@test.example>", "--mail-retry-max-delay", "1s",
        ]
        if tls != "none" { arguments += ["--mail-smtp-ca", directory.file("smtp.pem")] }
        if auth { arguments += ["--mail-smtp-username", "portero"] }
        return arguments
    }

    @Test("STARTTLS with a private CA and AUTH, the password from the environment: the code arrives, nothing leaks")
    func startTLSAndAuth() async throws {
        let directory = try TestDirectory("smtp-starttls")
        defer { directory.remove() }
        let (sink, port) = try await Self.sink(tls: true, auth: true, in: directory)
        defer { sink.stop() }
        try await withDaemon(
            arguments: Self.smtpArguments(port: port, tls: "starttls", directory: directory) + [
                "--log-level", "trace",
            ],
            environment: ["PORTERO_MAIL_SMTP_PASSWORD": Self.password]
        ) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "tls@example.com", "password": "over starttls"]).status
                    == 201)
            let message = directory.file("received/1.eml")
            #expect(await waitUntil(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: message) })
            let text = try String(contentsOfFile: message, encoding: .utf8)
            #expect(text.contains("To: tls@example.com"))
            #expect(text.contains("Message-ID: <"))
            let code = try #require(MaildirReader.code(in: text.replacingOccurrences(of: "\r\n", with: "\n")))
            let envelope = try #require(
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: directory.file("received/1.json"))))
                    as? [String: Any])
            #expect(envelope["tls"] as? Bool == true)
            #expect(envelope["auth"] as? Bool == true)
            #expect(envelope["mail_from"] as? String == "portero@test.example")
            #expect(envelope["rcpt_tos"] as? [String] == ["tls@example.com"])
            // The code verifies: the message is the one the daemon queued.
            #expect(try await client.post("/verify-email", ["email": "tls@example.com", "code": code]).status == 200)
            await daemon.stop()
            let log = daemon.stderrText
            #expect(log.contains("mail.sent"))
            #expect(!log.contains(Self.password))
            #expect(!log.contains(Data("\u{0}portero\u{0}\(Self.password)".utf8).base64EncodedString()))
            #expect(!log.contains(code))
        }
    }

    @Test("implicit TLS (mail.smtp.tls: tls) with a private CA and AUTH: the code arrives over TLS from the first byte")
    func implicitTLS() async throws {
        let directory = try TestDirectory("smtp-implicit")
        defer { directory.remove() }
        let (sink, port) = try await Self.sink(tls: true, auth: true, implicit: true, in: directory)
        defer { sink.stop() }
        try await withDaemon(
            arguments: Self.smtpArguments(port: port, tls: "tls", directory: directory),
            environment: ["PORTERO_MAIL_SMTP_PASSWORD": Self.password]
        ) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "smtps@example.com", "password": "over implicit tls"])
                    .status == 201)
            let message = directory.file("received/1.eml")
            #expect(await waitUntil(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: message) })
            let text = try String(contentsOfFile: message, encoding: .utf8)
            let code = try #require(MaildirReader.code(in: text.replacingOccurrences(of: "\r\n", with: "\n")))
            let envelope = try #require(
                try JSONSerialization.jsonObject(
                    with: Data(contentsOf: URL(fileURLWithPath: directory.file("received/1.json"))))
                    as? [String: Any])
            #expect(envelope["tls"] as? Bool == true)
            #expect(envelope["auth"] as? Bool == true)
            #expect(envelope["rcpt_tos"] as? [String] == ["smtps@example.com"])
            #expect(try await client.post("/verify-email", ["email": "smtps@example.com", "code": code]).status == 200)
            #expect(!daemon.stderrText.contains(Self.password))
        }
        // The same server without the private CA: the certificate is refused, nothing is sent.
        try await withDaemon(
            arguments: Self.smtpArguments(port: port, tls: "tls", directory: directory).filter {
                $0 != "--mail-smtp-ca" && $0 != directory.file("smtp.pem")
            },
            environment: ["PORTERO_MAIL_SMTP_PASSWORD": Self.password]
        ) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "untrusted@example.com", "password": "not trusted"])
                    .status == 201)
            #expect(
                await waitUntil(timeout: .seconds(20)) { OutboxTests.events("mail.deferred", in: daemon).count >= 1 })
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("received/2.eml")))
    }

    @Test(
        "a wrong password is refused, and without STARTTLS the password is never sent: both are retried, nothing arrives"
    )
    func refusals() async throws {
        let directory = try TestDirectory("smtp-refusals")
        defer { directory.remove() }
        let (sink, port) = try await Self.sink(tls: true, auth: true, in: directory)
        defer { sink.stop() }
        try await withDaemon(
            arguments: Self.smtpArguments(port: port, tls: "starttls", directory: directory),
            environment: ["PORTERO_MAIL_SMTP_PASSWORD": "wrong-\(Self.password)"]
        ) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "nope@example.com", "password": "wrong password"]).status
                    == 201)
            #expect(
                await waitUntil(timeout: .seconds(20)) { OutboxTests.events("mail.deferred", in: daemon).count >= 1 })
            let deferred = try #require(OutboxTests.events("mail.deferred", in: daemon).first)
            #expect((deferred["error"] as? String)?.contains("AUTH PLAIN with 535") == true, "\(deferred)")
            #expect(!daemon.stderrText.contains(Self.password))
        }
        // The same sink offers no AUTH before STARTTLS; told tls: none, the daemon does not send the password.
        try await withDaemon(
            arguments: Self.smtpArguments(port: port, tls: "none", directory: directory),
            environment: ["PORTERO_MAIL_SMTP_PASSWORD": Self.password]
        ) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "clear@example.com", "password": "never in clear"]).status
                    == 201)
            #expect(
                await waitUntil(timeout: .seconds(20)) { OutboxTests.events("mail.deferred", in: daemon).count >= 1 })
            let deferred = try #require(OutboxTests.events("mail.deferred", in: daemon).first)
            #expect(
                (deferred["error"] as? String)?.contains("neither AUTH PLAIN nor AUTH LOGIN") == true, "\(deferred)")
        }
        #expect(!FileManager.default.fileExists(atPath: directory.file("received/1.eml")))
    }

    @Test("the systemd credential smtp-password is used when no password is configured; plain SMTP without AUTH works")
    func credentialAndPlain() async throws {
        let directory = try TestDirectory("smtp-credential")
        defer { directory.remove() }
        let credentials = try TestDirectory("smtp-credentials")
        defer { credentials.remove() }
        try credentials.write("smtp-password", Self.password + "\n", permissions: 0o600)
        let (sink, port) = try await Self.sink(tls: true, auth: true, in: directory)
        defer { sink.stop() }
        try await withDaemon(
            arguments: Self.smtpArguments(port: port, tls: "starttls", directory: directory),
            environment: ["CREDENTIALS_DIRECTORY": credentials.path]
        ) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "cred@example.com", "password": "from a credential"])
                    .status == 201)
            #expect(
                await waitUntil(timeout: .seconds(20)) {
                    FileManager.default.fileExists(atPath: directory.file("received/1.eml"))
                })
        }
        let plainDirectory = try TestDirectory("smtp-plain")
        defer { plainDirectory.remove() }
        let (plain, plainPort) = try await Self.sink(tls: false, auth: false, in: plainDirectory)
        defer { plain.stop() }
        try await withDaemon(
            arguments: Self.smtpArguments(port: plainPort, tls: "none", directory: plainDirectory, auth: false)
        ) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "plain@example.com", "password": "plain relay"]).status
                    == 201)
            let message = plainDirectory.file("received/1.eml")
            #expect(await waitUntil(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: message) })
            #expect(try String(contentsOfFile: message, encoding: .utf8).contains("To: plain@example.com"))
        }
    }
}
