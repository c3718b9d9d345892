import Foundation
import PorteroTestSupport
import Testing

/// The mail transport is checked at start-up: a problem is logged, put in STATUS= and shown by /readyz, and the
/// daemon still serves.
@Suite("Mail start-up check", .serialized)
struct MailStartupCheckTests {
    /// Starts a daemon with `arguments` under a NOTIFY_SOCKET listener; returns READY's STATUS, /readyz's body and the
    /// mail.unavailable log lines.
    static func start(_ arguments: [String]) async throws -> (
        status: String, ready: [String: Any], events: [[String: Any]]
    ) {
        let listener = try DatagramListener()
        let daemon = try PorteroProcess(arguments: arguments, environment: ["NOTIFY_SOCKET": listener.path])
        defer { daemon.directory.remove() }
        try daemon.start()
        var status: String?
        let deadline = ContinuousClock.now + .seconds(30)
        while status == nil && ContinuousClock.now < deadline {
            if let message = await listener.receive(timeout: .seconds(1)) {
                let fields = notifyAssignments(message)
                if fields["READY"] == "1" { status = fields["STATUS"] }
            }
        }
        let readyz = try await HTTPTestClient.request("GET", "/readyz", to: try daemon.unix, timeout: 5)
        #expect(readyz.status == 200)
        await daemon.stop()
        return (
            try #require(status, "no READY=1: \(daemon.stderrText)"), readyz.json ?? [:],
            OutboxTests.events("mail.unavailable", in: daemon)
        )
    }

    @Test("an unwritable Maildir")
    func unwritableMaildir() async throws {
        let directory = try TestDirectory("maildir-check")
        defer { directory.remove() }
        let notADirectory = try directory.write("not-a-directory", "x")
        let (status, ready, events) = try await Self.start(["--mail-maildir", notADirectory])
        #expect(status.contains("; mail: maildir: cannot create directory \(notADirectory)/tmp"), "\(status)")
        #expect((ready["mail"] as? String)?.hasPrefix("maildir: cannot create directory") == true, "\(ready)")
        #expect(events.count == 1 && events.first?["level"] as? String == "error")
    }

    @Test("a missing sendmail binary")
    func missingSendmail() async throws {
        let (status, ready, events) = try await Self.start([
            "--mail-transport", "sendmail", "--mail-sendmail", "/nonexistent/sendmail -t -i",
        ])
        #expect(status.contains("mail: sendmail: sendmail command /nonexistent/sendmail is missing"), "\(status)")
        #expect((ready["mail"] as? String)?.contains("missing or not executable") == true)
        #expect(events.count == 1)
    }

    @Test("an SMTP server that does not answer")
    func smtpNotAnswering() async throws {
        let port = try PorteroProcess.freePort()
        let (status, ready, events) = try await Self.start([
            "--mail-transport", "smtp", "--mail-smtp-host", "127.0.0.1", "--mail-smtp-port", String(port),
            "--mail-smtp-tls", "none",
        ])
        #expect(status.contains("mail: smtp: SMTP server 127.0.0.1:\(port) cannot be reached"), "\(status)")
        #expect((ready["mail"] as? String)?.contains("cannot be reached") == true)
        #expect(events.count == 1)
    }

    @Test("a working transport leaves STATUS= and /readyz as they were")
    func working() async throws {
        let (status, ready, events) = try await Self.start([])
        #expect(!status.contains("mail"))
        #expect(ready["mail"] == nil && ready["status"] as? String == "ready")
        #expect(events.isEmpty)
    }
}
