import Foundation
import PorteroTestSupport
import Testing

/// The whole flow a user goes through, against the real binary, over TCP and over the Unix socket.
@Suite("Auth flow", .serialized)
struct AuthFlowTests {
    static let base = "/api/v1/auth"

    struct Client: Sendable {
        let endpoint: TestEndpoint
        let maildir: String

        init(endpoint: TestEndpoint, daemon: PorteroProcess) {
            self.init(endpoint: endpoint, maildir: daemon.dataDirectory + "/mail")
        }

        init(endpoint: TestEndpoint, maildir: String) {
            self.endpoint = endpoint
            self.maildir = maildir
        }

        func post(_ path: String, _ json: [String: Any], token: String? = nil) async throws -> TestResponse {
            var headers: [String: String] = [:]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            return try await HTTPTestClient.request(
                "POST", AuthFlowTests.base + path, to: endpoint, headers: headers, json: json)
        }

        func get(_ path: String, token: String? = nil) async throws -> TestResponse {
            var headers: [String: String] = [:]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            return try await HTTPTestClient.request("GET", AuthFlowTests.base + path, to: endpoint, headers: headers)
        }

        func code(for email: String, skipping earlier: Int = 0) async throws -> String {
            try await MaildirReader.waitForCode(in: maildir, to: email, skipping: earlier)
        }

        /// Registers and verifies; returns the verify answer (with tokens).
        func verifiedUser(_ email: String, password: String) async throws -> TestResponse {
            let registered = try await post("/register", ["email": email, "password": password, "name": "Ada"])
            #expect(registered.status == 201, "\(registered.text)")
            let code = try await code(for: email)
            return try await post("/verify-email", ["email": email, "code": code])
        }
    }

    @Test("register → verify → login → profile → refresh → logout", arguments: ["tcp", "unix"])
    func wholeFlow(transport: String) async throws {
        try await withDaemon { daemon in
            let client = Client(endpoint: transport == "tcp" ? try daemon.tcp : try daemon.unix, daemon: daemon)
            let email = "Ada.Lovelace@Example.com"
            let password = "analytical engine 1843"

            let registered = try await client.post(
                "/register", ["email": " \(email) ", "password": password, "nombre": "Ada", "telefono": "+44 20 1234"])
            #expect(registered.status == 201)
            let body = try #require(registered.json)
            #expect(body["verification_required"] as? Bool == true)
            #expect((body["verification_token"] as? String)?.split(separator: ".").count == 3)
            let user = try #require(body["user"] as? [String: Any])
            #expect(user["email"] as? String == email)
            #expect(user["name"] as? String == "Ada")
            #expect(user["phone"] as? String == "+44 20 1234")
            #expect(user["email_verified"] as? Bool == false)
            #expect(user["roles"] as? [String] == ["user"])
            #expect(user.keys.contains("last_login_at"))

            let unverified = try await client.post("/login", ["email": email, "password": password])
            #expect(unverified.status == 403)
            #expect(unverified.json?["error"] as? String == "account_not_verified")
            #expect(unverified.json?["needs_verification"] as? Bool == true)

            let status = try await client.get("/verification-status?email=\(email.lowercased())")
            #expect(status.status == 200)
            #expect(status.json?["verified"] as? Bool == false)

            let code = try await client.code(for: email)
            #expect(code.count == 6)
            let wrong = code == "000000" ? "111111" : "000000"
            let bad = try await client.post("/verify-email", ["email": email, "code": wrong])
            #expect(bad.status == 400)
            #expect(bad.json?["error"] as? String == "invalid_code")

            let verified = try await client.post("/verify-email", ["email": email, "code": code])
            #expect(verified.status == 200, "\(verified.text)")
            #expect(verified.json?["token_type"] as? String == "Bearer")
            #expect(verified.json?["access_token"] is String)
            #expect((verified.json?["user"] as? [String: Any])?["email_verified"] as? Bool == true)

            let reused = try await client.post("/verify-email", ["email": email, "code": code])
            #expect(reused.status == 409)
            #expect(reused.json?["error"] as? String == "already_verified")

            // Only a verified account makes the address taken (an unverified one starts over: HardeningTests).
            let again = try await client.post("/register", ["email": email.lowercased(), "password": password])
            #expect(again.status == 409)
            #expect(again.json?["error"] as? String == "user_exists")

            let wrongPassword = try await client.post("/login", ["email": email, "password": "not the password"])
            let unknown = try await client.post(
                "/login", ["email": "nobody@example.com", "password": "not the password"])
            #expect(wrongPassword.status == 401)
            #expect(wrongPassword.text == unknown.text)
            #expect(wrongPassword["www-authenticate"] == #"Bearer realm="portero""#)

            let login = try await client.post("/login", ["email": email, "password": password])
            #expect(login.status == 200)
            let tokens = try #require(login.json)
            let access = try #require(tokens["access_token"] as? String)
            let refresh = try #require(tokens["refresh_token"] as? String)
            #expect(tokens["expires_in"] as? Int == 3600)
            #expect(tokens["id_token"] is String)
            #expect((tokens["user"] as? [String: Any])?["last_login_at"] is String)

            let profile = try await client.get("/profile", token: access)
            #expect(profile.status == 200)
            #expect((profile.json?["user"] as? [String: Any])?["email"] as? String == email)

            let noToken = try await client.get("/profile")
            #expect(noToken.status == 401)
            #expect(noToken.json?["error"] as? String == "missing_token")
            #expect(noToken["www-authenticate"] == #"Bearer realm="portero""#)

            let verificationToken = try #require(body["verification_token"] as? String)
            let wrongKind = try await client.get("/profile", token: verificationToken)
            #expect(wrongKind.status == 401)
            #expect(wrongKind.json?["error"] as? String == "invalid_token")
            #expect(wrongKind["www-authenticate"]?.contains(#"error="invalid_token""#) == true)

            let rotated = try await client.post("/refresh", ["refresh_token": refresh])
            #expect(rotated.status == 200)
            let newRefresh = try #require(rotated.json?["refresh_token"] as? String)
            #expect(newRefresh != refresh)
            let newAccess = try #require(rotated.json?["access_token"] as? String)

            let sessions = try await client.get("/sessions", token: newAccess)
            let list = try #require(sessions.json?["sessions"] as? [[String: Any]])
            #expect(list.count == 2)
            #expect(list.filter { $0["current"] as? Bool == true }.count == 1)

            let logout = try await client.post("/logout", [:], token: newAccess)
            #expect(logout.status == 200)
            let revoked = try await client.get("/profile", token: newAccess)
            #expect(revoked.status == 401)
            #expect(revoked.json?["error"] as? String == "token_revoked")
            let deadRefresh = try await client.post("/refresh", ["refresh_token": newRefresh])
            #expect(deadRefresh.status == 401)
        }
    }

    @Test("a reused refresh token revokes its family; of parallel refreshes exactly one wins")
    func refreshReuse() async throws {
        try await withDaemon { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let verified = try await client.verifiedUser("reuse@example.com", password: "tulip garden 2024")
            let refresh = try #require(verified.json?["refresh_token"] as? String)
            let answers = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await client.post("/refresh", ["refresh_token": refresh]).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(answers.filter { $0 == 200 }.count == 1, "\(answers)")
            #expect(answers.filter { $0 == 401 }.count == 7)
            let reused = try await client.post("/refresh", ["refresh_token": refresh])
            #expect(reused.json?["error"] as? String == "refresh_token_reused")
        }
    }

    @Test("password reset and change revoke sessions; logout-all revokes every token")
    func passwordFlows() async throws {
        try await withDaemon { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            let email = "grace@example.com"
            let verified = try await client.verifiedUser(email, password: "cobol compiler 1959")
            let firstAccess = try #require(verified.json?["access_token"] as? String)

            let forgotUnknown = try await client.post("/password/forgot", ["email": "ghost@example.com"])
            let forgot = try await client.post("/password/forgot", ["email": email])
            #expect(forgot.status == 202)
            #expect(forgotUnknown.status == 202)
            #expect(forgot.text == forgotUnknown.text)
            let resetCode = try await client.code(for: email, skipping: 1)
            let weak = try await client.post(
                "/password/reset", ["email": email, "code": resetCode, "new_password": "password"])
            #expect(weak.status == 400)
            #expect((weak.json?["fields"] as? [String: String])?["new_password"] != nil)
            let reset = try await client.post(
                "/password/reset", ["email": email, "code": resetCode, "new_password": "harvard mark one"])
            #expect(reset.status == 200, "\(reset.text)")
            #expect(try await client.get("/profile", token: firstAccess).status == 401)
            let oldLogin = try await client.post("/login", ["email": email, "password": "cobol compiler 1959"])
            #expect(oldLogin.status == 401)

            let login = try await client.post("/login", ["email": email, "password": "harvard mark one"])
            let access = try #require(login.json?["access_token"] as? String)
            let changed = try await client.post(
                "/password/change", ["current_password": "harvard mark one", "new_password": "nanosecond wire 30cm"],
                token: access)
            #expect(changed.status == 200, "\(changed.text)")
            let changedAccess = try #require(changed.json?["access_token"] as? String)
            #expect(try await client.get("/profile", token: access).status == 401)
            #expect(try await client.get("/profile", token: changedAccess).status == 200)

            let patched = try await HTTPTestClient.request(
                "PATCH", Self.base + "/profile", to: try daemon.unix,
                headers: ["Authorization": "Bearer \(changedAccess)"], json: ["name": "Grace Hopper", "phone": ""])
            #expect(patched.status == 200)
            #expect((patched.json?["user"] as? [String: Any])?["name"] as? String == "Grace Hopper")

            let all = try await client.post("/logout-all", [:], token: changedAccess)
            #expect(all.status == 200)
            #expect(try await client.get("/profile", token: changedAccess).status == 401)
        }
    }

    @Test("users, sessions and revocations survive a restart and a kill -9")
    func survivesRestart() async throws {
        let daemon = try PorteroProcess()
        try await daemon.startAndWait()
        let client = Client(endpoint: try daemon.tcp, daemon: daemon)
        let verified = try await client.verifiedUser("lin@example.com", password: "quantum chromodynamics")
        let revokedAccess = try #require(verified.json?["access_token"] as? String)
        #expect(try await client.post("/logout", [:], token: revokedAccess).status == 200)
        let login = try await client.post("/login", ["email": "lin@example.com", "password": "quantum chromodynamics"])
        let access = try #require(login.json?["access_token"] as? String)
        let refresh = try #require(login.json?["refresh_token"] as? String)

        for restart in ["SIGTERM", "SIGKILL"] {
            daemon.signal(restart == "SIGTERM" ? SIGTERM : SIGKILL)
            _ = try await daemon.waitForExit()
            try await daemon.startAndWait()
            #expect(try await client.get("/profile", token: access).status == 200, "after \(restart)")
            let revoked = try await client.get("/profile", token: revokedAccess)
            #expect(revoked.json?["error"] as? String == "token_revoked", "after \(restart)")
        }
        let rotated = try await client.post("/refresh", ["refresh_token": refresh])
        #expect(rotated.status == 200)
        await daemon.cleanUp()
    }
}
