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
}
