import Foundation
import PorteroTestSupport
import Testing

/// `portero users create EMAIL --invite` through the built binary: an account no password opens, an invitation
/// mail with a code, `/password/reset` with it sets the password and verifies the address, and the audit event.
@Suite("Invitations over the Unix socket", .serialized)
struct InvitationTests {
    @Test(
        "an invited user chooses a password with the mailed code and can log in",
        .enabled("needs root") { getuid() == 0 })
    func inviteThenAccept() async throws {
        try await withDaemon(arguments: ["--socket-mode", "0600"]) { daemon in
            let socket = try #require(daemon.socketPath)
            let email = "invited@example.com"
            let invited = try await AdminCLITests.cli(
                socket, ["users", "create", email, "--invite", "--roles", "user,editor"])
            #expect(invited.status == 0, "\(invited)")
            #expect(invited.stdout == "invited \(email): an invitation was mailed\n", "\(invited)")

            // The invitation: its own subject and words, and a code.
            let mail = try await MaildirReader.waitForCode(in: daemon.dataDirectory + "/mail", to: email)
            let message = MaildirReader.messages(in: daemon.dataDirectory + "/mail", to: email).first ?? ""
            #expect(message.contains("You are invited to"), "\(message)")
            #expect(message.contains("choose your password"), "\(message)")

            // Before accepting, no password opens the account, and it is unverified.
            let early = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/login", to: try daemon.tcp,
                json: ["email": email, "password": "any password 2026"])
            #expect(early.status == 401, "\(early.text)")
            let shown = AdminCLITests.json(
                try await AdminCLITests.cli(socket, ["users", "show", email, "--json"]).stdout)
            #expect((shown["user"] as? [String: Any])?["email_verified"] as? Bool == false, "\(shown)")

            // A wrong code is refused; the mailed one sets the password and verifies the address.
            let wrong = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/password/reset", to: try daemon.tcp,
                json: [
                    "email": email, "code": mail == "000000" ? "111111" : "000000",
                    "new_password": "invited horse 2026",
                ])
            #expect(wrong.status == 400, "\(wrong.text)")
            let accepted = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/password/reset", to: try daemon.tcp,
                json: ["email": email, "code": mail, "new_password": "invited horse 2026"])
            #expect(accepted.status == 200, "\(accepted.text)")
            let login = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/login", to: try daemon.tcp,
                json: ["email": email, "password": "invited horse 2026"])
            #expect(login.status == 200, "\(login.text)")
            let user = AdminCLITests.json(
                try await AdminCLITests.cli(socket, ["users", "show", email, "--json"]).stdout)
            #expect((user["user"] as? [String: Any])?["email_verified"] as? Bool == true, "\(user)")
            #expect((user["user"] as? [String: Any])?["roles"] as? [String] == ["user", "editor"], "\(user)")

            // Asked twice: the address has an account. A password with --invite is refused by the command.
            AdminCLITests.expectOneLineFailure(
                try await AdminCLITests.cli(socket, ["users", "create", email, "--invite"]),
                containing: ["already exists"])
            let both = try await AdminCLITests.cli(
                socket, ["users", "create", "x@example.com", "--invite", "--password-stdin"])
            #expect(both.status != 0 && both.stderr.contains("--invite"), "\(both)")

            // Audited with the peer, and the code appears in no log line.
            let events = daemon.stderrText.split(separator: "\n").map { AdminCLITests.json(String($0)) }
            let entry = events.first { $0["event"] as? String == "admin.user_invited" } ?? [:]
            #expect(entry["peer_uid"] as? String == "0" && entry["user_id"] != nil, "\(entry)")
            #expect(!daemon.stderrText.contains(mail))
        }
    }
}
