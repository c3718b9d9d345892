import Foundation
import PorteroCore
import PorteroMail
import PorteroTestSupport
import Testing

@Suite("Sendmail transport")
struct SendmailMailerTests {
    static let from = "Portero <portero@test>"

    @Test(
        "delivers through real msmtp to a real SMTP sink",
        .enabled("needs msmtp (apt, as root) and aiosmtpd (pip); they could not be installed") {
            await MailTools.shared.ensure()
        },
        arguments: [
            MailTemplates.verification(code: "012345", to: "alice@example.test", userID: UUID()),
            OutboxMail(
                id: UUID(), to: "bob@example.test", subject: "Réinitialisez votre mot de passe",
                text: "Votre code est 654321.\nIl expire dans 15 minutes.\n", kind: "reset_password", code: "654321",
                queuedAt: Date()
            ),
        ]
    )
    func deliversThroughMsmtp(message: OutboxMail) async throws {
        let directory = try TestDirectory("sendmail-e2e")
        defer { directory.remove() }
        let sink = try await ScriptServer(
            script: PeerScripts.smtpSink, name: "smtp_sink.py", arguments: [directory.file("received")], in: directory
        )
        defer { sink.stop() }
        let port = try #require(Int(sink.ready))
        let command = "msmtp --host=127.0.0.1 --port=\(port) --auth=off --tls=off --from=portero@test -t -i"
        let mailer = try SendmailMailer(command: command, from: Self.from, hostname: "portero.test")

        try await mailer.deliver(message)

        let eml = directory.file("received/1.eml")
        #expect(await waitUntil(timeout: .seconds(30)) { FileManager.default.fileExists(atPath: eml) })
        let raw = try Data(contentsOf: URL(fileURLWithPath: eml))
        let text = try #require(String(data: raw, encoding: .utf8))
        #expect(!text.contains("\r\r"), "CR doubled on the way")
        let lines = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n")
        #expect(lines.contains("To: \(message.to)"))
        #expect(lines.contains("From: \(Self.from)"))
        #expect(lines.contains("Message-ID: <\(message.id.uuidString.lowercased())@portero.test>"))
        #expect(lines.contains("Auto-Submitted: auto-generated"))
        #expect(lines.contains("MIME-Version: 1.0"))
        #expect(lines.contains("Content-Type: text/plain; charset=UTF-8"))
        #expect(lines.contains { $0.hasPrefix("Date: ") && $0.hasSuffix(" +0000") })
        let subject = try #require(lines.first { $0.hasPrefix("Subject: ") })
        if message.subject.allSatisfy(\.isASCII) {
            #expect(subject == "Subject: \(message.subject)")
        } else {
            #expect(subject.hasPrefix("Subject: =?UTF-8?B?"))
        }
        let code = try #require(message.code)
        #expect(text.contains(code))
        let body = text.replacingOccurrences(of: "\r\n", with: "\n").components(separatedBy: "\n\n").dropFirst()
            .joined(separator: "\n\n")
        #expect(body == message.text)

        let envelope =
            try JSONSerialization.jsonObject(
                with: Data(contentsOf: URL(fileURLWithPath: directory.file("received/1.json")))
            ) as? [String: Any]
        #expect(envelope?["rcpt_tos"] as? [String] == [message.to])
        #expect(envelope?["mail_from"] as? String == "portero@test")
    }

    @Test func aFailingCommandIsAMailErrorWithoutTheCodeOrBody() async throws {
        let mailer = try SendmailMailer(command: "/bin/false", from: Self.from)
        let message = MailTemplates.verification(code: "012345", to: "alice@example.test")

        let error = await #expect(throws: MailError.self) { try await mailer.deliver(message) }
        #expect(error?.code == .commandFailed)
        let description = error.map { "\($0)" } ?? ""
        #expect(description.contains("/bin/false"))
        #expect(description.contains("status 1"))
        #expect(!description.contains("012345"))
        #expect(!description.contains(message.text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    @Test func whatTheCommandPrintsIsQuotedWithCodeRecipientAndBodyRedacted() async throws {
        let directory = try TestDirectory("sendmail-echo")
        defer { directory.remove() }
        // Prints the whole message back on standard error, then fails.
        let script = try directory.write(
            "echo-fail", "#!/bin/sh\nsed -n '/^$/,$p' | tr '\\n' ' ' >&2\nexit 75\n", permissions: 0o755
        )
        let mailer = try SendmailMailer(command: script, from: Self.from)
        let message = MailTemplates.verification(code: "012345", to: "alice@example.test")

        let error = await #expect(throws: MailError.self) { try await mailer.deliver(message) }
        #expect(error?.code == .commandFailed)
        let description = error.map { "\($0)" } ?? ""
        #expect(description.contains("status 75"))
        #expect(description.contains("[code]") || description.contains("[body]"))
        #expect(!description.contains("012345"))
        for line in message.text.split(separator: "\n") where line.count >= 12 {
            #expect(!description.contains(line.replacingOccurrences(of: "012345", with: "[code]")))
        }
    }

    @Test func aCommandThatRunsTooLongIsKilled() async throws {
        let directory = try TestDirectory("sendmail-slow")
        defer { directory.remove() }
        let script = try directory.write("slow", "#!/bin/sh\nexec sleep 600\n", permissions: 0o755)
        let mailer = try SendmailMailer(command: script, from: Self.from, timeout: .milliseconds(300))
        let message = MailTemplates.verification(code: "012345", to: "alice@example.test")

        let clock = ContinuousClock()
        let started = clock.now
        let error = await #expect(throws: MailError.self) { try await mailer.deliver(message) }
        #expect(error?.code == .timedOut)
        // Far below the command's 600 s, with room for a machine whose load average is in the teens.
        #expect(clock.now - started < .seconds(120))
    }

    @Test func cancellingTheDeliveryKillsTheCommand() async throws {
        let directory = try TestDirectory("sendmail-cancel")
        defer { directory.remove() }
        let marker = directory.file("started")
        let script = try directory.write("slow", "#!/bin/sh\ntouch '\(marker)'\nexec sleep 600\n", permissions: 0o755)
        let mailer = try SendmailMailer(command: script, from: Self.from, timeout: .seconds(600))
        let message = MailTemplates.verification(code: "012345", to: "alice@example.test")

        let clock = ContinuousClock()
        let started = clock.now
        let outcome = await withTaskGroup(of: (any Error)?.self) { group in
            group.addTask {
                do {
                    try await mailer.deliver(message)
                    return nil
                } catch {
                    return error
                }
            }
            _ = await waitUntil { FileManager.default.fileExists(atPath: marker) }
            group.cancelAll()
            return await group.next() ?? nil
        }
        #expect((outcome as? MailError)?.code == .cancelled)
        // Far below the command's 600 s, with room for a machine whose load average is in the teens.
        #expect(clock.now - started < .seconds(120))
    }

    @Test(arguments: ["/nonexistent/sendmail -t -i", "portero-no-such-sendmail -t"])
    func aMissingProgramIsASpawnFailure(command: String) async throws {
        let mailer = try SendmailMailer(command: command, from: Self.from)
        let message = MailTemplates.verification(code: "012345", to: "alice@example.test")
        let error = await #expect(throws: MailError.self) { try await mailer.deliver(message) }
        #expect(error?.code == .spawnFailed)
    }

    @Test func theCommandIsSplitOnWhitespaceWithoutAShell() throws {
        let mailer = try SendmailMailer(command: "  /usr/sbin/sendmail\t-t  -i -f 'a b' $HOME ", from: Self.from)
        #expect(mailer.arguments == ["/usr/sbin/sendmail", "-t", "-i", "-f", "'a", "b'", "$HOME"])
        #expect(try SendmailMailer(from: Self.from).arguments == ["/usr/sbin/sendmail", "-t", "-i"])
        let error = #expect(throws: MailError.self) { try SendmailMailer(command: "  ", from: Self.from) }
        #expect(error?.code == .invalidConfiguration)
    }

    @Test func theCommandGetsAMinimalEnvironmentAndTheMessageWithLFEndings() async throws {
        let directory = try TestDirectory("sendmail-env")
        defer { directory.remove() }
        let script = try directory.write(
            "capture",
            "#!/bin/sh\nenv > '\(directory.file("env"))'\ncat > '\(directory.file("stdin"))'\n",
            permissions: 0o755
        )
        let mailer = try SendmailMailer(command: script, from: Self.from)
        let message = MailTemplates.passwordReset(code: "424242", to: "alice@example.test")

        try await mailer.deliver(message)

        let environment = try String(contentsOfFile: directory.file("env"), encoding: .utf8)
        let names = Set(
            environment.split(separator: "\n").compactMap { $0.split(separator: "=").first.map(String.init) })
        #expect(names.isSubset(of: ["PATH", "PWD", "SHLVL", "_", "OLDPWD"]), "environment \(names)")
        #expect(environment.contains("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"))
        let input = try String(contentsOfFile: directory.file("stdin"), encoding: .utf8)
        #expect(!input.contains("\r"))
        #expect(input.hasPrefix("Date: "))
        #expect(input.contains("\nTo: alice@example.test\n"))
        #expect(input.hasSuffix("\n\n" + message.text))
    }
}
