import Foundation
import PorteroTestSupport
import Testing

/// What must never leak, where the signing key comes from, and mail through a real sendmail.
@Suite("Secrets and mail", .serialized)
struct SecretsAndMailTests {
    typealias Client = AuthFlowTests.Client

    @Test("no password, code, token, hash or secret reaches a log line")
    func nothingSecretInLogs() async throws {
        let secret = "a-jwt-secret-for-this-test-only-0123456789"
        let password = "unmistakable-pass-phrase-77"
        let daemon = try PorteroProcess(arguments: ["--log-level", "trace"], environment: ["PORTERO_JWT_SECRET": secret])
        try await daemon.startAndWait()
        let client = Client(endpoint: try daemon.tcp, daemon: daemon)
        let registered = try await client.post("/register", ["email": "quiet@example.com", "password": password])
        let code = try await client.code(for: "quiet@example.com")
        let verified = try await client.post("/verify-email", ["email": "quiet@example.com", "code": code])
        let access = try #require(verified.json?["access_token"] as? String)
        let refresh = try #require(verified.json?["refresh_token"] as? String)
        _ = try await client.post("/login", ["email": "quiet@example.com", "password": "wrong-\(password)"])
        _ = try await client.post("/refresh", ["refresh_token": refresh])
        _ = try await client.post("/refresh", ["refresh_token": refresh])  // reuse: logged as a revocation
        _ = try await client.post("/logout", [:], token: access)
        await daemon.stop()

        let log = daemon.stderrText
        #expect(log.contains("login.failed") && log.contains("user.registered"))
        let verification = try #require(registered.json?["verification_token"] as? String)
        var forbidden = [secret, password, code, access, refresh, verification]
        forbidden.append(contentsOf: [String(access.split(separator: ".")[2]), "$argon2id$"])
        for value in forbidden {
            #expect(!log.contains(value), "the log contains a secret (\(value.prefix(6))…)")
        }
        for line in log.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not one JSON object: \(line)")
        }
        daemon.directory.remove()
    }

    @Test("the systemd credential jwt-secret signs tokens: two daemons sharing it accept each other's tokens")
    func credentialSecret() async throws {
        let credentials = try TestDirectory("credentials")
        defer { credentials.remove() }
        try credentials.write("jwt-secret", "credential-secret-of-at-least-32-bytes-xyz\n", permissions: 0o600)
        let environment = ["CREDENTIALS_DIRECTORY": credentials.path]
        try await withDaemon(environment: environment) { first in
            let client = Client(endpoint: try first.tcp, daemon: first)
            let verified = try await client.verifiedUser("shared@example.com", password: "two daemons one key")
            let access = try #require(verified.json?["access_token"] as? String)
            try await withDaemon(environment: environment) { second in
                // The second daemon has no such user (own data directory) but accepts the signature: the token
                // gets past the signature check to the revocation check, where its session is unknown.
                let answer = try await HTTPTestClient.request(
                    "GET", "/api/v1/auth/profile", to: try second.tcp, headers: ["Authorization": "Bearer \(access)"])
                #expect(answer.json?["error"] as? String == "token_revoked")
            }
            try await withDaemon { stranger in
                let answer = try await HTTPTestClient.request(
                    "GET", "/api/v1/auth/profile", to: try stranger.tcp, headers: ["Authorization": "Bearer \(access)"])
                #expect(answer.json?["error"] as? String == "invalid_token")
            }
        }
    }

    @Test("the generated key is created once, 0600, and survives restarts")
    func generatedKey() async throws {
        let daemon = try PorteroProcess()
        try await daemon.startAndWait()
        let client = Client(endpoint: try daemon.tcp, daemon: daemon)
        let verified = try await client.verifiedUser("keys@example.com", password: "generated once only")
        let access = try #require(verified.json?["access_token"] as? String)
        let keys = try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory + "/keys")
            .filter { $0.hasPrefix("signing-") }
        #expect(keys.count == 1, "\(keys)")
        let key = daemon.dataDirectory + "/keys/" + (try #require(keys.first))
        let mode = try FileManager.default.attributesOfItem(atPath: key)[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let before = try Data(contentsOf: URL(fileURLWithPath: key))
        await daemon.stop()
        try await daemon.startAndWait()
        #expect(try Data(contentsOf: URL(fileURLWithPath: key)) == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory + "/keys").sorted() == ["code-hmac", keys[0]])
        #expect(try await client.get("/profile", token: access).status == 200)
        await daemon.cleanUp()
    }

    @Test(
        "codes reach a real SMTP sink through msmtp as the sendmail command",
        .enabled("needs msmtp and aiosmtpd") { await MailTools.shared.ensure() }
    )
    func sendmailEndToEnd() async throws {
        let directory = try TestDirectory("smtp")
        defer { directory.remove() }
        let sink = try await ScriptServer(
            script: PeerScripts.smtpSink, name: "smtp_sink.py", arguments: [directory.file("received")], in: directory)
        defer { sink.stop() }
        let port = try #require(Int(sink.ready))
        let command = "/usr/bin/msmtp --host=127.0.0.1 --port=\(port) --auth=off --tls=off --from=portero@test -t -i"
        let arguments = ["--mail-transport", "sendmail", "--mail-sendmail", command, "--mail-from", "portero@test"]
        try await withDaemon(arguments: arguments) { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            #expect(try await client.post("/register", ["email": "smtp@example.com", "password": "through the sink"]).status == 201)
            let message = directory.file("received/1.eml")
            #expect(await waitUntil(timeout: .seconds(20)) { FileManager.default.fileExists(atPath: message) })
            let text = try String(contentsOfFile: message, encoding: .utf8)
            #expect(text.contains("To: smtp@example.com"))
            #expect(text.contains("From: portero@test"))
            #expect(text.contains("Message-ID: <"))
            #expect(text.contains("Date: "))
            #expect(text.contains("Content-Type: text/plain; charset=UTF-8"))
            #expect(MaildirReader.code(in: text.replacingOccurrences(of: "\r\n", with: "\n")) != nil)
            #expect(text.contains("15 minutes"))
        }
    }
}
