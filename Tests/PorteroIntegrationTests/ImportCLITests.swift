import Foundation
import PorteroTestSupport
import Testing

/// `portero import`, `portero users create` and `portero users reset-password` through the built binary against a
/// running daemon over its real Unix socket, with password hashes made at test time by the stacks users migrate
/// from: werkzeug, Django, bcrypt, argon2-cffi, and a Keycloak export's credential made with hashlib.
@Suite("Import and account commands over the Unix socket", .serialized)
struct ImportCLITests {
    /// Root (the admin API's peer check) and the Python stacks (`make test-deps` installs them).
    static func canRun() async -> Bool {
        guard getuid() == 0 else { return false }
        let probe = try? await PorteroProcess.runProgram(
            "/usr/bin/env", ["python3", "-c", "import werkzeug, django, bcrypt, argon2"],
            environment: PorteroProcess.cleanEnvironment())
        return probe?.status == 0
    }

    /// Writes users.jsonl: one user per stack, each with its own password, and bad lines at known numbers.
    /// Prints `{email: password}` as JSON.
    static let generator = #"""
        import base64, hashlib, json, os, sys
        import bcrypt, argon2
        from werkzeug.security import generate_password_hash
        import django
        from django.conf import settings
        settings.configure(PASSWORD_HASHERS=[
            "django.contrib.auth.hashers.PBKDF2PasswordHasher",
            "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
            "django.contrib.auth.hashers.ScryptPasswordHasher",
            "django.contrib.auth.hashers.Argon2PasswordHasher",
        ])
        django.setup()
        from django.contrib.auth.hashers import make_password

        def keycloak(password, iterations=210000):
            salt = os.urandom(16)
            value = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
            return {"type": "password", "createdDate": 1700000000000,
                    "secretData": json.dumps({"value": base64.b64encode(value).decode(),
                                              "salt": base64.b64encode(salt).decode(), "additionalParameters": {}}),
                    "credentialData": json.dumps({"hashIterations": iterations, "algorithm": "pbkdf2-sha512",
                                                  "additionalParameters": {}})}

        users = {
            "werkzeug-scrypt@example.com": ("flask scrypt 1", lambda p: generate_password_hash(p)),
            "werkzeug-pbkdf2@example.com": ("flask pbkdf2 2", lambda p: generate_password_hash(p, "pbkdf2:sha256")),
            "werkzeug-sha512@example.com": ("flask pbkdf2 3",
                                            lambda p: generate_password_hash(p, "pbkdf2:sha512:100000")),
            "django@example.com": ("django pbkdf2 4", lambda p: make_password(p)),
            "django-sha1@example.com": ("django pbkdf2 5", lambda p: make_password(p, hasher="pbkdf2_sha1")),
            "django-scrypt@example.com": ("django scrypt 6", lambda p: make_password(p, hasher="scrypt")),
            "django-argon2@example.com": ("django argon2 7", lambda p: make_password(p, hasher="argon2")),
            "bcrypt@example.com": ("bcrypt twelve 8",
                                   lambda p: bcrypt.hashpw(p.encode(), bcrypt.gensalt(10)).decode()),
            "bcrypt-2y@example.com": ("bcrypt 2y 9",
                                      lambda p: "$2y$" + bcrypt.hashpw(p.encode(), bcrypt.gensalt(10)).decode()[4:]),
            "argon2@example.com": ("argon2 cffi 10", lambda p: argon2.PasswordHasher().hash(p)),
            "keycloak@example.com": ("keycloak sha512 11", keycloak),
        }
        lines, passwords = [], {}
        for email, (password, make) in users.items():
            passwords[email] = password
            lines.append(json.dumps({"email": email.upper() if email.startswith("django@") else email,
                                     "password_hash": make(password), "email_verified": True,
                                     "name": "Imported " + email.split("@")[0], "roles": ["user", "imported"],
                                     "created_at": "2021-03-04T05:06:07Z"}))
        lines.insert(2, "{not json")                                                        # line 3
        lines.insert(5, json.dumps({"email": "x@example.com", "password_hash": "md5$x$y"}))  # line 6
        lines.insert(7, "")                                                                 # line 8: blank, fine
        lines.insert(9, json.dumps({"email": "not an address"}))                            # line 10
        with open(sys.argv[1], "w") as f:
            f.write("\n".join(lines) + "\n")
        print(json.dumps(passwords))
        """#

    @Test(
        "real hashes from werkzeug, Django, bcrypt, argon2-cffi and Keycloak sign in and become argon2id",
        .enabled("needs root and python3 with werkzeug, django, bcrypt, argon2-cffi") { await Self.canRun() })
    func importOfRealHashes() async throws {
        let directory = try TestDirectory("import-cli")
        defer { directory.remove() }
        let script = directory.file("generate.py")
        try Self.generator.write(toFile: script, atomically: true, encoding: .utf8)
        let file = directory.file("users.jsonl")
        // python3 as the PATH finds it (where `make test-deps` installed the stacks).
        let generated = try await PorteroProcess.runProgram(
            "/usr/bin/env", ["python3", script, file], environment: PorteroProcess.cleanEnvironment(),
            timeout: .seconds(120))
        #expect(generated.status == 0, "\(generated.stderr)")
        let passwords = try #require(
            try JSONSerialization.jsonObject(with: Data(generated.stdout.utf8)) as? [String: String])
        #expect(passwords.count == 11)

        // Many logins from one address in a row: no per-address login limit here (RateLimitTests has it).
        let daemon = try PorteroProcess(directory: directory, arguments: ["--rate-login", "0"])
        try await daemon.startAndWait()
        let socket = try #require(daemon.socketPath)
        do {
            // The first import: every user in, the three bad lines named by their numbers, exit status 2.
            let first = try await AdminCLITests.cli(socket, ["import", file])
            #expect(first.status == 2, "\(first)")
            #expect(first.stdout == "imported 11, updated 0, unchanged 0, skipped 3\n", "\(first)")
            let problems = first.stderr.split(separator: "\n").map(String.init)
            #expect(problems.count == 3, "\(first.stderr)")
            #expect(problems.first?.hasPrefix("portero: line 3: not a JSON object") == true, "\(problems)")
            #expect(problems.dropFirst().first?.hasPrefix("portero: line 6: password_hash: unknown format") == true)
            #expect(problems.last?.hasPrefix("portero: line 10: email:") == true, "\(problems)")
            #expect(!first.stderr.contains("md5$x$y"))

            // Each user signs in over HTTP with the password the hash was made from, and not with another.
            for (email, password) in passwords.sorted(by: { $0.key < $1.key }) {
                let wrong = try await HTTPTestClient.request(
                    "POST", "/api/v1/auth/login", to: try daemon.tcp,
                    json: ["email": email, "password": password + "x"])
                #expect(wrong.status == 401, "\(email)")
                let right = try await HTTPTestClient.request(
                    "POST", "/api/v1/auth/login", to: try daemon.tcp, json: ["email": email, "password": password])
                #expect(right.status == 200, "\(email): \(right.status) \(right.text)")
                let user = right.json?["user"] as? [String: Any]
                #expect(user?["roles"] as? [String] == ["user", "imported"], "\(email)")
                #expect(user?["created_at"] as? String == "2021-03-04T05:06:07Z", "\(email)")
            }

            // sessions list, a page at a time: the pages put together are the whole list, oldest first.
            let whole = try await AdminCLITests.cli(socket, ["sessions", "list", "--limit", "500", "--json"])
            let ids = (AdminCLITests.json(whole.stdout)["sessions"] as? [[String: Any]] ?? []).compactMap {
                $0["id"] as? String
            }
            #expect(ids.count == 11, "\(whole)")
            var paged: [String] = []
            var cursor: String?
            repeat {
                let page = try await AdminCLITests.cli(
                    socket, ["sessions", "list", "--limit", "4", "--json"] + (cursor.map { ["--cursor", $0] } ?? []))
                let json = AdminCLITests.json(page.stdout)
                paged += (json["sessions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = json["next_cursor"] as? String
            } while cursor != nil && paged.count <= ids.count
            #expect(paged == ids)
            let table = try await AdminCLITests.cli(socket, ["sessions", "list", "--limit", "4"])
            #expect(table.stdout.contains("more sessions: portero sessions list --limit 4 --cursor "), "\(table)")

            // After the first login every stored hash is argon2id, durably (the snapshot holds what the log said).
            let snapshot = try await AdminCLITests.cli(socket, ["snapshot", "--json"])
            let seq = try #require(AdminCLITests.json(snapshot.stdout)["seq"] as? Int, "\(snapshot)")
            let path = daemon.dataDirectory + "/" + String(format: "snapshot-%016d.json", seq)
            let stored = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            let users = ((stored as? [String: Any])?["state"] as? [String: Any])?["users"] as? [[String: Any]] ?? []
            #expect(users.count == 11)
            for user in users {
                #expect((user["passwordHash"] as? String)?.hasPrefix("$argon2id$v=19$") == true, "\(user["email"]!)")
            }
            // …and the same passwords still sign in.
            let again = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/login", to: try daemon.tcp,
                json: ["email": "keycloak@example.com", "password": "keycloak sha512 11"])
            #expect(again.status == 200)

            // The same file again: no one created twice, nothing changed (a login's argon2id hash is kept).
            let second = try await AdminCLITests.cli(socket, ["import", file, "--json"])
            #expect(second.status == 2, "\(second)")
            let report = AdminCLITests.json(second.stdout)
            #expect(report["imported"] as? Int == 0 && report["updated"] as? Int == 0, "\(second)")
            #expect(report["unchanged"] as? Int == 11 && report["skipped"] as? Int == 3, "\(second)")
            let lines = (report["problems"] as? [[String: Any]])?.compactMap { $0["line"] as? Int }
            #expect(lines == [3, 6, 10])

            // users create: the registration policy, a login, then 409 for the same address.
            let create = { (email: String, password: String) async throws -> CommandResult in
                try await PorteroProcess.runProgram(
                    "/bin/sh",
                    [
                        "-c",
                        "printf '%s\\n' \"$1\" | \"$2\" users create \"$3\" --password-stdin --verified "
                            + "--roles staff,user --socket \"$4\"", "sh", password, PorteroProcess.binaryPath, email,
                        socket,
                    ], environment: PorteroProcess.cleanEnvironment())
            }
            AdminCLITests.expectOneLineFailure(
                try await create("carla@example.com", "password"), containing: ["password"])
            let created = try await create("carla@example.com", "a created horse 2026")
            #expect(created.status == 0 && created.stdout == "created carla@example.com\n", "\(created)")
            let login = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/login", to: try daemon.tcp,
                json: ["email": "carla@example.com", "password": "a created horse 2026"])
            #expect(
                login.status == 200
                    && (login.json?["user"] as? [String: Any])?["roles"] as? [String] == [
                        "staff", "user",
                    ])
            AdminCLITests.expectOneLineFailure(
                try await create("Carla@Example.com", "another horse 2026"), containing: ["already exists"])

            // users reset-password: a reset code mailed; it sets a new password.
            let reset = try await AdminCLITests.cli(socket, ["users", "reset-password", "carla@example.com"])
            #expect(reset.status == 0 && reset.stdout == "reset code mailed to carla@example.com\n", "\(reset)")
            let code = try await MaildirReader.waitForCode(
                in: daemon.dataDirectory + "/mail", to: "carla@example.com")
            let changed = try await HTTPTestClient.request(
                "POST", "/api/v1/auth/password/reset", to: try daemon.tcp,
                json: ["email": "carla@example.com", "code": code, "new_password": "a reset horse 2026"])
            #expect(changed.status == 200, "\(changed.text)")

            // Every action is an audit event with the peer.
            let events = daemon.stderrText.split(separator: "\n").map { AdminCLITests.json(String($0)) }
            for action in ["users_imported", "user_created", "password_reset_started"] {
                let entry = events.first { $0["event"] as? String == "admin.\(action)" } ?? [:]
                #expect(entry["level"] as? String == "notice" && entry["peer_uid"] as? String == "0", "\(action)")
            }
            let imported = events.first { $0["event"] as? String == "admin.users_imported" } ?? [:]
            // The daemon counts what it was sent: line 3, not JSON, never left the command.
            #expect(imported["imported"] as? String == "11" && imported["skipped"] as? String == "2", "\(imported)")
            // No hash or password reached the log.
            #expect(!daemon.stderrText.contains("pbkdf2") && !daemon.stderrText.contains("horse"))
        } catch {
            await daemon.cleanUp()
            throw error
        }
        await daemon.stop()
    }
}
