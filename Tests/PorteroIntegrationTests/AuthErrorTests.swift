import Foundation
import PorteroTestSupport
import Testing

/// SPEC §3's error rows, each against the real binary.
@Suite("Auth errors", .serialized)
struct AuthErrorTests {
    typealias Client = AuthFlowTests.Client

    @Test("register: 400 naming each bad field, 409 for an existing email")
    func registerValidation() async throws {
        try await withDaemon { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            let cases: [([String: Any], String)] = [
                ([:], "email"),
                (["email": "a@example.com"], "password"),
                (["email": "not-an-email", "password": "long enough pass"], "email"),
                (["email": "a@example.com", "password": "short"], "password"),
                (["email": "a@example.com", "password": "password123"], "password"),
                (["email": "a@example.com", "password": 12345678], "password"),
                (["email": "a@example.com", "password": "long enough pass", "name": "Ada\u{0}"], "name"),
                (["email": "a@example.com\r\nBcc: x@evil.example", "password": "long enough pass"], "email"),
                (
                    ["email": String(repeating: "a", count: 65) + "@example.com", "password": "long enough pass"],
                    "email"
                ),
                (
                    ["email": "a@" + String(repeating: "b", count: 250) + ".com", "password": "long enough pass"],
                    "email"
                ),
            ]
            for (body, field) in cases {
                let answer = try await client.post("/register", body)
                #expect(answer.status == 400, "\(body)")
                #expect(answer.json?["error"] as? String == "validation_error")
                #expect((answer.json?["fields"] as? [String: String])?[field] != nil, "\(body): \(answer.text)")
            }
        }
    }

    @Test("ASCII-only case folding: Kelvin sign, dotless i and ß do not match ASCII addresses")
    func unicodeLookalikes() async throws {
        try await withDaemon { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            // Verified, so the address is taken (an unverified one would start over).
            #expect(try await client.verifiedUser("kim@example.com", password: "seoul tower 1969").status == 200)
            #expect(
                try await client.post("/register", ["email": "KIM@EXAMPLE.COM", "password": "seoul tower 1969"]).status
                    == 409)
            // U+212A KELVIN SIGN, U+0131 DOTLESS I: distinct accounts, not the ASCII one.
            #expect(
                try await client.post("/register", ["email": "\u{212A}im@example.com", "password": "seoul tower 1969"])
                    .status == 201)
            #expect(
                try await client.post("/register", ["email": "k\u{131}m@example.com", "password": "seoul tower 1969"])
                    .status == 201)
            let status = try await client.get("/verification-status?email=kim@example.com")
            #expect(status.json?["email"] as? String == "kim@example.com")
        }
    }

    @Test("verify-email: 404 unknown, a code dies after 5 wrong tries, resend kills the old code, 409 when verified")
    func codes() async throws {
        try await withDaemon { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let unknown = try await client.post("/verify-email", ["email": "nobody@example.com", "code": "123456"])
            #expect(unknown.status == 404)
            #expect(unknown.json?["error"] as? String == "user_not_found")
            #expect(try await client.post("/resend-verification", ["email": "nobody@example.com"]).status == 404)
            #expect(try await client.get("/verification-status?email=nobody@example.com").status == 404)
            #expect(try await client.get("/verification-status").status == 400)

            let email = "tries@example.com"
            #expect(try await client.post("/register", ["email": email, "password": "five wrong tries"]).status == 201)
            let code = try await client.code(for: email)
            let wrong = code == "999999" ? "888888" : "999999"
            for _ in 0..<5 {
                #expect(try await client.post("/verify-email", ["email": email, "code": wrong]).status == 400)
            }
            let dead = try await client.post("/verify-email", ["email": email, "code": code])
            #expect(dead.status == 400)
            #expect(dead.json?["error"] as? String == "invalid_code")

            let resent = try await client.post("/resend-verification", ["email": email])
            #expect(resent.status == 200)
            #expect(resent.json?["email"] as? String == email)
            let second = try await client.code(for: email, skipping: 1)
            let third = try await client.post("/resend-verification", ["email": email])
            #expect(third.status == 200)
            let newest = try await client.code(for: email, skipping: 2)
            if second != newest {
                #expect(try await client.post("/verify-email", ["email": email, "code": second]).status == 400)
            }
            #expect(try await client.post("/verify-email", ["email": email, "code": newest]).status == 200)
            let again = try await client.post("/resend-verification", ["email": email])
            #expect(again.status == 409)
            #expect(again.json?["error"] as? String == "already_verified")
        }
    }

    @Test("a verification token verifies with {code} alone and works nowhere else")
    func verificationToken() async throws {
        try await withDaemon { daemon in
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            let registered = try await client.post(
                "/register", ["email": "vt@example.com", "password": "token scoped 2026"])
            let token = try #require(registered.json?["verification_token"] as? String)
            for path in ["/profile", "/sessions"] {
                let answer = try await client.get(path, token: token)
                #expect(answer.status == 401)
                #expect(answer.json?["error"] as? String == "invalid_token")
            }
            #expect(try await client.post("/logout", [:], token: token).status == 401)
            #expect(try await client.post("/resend-verification", [:], token: token).status == 200)
            let code = try await client.code(for: "vt@example.com", skipping: 1)
            let verified = try await client.post("/verify-email", ["code": code], token: token)
            #expect(verified.status == 200, "\(verified.text)")
        }
    }

    @Test("codes expire after code_ttl")
    func codeExpiry() async throws {
        try await withDaemon(arguments: ["--code-ttl", "1s"]) { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            #expect(
                try await client.post("/register", ["email": "late@example.com", "password": "too late now 42"]).status
                    == 201)
            let code = try await client.code(for: "late@example.com")
            try await Task.sleep(for: .milliseconds(1500))
            let late = try await client.post("/verify-email", ["email": "late@example.com", "code": code])
            #expect(late.status == 400)
            #expect(late.json?["error"] as? String == "invalid_code")
        }
    }

    @Test("lockout: 423 with locked_until after max_failures, for unknown emails too; a reset clears it")
    func lockout() async throws {
        try await withDaemon(arguments: ["--lockout-max-failures", "3", "--rate-login", "0"]) { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let email = "locked@example.com"
            _ = try await client.verifiedUser(email, password: "right password here")
            for target in [email, "ghost@example.com"] {
                for _ in 0..<3 {
                    #expect(
                        try await client.post("/login", ["email": target, "password": "wrong password"]).status == 401)
                }
                let locked = try await client.post("/login", ["email": target, "password": "right password here"])
                #expect(locked.status == 423, "\(target)")
                #expect(locked.json?["error"] as? String == "account_locked")
                #expect(locked.json?["locked_until"] is String)
            }
            #expect(try await client.post("/password/forgot", ["email": email]).status == 202)
            let code = try await client.code(for: email, skipping: 1)
            let reset = try await client.post(
                "/password/reset", ["email": email, "code": code, "new_password": "brand new secret 7"])
            #expect(reset.status == 200)
            #expect(try await client.post("/login", ["email": email, "password": "brand new secret 7"]).status == 200)
        }
    }

    @Test("bearer problems: missing, garbage, wrong scheme; sessions: delete yours 204, others 404")
    func bearerAndSessions() async throws {
        try await withDaemon { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let garbage = try await client.get("/profile", token: "not.a.jwt")
            #expect(garbage.status == 401)
            #expect(garbage.json?["error"] as? String == "invalid_token")
            #expect(garbage["www-authenticate"]?.hasPrefix(#"Bearer realm="portero", error="invalid_token""#) == true)
            let basic = try await HTTPTestClient.request(
                "GET", "/api/v1/auth/profile", to: try daemon.tcp, headers: ["Authorization": "Basic YTpi"])
            #expect(basic.json?["error"] as? String == "missing_token")

            let first = try await client.verifiedUser("sessions@example.com", password: "many sessions 99")
            let firstAccess = try #require(first.json?["access_token"] as? String)
            let second = try await client.post(
                "/login", ["email": "sessions@example.com", "password": "many sessions 99"])
            let secondAccess = try #require(second.json?["access_token"] as? String)
            let list = try await client.get("/sessions", token: secondAccess)
            let sessions = try #require(list.json?["sessions"] as? [[String: Any]])
            let other = try #require(sessions.first { $0["current"] as? Bool == false }?["id"] as? String)
            let deleted = try await HTTPTestClient.request(
                "DELETE", "/api/v1/auth/sessions/\(other)", to: try daemon.tcp,
                headers: ["Authorization": "Bearer \(secondAccess)"])
            #expect(deleted.status == 204)
            #expect(try await client.get("/profile", token: firstAccess).json?["error"] as? String == "token_revoked")
            let missing = try await HTTPTestClient.request(
                "DELETE", "/api/v1/auth/sessions/\(other)", to: try daemon.tcp,
                headers: ["Authorization": "Bearer \(secondAccess)"])
            #expect(missing.status == 404)
        }
    }

    @Test("a bcrypt hash is rehashed to argon2id on the next login")
    func rehashOnLogin() async throws {
        let daemon = try PorteroProcess(arguments: ["--password-algorithm", "bcrypt"])
        try await daemon.startAndWait()
        let client = Client(endpoint: try daemon.tcp, daemon: daemon)
        _ = try await client.verifiedUser("old@example.com", password: "legacy hash user")
        await daemon.stop()
        daemon.arguments = ["--password-algorithm", "argon2id"]
        try await daemon.startAndWait()
        #expect(
            try await client.post("/login", ["email": "old@example.com", "password": "legacy hash user"]).status == 200)
        let logs = try FileManager.default.contentsOfDirectory(atPath: daemon.dataDirectory).filter {
            $0.hasPrefix("log-")
        }
        let text = try logs.map { try String(contentsOfFile: daemon.dataDirectory + "/" + $0, encoding: .utf8) }
            .joined()
        let rehash = text.split(separator: "\n").last { $0.contains("\"user.password_changed\"") }
        #expect(rehash?.contains("$argon2id$") == true)
        #expect(rehash?.contains("\"revoke_tokens\":false") == true)
        #expect(
            try await client.post("/login", ["email": "old@example.com", "password": "legacy hash user"]).status == 200)
        await daemon.cleanUp()
    }
}
