import Foundation
import PorteroTestSupport
import Testing

/// `portero users …` and `portero sessions …` through the built binary against a running daemon over its real Unix
/// socket: every command, the audit events, an unprivileged uid refused, the daemon gone, and TCP's 404.
@Suite("Admin CLI over the Unix socket", .serialized)
struct AdminCLITests {
    static var canRun: Bool {
        getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")
    }

    /// `portero <arguments> --socket <socket>`.
    static func cli(_ socket: String, _ arguments: [String]) async throws -> CommandResult {
        try await PorteroProcess.run(arguments + ["--socket", socket])
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    /// One line on stderr, nothing on stdout, exit 1.
    static func expectOneLineFailure(_ result: CommandResult, containing parts: [String]) {
        #expect(result.status == 1, "\(result)")
        #expect(result.stdout.isEmpty)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "\(result.stderr)")
        for part in parts { #expect(result.stderr.contains(part), "\(result.stderr)") }
    }

    @Test("every users/sessions command against a running daemon", .enabled("needs root and setpriv") { Self.canRun })
    func everyCommand() async throws {
        let directory = try TestDirectory("admin-cli")
        defer { directory.remove() }
        chmod(directory.path, 0o711)
        let daemon = try PorteroProcess(directory: directory, arguments: ["--socket-mode", "0666"])
        try await daemon.startAndWait()
        let socket = try #require(daemon.socketPath)
        do {
            for email in ["ana@example.com", "bea@example.com"] {
                let registered = try await HTTPTestClient.request(
                    "POST", "/api/v1/auth/register", to: try daemon.unix,
                    json: ["email": email, "password": "admin cli test 2026"])
                #expect(registered.status == 201)
            }
            let login = { () async throws -> TestResponse in
                try await HTTPTestClient.request(
                    "POST", "/api/v1/auth/login", to: try daemon.tcp,
                    json: ["email": "ana@example.com", "password": "admin cli test 2026"])
            }

            // list: JSON for scripts, a table for people, filters and paging
            let listed = try await Self.cli(socket, ["users", "list", "--json"])
            #expect(listed.status == 0, "\(listed)")
            let users = Self.json(listed.stdout)["users"] as? [[String: Any]] ?? []
            #expect(users.compactMap { $0["email"] as? String } == ["ana@example.com", "bea@example.com"])
            let table = try await Self.cli(socket, ["users", "list"])
            #expect(table.stdout.hasPrefix("EMAIL") && table.stdout.contains("bea@example.com"), "\(table)")
            let page = try await Self.cli(socket, ["users", "list", "--limit", "1"])
            #expect(page.stdout.contains("ana@example.com") && !page.stdout.contains("bea@example.com"))
            let cursor = try #require(page.stdout.split(separator: " ").last.map { String($0.dropLast()) })
            let next = try await Self.cli(socket, ["users", "list", "--limit", "1", "--cursor", cursor])
            #expect(next.stdout.contains("bea@example.com") && !next.stdout.contains("ana@example.com"), "\(next)")
            let filtered = try await Self.cli(
                socket, ["users", "list", "--email", "BEA", "--verified", "false", "--json"])
            #expect((Self.json(filtered.stdout)["users"] as? [Any])?.count == 1)

            // verify: once; then the one-line 409
            #expect(try await login().status == 403)
            let verified = try await Self.cli(socket, ["users", "verify", "ana@example.com"])
            #expect(verified.status == 0 && verified.stdout == "verified ana@example.com\n", "\(verified)")
            Self.expectOneLineFailure(
                try await Self.cli(socket, ["users", "verify", "ana@example.com"]), containing: ["already verified"])
            let session = try await login()
            #expect(session.status == 200)

            // set-roles, show
            let roles = try await Self.cli(
                socket, ["users", "set-roles", "ana@example.com", "admin", "user", "--json"])
            #expect((Self.json(roles.stdout)["user"] as? [String: Any])?["roles"] as? [String] == ["admin", "user"])
            let shown = try await Self.cli(socket, ["users", "show", "ana@example.com"])
            #expect(shown.stdout.contains("roles         admin,user") && shown.stdout.contains("sessions      1"))

            // sessions: list (one user and all), revoke one by id, revoke all of a user
            let sessions = try await Self.cli(socket, ["sessions", "list", "ana@example.com", "--json"])
            let sessionID = try #require(
                (Self.json(sessions.stdout)["sessions"] as? [[String: Any]])?.first?["id"] as? String)
            #expect(try await Self.cli(socket, ["sessions", "list"]).stdout.contains(sessionID))
            let revokedOne = try await Self.cli(socket, ["sessions", "revoke", "--id", sessionID])
            #expect(revokedOne.status == 0, "\(revokedOne)")
            let token = try #require(session.json?["access_token"] as? String)
            let profile = try await HTTPTestClient.request(
                "GET", "/api/v1/auth/profile", to: try daemon.tcp, headers: ["Authorization": "Bearer \(token)"])
            #expect(profile.status == 401)
            #expect(try await login().status == 200)
            let revokedAll = try await Self.cli(socket, ["sessions", "revoke", "ana@example.com"])
            #expect(revokedAll.stdout == "revoked 1 session(s) of ana@example.com\n", "\(revokedAll)")

            // lock: 423 even with the right password; unlock
            #expect(try await Self.cli(socket, ["users", "lock", "ana@example.com"]).status == 0)
            #expect(try await login().status == 423)
            let locked = try await Self.cli(socket, ["users", "list", "--locked", "true"])
            #expect(locked.stdout.contains("by admin"), "\(locked)")
            #expect(try await Self.cli(socket, ["users", "unlock", "ana@example.com"]).status == 0)
            #expect(try await login().status == 200)

            // delete: refused without --yes and no terminal; then gone, and the address registers again
            Self.expectOneLineFailure(
                try await Self.cli(socket, ["users", "delete", "ana@example.com"]), containing: ["--yes"])
            let deleted = try await Self.cli(socket, ["users", "delete", "ana@example.com", "--yes"])
            #expect(deleted.status == 0, "\(deleted)")
            Self.expectOneLineFailure(
                try await Self.cli(socket, ["users", "show", "ana@example.com"]), containing: ["No such user"])
            let again = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/register", to: try daemon.unix,
                json: ["email": "ana@example.com", "password": "admin cli test 2026"])
            #expect(again.status == 201)

            // snapshot: the daemon writes snapshot-<seq>.json at once
            let snapshot = try await Self.cli(socket, ["snapshot", "--json"])
            let seq = try #require(Self.json(snapshot.stdout)["seq"] as? Int, "\(snapshot)")
            let files = try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory)
            #expect(files.contains(String(format: "snapshot-%016d.json", seq)), "\(files)")

            // every action is a notice with the peer (root, this process's child) and the target
            let events = daemon.stderrText.split(separator: "\n").map { Self.json(String($0)) }
            for action in [
                "user_verified", "roles_set", "session_revoked", "sessions_revoked", "user_locked", "user_unlocked",
                "user_deleted", "snapshot",
            ] {
                let entry = events.first { $0["event"] as? String == "admin.\(action)" } ?? [:]
                #expect(entry["level"] as? String == "notice", "\(action)")
                #expect(entry["peer_uid"] as? String == "0" && entry["peer_user"] as? String == "root", "\(entry)")
                #expect(Int32(entry["peer_pid"] as? String ?? "") ?? 0 > 0, "\(entry)")
                #expect((entry["user_id"] != nil) == (action != "snapshot"), "\(entry)")
            }

            // an unprivileged uid is refused by the daemon, in one line naming the socket
            let nobody = try await PorteroProcess.runProgram(
                "/usr/bin/setpriv",
                [
                    "--reuid=65534", "--regid=65534", "--clear-groups", PorteroProcess.binaryPath, "users", "list",
                    "--socket", socket,
                ],
                environment: ["PATH": "/usr/bin:/bin"])
            Self.expectOneLineFailure(nobody, containing: ["access denied", socket, "admin_group"])

            // over TCP the admin API does not exist, whatever the method
            for (method, path) in [
                ("GET", "/admin/v1/users"), ("DELETE", "/admin/v1/users/x"), ("GET", "/admin/v1/stats"),
            ] {
                let overTCP = try await HTTPTestClient.request(method, path, to: try daemon.tcp)
                #expect(overTCP.status == 404 && overTCP.json?["error"] as? String == "not_found", "\(method) \(path)")
            }
        } catch {
            await daemon.cleanUp()
            throw error
        }
        await daemon.stop()

        // the daemon gone: one line naming the socket and what to do
        Self.expectOneLineFailure(
            try await Self.cli(socket, ["users", "list"]), containing: ["not running", socket, "systemctl start"])
    }
}
