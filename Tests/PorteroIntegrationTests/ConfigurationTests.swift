import Foundation
import PorteroCore
import PorteroMail
@testable import PorteroServer
import PorteroTestSupport
import Systemd
import Testing

/// ConfigurationLoader: every key parsed and validated, sources layered defaults < file < env < flags.
@Suite("Configuration")
struct ConfigurationTests {
    func loader(
        file: String? = nil, environment: [String: String] = [:], flags: [String: String] = [:], uid: UInt32 = 1000
    )
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
        #expect(configuration.listeners.listen?.description == "127.0.0.1:5500")
        #expect(configuration.dataDirectory == "/home/test/.local/state/portero")
        #expect(configuration.listeners.socketPath == "/home/test/.local/state/portero/portero.sock")
        #expect(configuration.listeners.socketMode == 0o660)
        #expect(configuration.tokens.accessTTL.seconds == 3600)
        #expect(configuration.auth.refreshTTL.seconds == 30 * 86400)
        #expect(configuration.auth.codeTTL.seconds == 900)
        #expect(configuration.auth.rates.login == RateLimit(count: 5, window: TimeSpan(seconds: 900)))
        #expect(configuration.auth.rates.register.description == "10/1h")
        #expect(configuration.auth.lockoutMaxFailures == 5)
        #expect(configuration.auth.lockoutDuration.seconds == 86400)
        #expect(configuration.snapshots.everyRecords == 10_000)
        #expect(configuration.mail.from == "portero@box")
        #expect(configuration.mail.maildir == "/home/test/.local/state/portero/mail")
        #expect(configuration.log.format == .text)
        #expect(configuration.tokens.issuer == "portero" && configuration.tokens.audience == "portero")

        let root = try await loader(uid: 0).load()
        #expect(root.dataDirectory == "/var/lib/portero")
        #expect(root.listeners.socketPath == "/run/portero/portero.sock")

        let systemd = try await loader(
            environment: ["STATE_DIRECTORY": "/var/lib/p", "RUNTIME_DIRECTORY": "/run/p", "JOURNAL_STREAM": "8:1"]
        ).load()
        #expect(systemd.dataDirectory == "/var/lib/p")
        #expect(systemd.listeners.socketPath == "/run/p/portero.sock")
        #expect(systemd.log.format == .journal)
    }

    @Test(
        "mail.transport defaults to the machine's MTA: sendmail, maildir without one, SMTP on loopback when its sendmail needs privileges"
    )
    func defaultMailTransport() async throws {
        func load(sendmail: Bool, privileged: Bool, flags: [String: String] = [:]) async throws -> MailConfiguration {
            try await ConfigurationLoader(
                file: .defaultPath("/nonexistent/portero.yaml"), environment: ["HOME": "/home/test"], flags: flags,
                userID: 1000, hostname: "box",
                fileExists: { $0 == "/usr/sbin/sendmail" ? sendmail : FileManager.default.fileExists(atPath: $0) },
                sendmailNeedsPrivileges: privileged
            ).load().mail
        }
        #expect(try await load(sendmail: false, privileged: false).transport == .maildir)
        #expect(try await load(sendmail: false, privileged: true).transport == .maildir)
        let plain = try await load(sendmail: true, privileged: false)
        #expect(plain.transport == .sendmail && plain.smtp.host == nil && plain.smtp.port == 587)
        #expect(plain.smtp.tls == .starttls)
        // postfix's or exim's sendmail under NoNewPrivileges: the same MTA on 127.0.0.1:25, no TLS on loopback
        let local = try await load(sendmail: true, privileged: true)
        #expect(local.transport == .smtp && local.smtp.host == "127.0.0.1" && local.smtp.port == 25)
        #expect(local.smtp.tls == .none)
        // what an admin sets wins, and an explicit smtp transport keeps SPEC's smtp defaults
        #expect(
            try await load(sendmail: true, privileged: true, flags: ["mail.transport": "sendmail"]).transport
                == .sendmail)
        let relay = try await load(
            sendmail: true, privileged: true, flags: ["mail.transport": "smtp", "mail.smtp.host": "mail.example.com"])
        #expect(relay.smtp.host == "mail.example.com" && relay.smtp.port == 587 && relay.smtp.tls == .starttls)
        let port = try await load(sendmail: true, privileged: true, flags: ["mail.smtp.port": "2525"])
        #expect(port.transport == .smtp && port.smtp.host == "127.0.0.1" && port.smtp.port == 2525)
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
        #expect(fromFile.listeners.listen?.port == 7000)
        #expect(fromFile.tokens.accessTTL.seconds == 7200)
        #expect(fromFile.auth.rates.login.description == "9/1m")
        #expect(fromFile.listeners.trustedProxies == ["10.0.0.0/8", "unix"])
        #expect(fromFile.listeners.socketMode == 0o600)

        let fromEnvironment = try await loader(
            file: path, environment: ["PORTERO_LISTEN": "127.0.0.1:7001", "PORTERO_RATE_LOGIN": "0"]
        ).load()
        #expect(fromEnvironment.listeners.listen?.port == 7001)
        #expect(fromEnvironment.auth.rates.login.isOff)
        #expect(fromEnvironment.tokens.accessTTL.seconds == 7200)

        let fromFlags = try await loader(
            file: path, environment: ["PORTERO_LISTEN": "127.0.0.1:7001"],
            flags: ["listen": "[::1]:7002", "socket": ""]
        ).load()
        #expect(fromFlags.listeners.listen?.host == "::1")
        #expect(fromFlags.listeners.listen?.port == 7002)
        #expect(fromFlags.listeners.socketPath == nil)
    }

    @Test(
        "bad values name their key",
        arguments: [
            ("refresh_ttl", "30 days"), ("code_ttl", "0s"), ("rate.forgot", "3/"), ("password.min_length", "0"),
            ("password.algorithm", "md5"), ("jwt.algorithm", "RS256"), ("mail.transport", "pigeon"),
            ("trusted_proxies", "10.0.0.0/33"), ("snapshot.every_records", "-1"), ("listen", "127.0.0.1:99999"),
            ("log.format", "xml"), ("mail.webhook", "ftp://x"), ("mail.retry_max_delay", "2m"),
            ("mail.smtp.tls", "ssl"), ("mail.smtp.port", "0"),
            ("tls.certificate", "/etc/cert.pem"),
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

    @Test("every key is read by its component, and a change to it is named by SIGHUP's report")
    func everyKeyHasAComponent() async throws {
        let base = try await loader().load()
        let otherTransport = base.mail.transport == .maildir ? "sendmail" : "maildir"
        let changes: [[String: String]] = [
            ["data_dir": "/tmp/elsewhere"], ["listen": "127.0.0.1:1"], ["socket": "/tmp/other.sock"],
            ["socket_mode": "0600"], ["tls.certificate": "/tmp/c.pem", "tls.key": "/tmp/k.pem"],
            ["admin_group": "wheel"], ["trusted_proxies": "10.0.0.0/8"], ["issuer": "other"], ["audience": "other"],
            ["jwt.algorithm": "EdDSA"], ["jwt.secret": String(repeating: "s", count: 32)], ["access_ttl": "2h"],
            ["refresh_ttl": "2d"], ["session.max_age": "0"], ["registration.unverified_ttl": "1d"], ["code_ttl": "5m"],
            ["lockout.max_failures": "3"], ["lockout.duration": "1h"],
            ["rate.login": "1/1m"], ["rate.register": "1/1m"], ["rate.verify": "1/1m"], ["rate.resend": "1/1m"],
            ["rate.forgot": "1/1m"], ["password.algorithm": "bcrypt"], ["password.min_length": "10"],
            ["password.max_length": "100"], ["snapshot.every_records": "5"], ["snapshot.every": "1m"],
            ["mail.transport": otherTransport], ["mail.sendmail": "/bin/true"], ["mail.maildir": "/tmp/mail"],
            ["mail.webhook": "http://127.0.0.1:1/"], ["mail.from": "a@b.example"], ["mail.retry_max_delay": "5s"],
            ["mail.smtp.host": "smtp.example"], ["mail.smtp.port": "465"], ["mail.smtp.username": "u"],
            ["mail.smtp.password": "p"], ["mail.smtp.tls": "tls"], ["mail.smtp.ca": "/tmp/ca.pem"],
            ["mail.webhook_secret": "signing-secret"], ["mail.webhook_ca": "/tmp/hook-ca.pem"],
            ["mail.templates": "/tmp/portero-templates"],
            ["log.format": "json"],
            ["log.level": "debug"],
            ["cookie.enabled": "true"], ["cookie.domain": "example.com"], ["cookie.secure": "false"],
            ["forward_auth.redirect_hosts": "app.example.com"], ["metrics.tcp": "true"],
        ]
        var covered: [String] = []
        for flags in changes {
            var changed = try await loader(flags: flags).load()
            if flags["data_dir"] != nil {
                // The socket and the Maildir default to places inside the data directory.
                #expect(changed.changedKeys(since: base) == ["data_dir", "socket", "mail.maildir"])
                changed.listeners.socketPath = base.listeners.socketPath
                changed.mail.maildir = base.mail.maildir
            }
            #expect(
                changed.changedKeys(since: base) == PorteroConfiguration.keys.filter { flags[$0] != nil },
                "\(flags.keys.sorted())")
            covered += flags.keys
        }
        #expect(covered.sorted() == PorteroConfiguration.keys.sorted())
        #expect(Set(PorteroConfiguration.keys).count == PorteroConfiguration.keys.count)
        #expect(!String(describing: try await loader(flags: changes[10]).load()).contains("sss"))
    }
}
