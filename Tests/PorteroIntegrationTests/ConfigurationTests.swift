import Foundation
import PorteroCore
import PorteroServer
import PorteroTestSupport
import Testing

/// ConfigurationLoader: every key parsed and validated, sources layered defaults < file < env < flags.
@Suite("Configuration")
struct ConfigurationTests {
    func loader(file: String? = nil, environment: [String: String] = [:], flags: [String: String] = [:], uid: UInt32 = 1000)
        -> ConfigurationLoader
    {
        ConfigurationLoader(
            file: file.map { .explicit($0) } ?? .defaultPath("/nonexistent/portero.yaml"),
            environment: environment.merging(["HOME": "/home/test"]) { $1 },
            flags: flags,
            userID: uid,
            hostname: "box",
            fileExists: { FileManager.default.fileExists(atPath: $0) }
        )
    }

    @Test("embedded defaults match SPEC §2")
    func defaults() async throws {
        let configuration = try await loader().load()
        #expect(configuration.listen?.description == "127.0.0.1:5500")
        #expect(configuration.dataDirectory == "/home/test/.local/state/portero")
        #expect(configuration.socketPath == "/home/test/.local/state/portero/portero.sock")
        #expect(configuration.socketMode == 0o660)
        #expect(configuration.accessTTL.seconds == 3600)
        #expect(configuration.refreshTTL.seconds == 30 * 86400)
        #expect(configuration.codeTTL.seconds == 900)
        #expect(configuration.rateLogin == RateLimit(count: 5, window: TimeSpan(seconds: 900)))
        #expect(configuration.rateRegister.description == "10/1h")
        #expect(configuration.lockoutMaxFailures == 5)
        #expect(configuration.lockoutDuration.seconds == 86400)
        #expect(configuration.snapshotEveryRecords == 10_000)
        #expect(configuration.mailFrom == "portero@box")
        #expect(configuration.mailMaildir == "/home/test/.local/state/portero/mail")
        #expect(configuration.logFormat == .text)
        #expect(configuration.issuer == "portero" && configuration.audience == "portero")

        let root = try await loader(uid: 0).load()
        #expect(root.dataDirectory == "/var/lib/portero")
        #expect(root.socketPath == "/run/portero/portero.sock")

        let systemd = try await loader(
            environment: ["STATE_DIRECTORY": "/var/lib/p", "RUNTIME_DIRECTORY": "/run/p", "JOURNAL_STREAM": "8:1"]
        ).load()
        #expect(systemd.dataDirectory == "/var/lib/p")
        #expect(systemd.socketPath == "/run/p/portero.sock")
        #expect(systemd.logFormat == .journal)
    }

    @Test("the shipped etc/portero.yaml, every key commented out, loads as the embedded defaults")
    func shippedFile() async throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("etc/portero.yaml").path
        let fromFile = try await loader(file: shipped).load()
        var defaults = try await loader().load()
        defaults.origin = fromFile.origin
        #expect(fromFile == defaults)
    }

    @Test("file < environment < flags")
    func precedence() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        let path = directory.file("portero.yaml")
        try """
            listen: "127.0.0.1:7000"
            access_ttl: 2h
            rate:
              login: 9/1m
            trusted_proxies: ["10.0.0.0/8", "unix"]
            socket_mode: 0600
            """.write(toFile: path, atomically: true, encoding: .utf8)
        let fromFile = try await loader(file: path).load()
        #expect(fromFile.listen?.port == 7000)
        #expect(fromFile.accessTTL.seconds == 7200)
        #expect(fromFile.rateLogin.description == "9/1m")
        #expect(fromFile.trustedProxies == ["10.0.0.0/8", "unix"])
        #expect(fromFile.socketMode == 0o600)

        let fromEnvironment = try await loader(
            file: path, environment: ["PORTERO_LISTEN": "127.0.0.1:7001", "PORTERO_RATE_LOGIN": "0"]
        ).load()
        #expect(fromEnvironment.listen?.port == 7001)
        #expect(fromEnvironment.rateLogin.isOff)
        #expect(fromEnvironment.accessTTL.seconds == 7200)

        let fromFlags = try await loader(
            file: path, environment: ["PORTERO_LISTEN": "127.0.0.1:7001"], flags: ["listen": "[::1]:7002", "socket": ""]
        ).load()
        #expect(fromFlags.listen?.host == "::1")
        #expect(fromFlags.listen?.port == 7002)
        #expect(fromFlags.socketPath == nil)
    }

    @Test(
        "bad values name their key",
        arguments: [
            ("refresh_ttl", "30 days"), ("code_ttl", "0s"), ("rate.forgot", "3/"), ("password.min_length", "0"),
            ("password.algorithm", "md5"), ("jwt.algorithm", "RS256"), ("mail.transport", "pigeon"),
            ("trusted_proxies", "10.0.0.0/33"), ("snapshot.every_records", "-1"), ("listen", "127.0.0.1:99999"),
            ("log.format", "xml"), ("mail.webhook", "ftp://x"), ("tls.certificate", "/etc/cert.pem"),
        ]
    )
    func badValue(key: String, value: String) async throws {
        let environment = [PorteroConfiguration.environmentName(of: key): value]
        do {
            _ = try await loader(environment: environment).load()
            Issue.record("\(key)=\(value) was accepted")
        } catch {
            #expect(error.message.contains(key) || (key == "tls.certificate" && error.message.contains("tls.key")))
            #expect(!error.message.contains("\n"))
        }
    }

    @Test("a short jwt.secret is refused and never echoed")
    func shortSecret() async throws {
        do {
            _ = try await loader(environment: ["PORTERO_JWT_SECRET": "short-secret-value"]).load()
            Issue.record("a 18-byte secret was accepted")
        } catch {
            #expect(error.message.contains("jwt.secret"))
            #expect(!error.message.contains("short-secret-value"))
        }
    }

    @Test("unknown keys are refused: file, nested file, environment, flag")
    func unknownKeys() async throws {
        let directory = try TestDirectory()
        defer { directory.remove() }
        for (yaml, key) in [("colour: blue\n", "colour"), ("mail:\n  smtp: x\n", "mail.smtp"), ("rate: 5\n", "rate")] {
            let path = directory.file("c.yaml")
            try yaml.write(toFile: path, atomically: true, encoding: .utf8)
            await #expect(throws: ConfigurationError.self) { _ = try await loader(file: path).load() }
            do { _ = try await loader(file: path).load() } catch { #expect(error.message.contains(key)) }
        }
        do {
            _ = try await loader(environment: ["PORTERO_COLOUR": "blue"]).load()
            Issue.record("unknown variable accepted")
        } catch {
            #expect(error.message.contains("PORTERO_COLOUR"))
        }
        do {
            _ = try await loader(flags: ["colour": "blue"]).load()
            Issue.record("unknown flag accepted")
        } catch {
            #expect(error.message.contains("--colour"))
        }
    }
}
