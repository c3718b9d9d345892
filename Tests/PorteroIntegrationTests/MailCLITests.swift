import Foundation
import PorteroTestSupport
import Testing

/// `portero mail list` and `portero mail retry` through the built binary over the daemon's real Unix socket, with the
/// webhook transport pointed at a receiver that is down: mail retries, then dies; an expired code cannot be sent
/// again, a notice can, and arrives once the receiver is up.
@Suite("portero mail over the Unix socket", .serialized)
struct MailCLITests {
    typealias Client = AuthFlowTests.Client

    static func cli(_ socket: String, _ arguments: [String]) async throws -> CommandResult {
        try await PorteroProcess.run(arguments + ["--socket", socket])
    }

    /// The outbox as `portero mail list --json` shows it.
    static func list(_ socket: String) async throws -> [[String: Any]] {
        let listed = try await cli(socket, ["mail", "list", "--json"])
        #expect(listed.status == 0, "\(listed)")
        return AdminCLITests.json(listed.stdout)["mail"] as? [[String: Any]] ?? []
    }

    /// Polls the outbox until `condition` holds (or `timeout` passes); answers the last listing.
    static func listUntil(
        _ socket: String, timeout: Duration = .seconds(20), _ condition: ([[String: Any]]) -> Bool
    ) async throws -> [[String: Any]] {
        let deadline = ContinuousClock.now + timeout
        var mail = try await list(socket)
        while !condition(mail), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(200))
            mail = try await list(socket)
        }
        return mail
    }

    @Test("list shows retrying and dead mail without body or code; retry refuses an expired code, sends a notice")
    func listAndRetry() async throws {
        let directory = try TestDirectory("mail-cli")
        defer { directory.remove() }
        let port = try PorteroProcess.freePort()
        let arguments = [
            "--mail-transport", "webhook", "--mail-webhook", "http://127.0.0.1:\(port)/hook",
            "--mail-retry-max-delay", "1s", "--code-ttl", "6s",
        ]
        try await withDaemon(arguments: arguments) { daemon in
            let socket = try #require(daemon.socketPath)
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            let password = "mail that waits 2026"
            #expect(
                try await client.post("/register", ["email": "ada@example.com", "password": password]).status == 201)

            // The receiver is down: the verification mail is retrying, with the transport's error.
            let retrying = try await Self.listUntil(socket) { $0.first?["state"] as? String == "retrying" }
            let verification = try #require(retrying.first)
            #expect(retrying.count == 1)
            #expect(verification["kind"] as? String == "verify_email")
            #expect(verification["to"] as? String == "ada@example.com")
            #expect(verification["attempts"] as? Int ?? 0 >= 1)
            #expect(!(verification["last_error"] as? String ?? "").isEmpty)
            #expect(verification["next_attempt_at"] is String)
            #expect(
                Set(verification.keys) == [
                    "id", "kind", "to", "user_id", "state", "attempts", "queued_at", "next_attempt_at", "expires_at",
                    "last_error",
                ], "a listing must never carry the body, subject or code")
            let verificationID = try #require(verification["id"] as? String)
            let table = try await Self.cli(socket, ["mail", "list"])
            #expect(table.status == 0)
            #expect(table.stdout.hasPrefix("ID"), "\(table.stdout)")
            // (Its state may have moved on to dead by now: the code lives only code_ttl.)
            let row = table.stdout.split(separator: "\n").first { $0.contains(verificationID) } ?? ""
            #expect(row.contains("verify_email") && row.contains("ada@example.com"), "\(table.stdout)")
            #expect(row.contains("retrying") || row.contains("dead"), "\(table.stdout)")

            // A notice without a code: an admin verifies the address, the user changes the password.
            #expect(try await Self.cli(socket, ["users", "verify", "ada@example.com"]).status == 0)
            let login = try await client.post("/login", ["email": "ada@example.com", "password": password])
            let token = try #require(login.json?["access_token"] as? String)
            let changed = try await client.post(
                "/password/change", ["current_password": password, "new_password": "mail that waits 2027"],
                token: token)
            #expect(changed.status == 200, "\(changed.text)")

            // Both die with their lifetime (code_ttl); dead mail stays listed until the next snapshot.
            let dead = try await Self.listUntil(socket) { mail in
                mail.count == 2 && mail.allSatisfy { $0["state"] as? String == "dead" }
            }
            #expect(dead.map { $0["state"] as? String } == ["dead", "dead"], "\(dead)")
            let notice = try #require(dead.first { $0["kind"] as? String == "password_changed" })
            let noticeID = try #require(notice["id"] as? String)

            // An expired code is not sent again; nor is what the outbox does not hold.
            AdminCLITests.expectOneLineFailure(
                try await Self.cli(socket, ["mail", "retry", verificationID]), containing: ["code expired"])
            AdminCLITests.expectOneLineFailure(
                try await Self.cli(socket, ["mail", "retry", UUID().uuidString]), containing: ["No such message"])

            // The receiver is back: the notice, queued again, arrives at once.
            let server = try await OutboxTests.receiver(port: port, in: directory)
            defer { server.stop() }
            let retried = try await Self.cli(socket, ["mail", "retry", noticeID])
            #expect(
                retried.status == 0
                    && retried.stdout == "queued password_changed mail \(noticeID) to ada@example.com again\n",
                "\(retried)")
            let after = try await Self.listUntil(socket) { mail in !mail.contains { $0["id"] as? String == noticeID } }
            #expect(after.map { $0["id"] as? String } == [verificationID], "the delivered notice is still listed")
            let received = OutboxTests.requests(in: directory)
            #expect(received.map { $0["kind"] as? String } == ["password_changed"])

            let audit = try #require(OutboxTests.events("admin.mail_retried", in: daemon).first)
            #expect(audit["mail_id"] as? String == noticeID)
            #expect(audit["peer_uid"] as? String == String(getuid()))
            #expect(OutboxTests.events("admin.mail_retried", in: daemon).count == 1)
        }
    }
}
