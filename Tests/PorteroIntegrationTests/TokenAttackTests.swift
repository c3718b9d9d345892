import Foundation
import PorteroCore
import PorteroTestSupport
import Testing

/// Forged and misused tokens against the real binary: every one is 401 `invalid_token` with
/// `WWW-Authenticate: Bearer realm="portero", error="invalid_token"` (TokenServiceTests covers the same cases
/// against the token service alone).
@Suite("Token attacks", .serialized)
struct TokenAttackTests {
    static func part(_ token: String, _ index: Int) throws -> [String: Any] {
        let bytes = try #require(Secrets.decodeBase64URL(token.split(separator: ".")[index]))
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func encode(_ object: [String: Any]) throws -> String {
        Secrets.base64URL(Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])))
    }

    @Test(
        "alg none, switched alg, tampering, header tricks, wrong kinds and extra segments are all invalid_token",
        arguments: ["HS256", "EdDSA"]
    )
    func forgedTokens(algorithm: String) async throws {
        try await withDaemon(arguments: ["--jwt-algorithm", algorithm]) { daemon in
            let client = AuthFlowTests.Client(endpoint: try daemon.tcp, daemon: daemon)
            let verified = try await client.verifiedUser("mallory-target@example.com", password: "honest user here")
            let access = try #require(verified.json?["access_token"] as? String)
            let refresh = try #require(verified.json?["refresh_token"] as? String)
            let idToken = try #require(verified.json?["id_token"] as? String)
            let parts = access.split(separator: ".").map(String.init)
            let header = try Self.part(access, 0)
            var payload = try Self.part(access, 1)

            var forged: [String] = [refresh, idToken, access + ".", access + ".x", parts[0] + "." + parts[1]]
            #expect(header["alg"] as? String == algorithm)
            let otherAlgorithms = ["EdDSA", "HS256", "HS384"].filter { $0 != algorithm }
            for (key, value) in [("alg", "none"), ("alg", "None")] + otherAlgorithms.map({ ("alg", $0) }) {
                var changed = header
                changed[key] = value
                forged.append(try Self.encode(changed) + "." + parts[1] + "." + parts[2])
                forged.append(try Self.encode(changed) + "." + parts[1] + ".")
            }
            for (key, value) in [
                ("jku", "http://127.0.0.1:1/jwks.json"), ("x5u", "http://127.0.0.1:1/cert"),
                ("jwk", ["kty": "oct", "k": "c2VjcmV0"]), ("crit", ["exp"]),
                // A kid must name one of the daemon's live keys; nothing else is looked up.
                ("kid", "other-key"), ("kid", ""), ("kid", 1), ("kid", "../keys/code-hmac"),
            ] as [(String, Any)] {
                var changed = header
                changed[key] = value
                forged.append(try Self.encode(changed) + "." + parts[1] + "." + parts[2])
            }
            payload["roles"] = ["admin"]
            forged.append(parts[0] + "." + (try Self.encode(payload)) + "." + parts[2])
            payload["exp"] = "tomorrow"
            forged.append(parts[0] + "." + (try Self.encode(payload)) + "." + parts[2])
            payload["exp"] = nil
            forged.append(parts[0] + "." + (try Self.encode(payload)) + "." + parts[2])
            for token in forged {
                let answer = try await client.get("/profile", token: token)
                #expect(answer.status == 401, "\(token)")
                #expect(answer.json?["error"] as? String == "invalid_token", "\(token): \(answer.text)")
                #expect(answer["www-authenticate"]?.hasPrefix(#"Bearer realm="portero", error="invalid_token""#) == true)
            }
            // The genuine token still works, and the daemon is still serving.
            #expect(try await client.get("/profile", token: access).status == 200)
        }
    }

    /// HS256 over `header.payload` with `secret`, as the daemon signs.
    static func sign(_ header: [String: Any], _ payload: [String: Any], secret: String) throws -> String {
        let input = try encode(header) + "." + encode(payload)
        let hex = Array(Secrets.hmacHex(key: Array(secret.utf8), input).utf8)
        let mac = stride(from: 0, to: hex.count, by: 2).compactMap {
            UInt8(String(decoding: hex[$0..<$0 + 2], as: UTF8.self), radix: 16)
        }
        return input + "." + Secrets.base64URL(mac)
    }

    @Test(
        "signed with the daemon's key but expired beyond skew, nbf/iat ahead, wrong iss/aud; foreign key; bad signature"
    )
    func signedButWrong() async throws {
        let secret = "token-attack-test-secret-0123456789abcdef"
        try await withDaemon(environment: ["PORTERO_JWT_SECRET": secret]) { daemon in
            let client = AuthFlowTests.Client(endpoint: try daemon.tcp, daemon: daemon)
            let verified = try await client.verifiedUser("signed-target@example.com", password: "honest user there")
            let access = try #require(verified.json?["access_token"] as? String)
            let header = try Self.part(access, 0)
            let payload = try Self.part(access, 1)
            let now = Int(Date().timeIntervalSince1970)

            // The test signs as the daemon does: its own copy of the genuine claims is accepted.
            let resigned = try Self.sign(header, payload, secret: secret)
            #expect(try await client.get("/profile", token: resigned).status == 200, "the test's signing is wrong")

            func expectRefused(_ token: String, _ code: String, _ comment: Comment) async throws {
                let answer = try await client.get("/profile", token: token)
                #expect(answer.status == 401, comment)
                #expect(answer.json?["error"] as? String == code, comment)
                let challenge = answer["www-authenticate"] ?? ""
                #expect(challenge.hasPrefix(#"Bearer realm="portero", error="invalid_token""#), comment)
            }
            func with(_ changes: [String: Any?]) -> [String: Any] {
                var changed = payload
                for (key, value) in changes { changed[key] = value }
                return changed
            }
            // Expired beyond the 60 s skew: token_expired; the other claims make it invalid_token.
            try await expectRefused(
                try Self.sign(header, with(["exp": now - 120, "iat": now - 3600, "nbf": now - 3600]), secret: secret),
                "token_expired", "expired 120 s ago")
            for (changes, comment) in [
                (["nbf": now + 600], "nbf 10 minutes ahead"),
                (["iat": now + 600], "iat 10 minutes ahead"),
                (["iss": "someone-else"], "wrong iss"),
                (["aud": "someone-else"], "wrong aud"),
                (["aud": ["someone-else"]], "wrong aud list"),
                (["sub": "not-a-uuid"], "sub not a user id"),
                (["exp": Double(now + 600) + 0.5], "fractional exp"),
                (["exp": nil], "no exp"),
                (["nbf": "soon"], "non-numeric nbf"),
            ] as [([String: Any?], Comment)] {
                try await expectRefused(try Self.sign(header, with(changes), secret: secret), "invalid_token", comment)
            }
            // Signed with another key (same kid, so only the signature tells).
            try await expectRefused(
                try Self.sign(header, payload, secret: "a-foreign-secret-of-at-least-32-bytes!"), "invalid_token",
                "foreign key")
            // The signature tampered: one character changed, truncated, doubled, emptied.
            let parts = access.split(separator: ".").map(String.init)
            let flipped = String(parts[2].dropLast()) + (parts[2].last == "A" ? "B" : "A")
            for signature in [flipped, String(parts[2].dropLast(4)), parts[2] + parts[2], "AAAA"] {
                try await expectRefused(parts[0] + "." + parts[1] + "." + signature, "invalid_token", "signature")
            }
            // Whitespace inside the credentials (trailing whitespace is the header's own, which HTTP strips).
            for token in [" " + access, access.replacingOccurrences(of: ".", with: " ."), "\t" + access] {
                let answer = try await HTTPTestClient.request(
                    "GET", "/api/v1/auth/profile", to: try daemon.tcp, headers: ["Authorization": "Bearer \(token)"])
                #expect(answer.status == 401, "\(token.debugDescription)")
            }
            #expect(try await client.get("/profile", token: access).status == 200)
        }
    }
}
