import Crypto
import Foundation
import PorteroCore
import PorteroTestSupport
import Testing

/// EdDSA signing, `/.well-known/jwks.json` and `portero keys rotate` against the real binary. Tokens are checked
/// here with swift-crypto and the published keys, never by asking the daemon whether they are good.
@Suite("Key rotation and JWKS", .serialized)
struct KeyRotationTests {
    typealias Client = AuthFlowTests.Client

    /// The JSON object in segment `index` of a JWT.
    static func part(_ token: String, _ index: Int) throws -> [String: Any] {
        try TokenAttackTests.part(token, index)
    }

    static func jwks(_ endpoint: TestEndpoint) async throws -> [[String: String]] {
        let answer = try await HTTPTestClient.request("GET", "/.well-known/jwks.json", to: endpoint)
        #expect(answer.status == 200, "\(answer.text)")
        #expect(answer["content-type"] == "application/json; charset=utf-8")
        let keys = try #require(answer.json?["keys"] as? [[String: Any]], "\(answer.text)")
        return keys.map { $0.compactMapValues { $0 as? String } }
    }

    /// Checks `token`'s Ed25519 signature with the JWKS entry of its `kid`; returns that kid.
    @discardableResult
    static func verifyWithJWKS(_ token: String, keys: [[String: String]]) throws -> String {
        let header = try part(token, 0)
        #expect(header["alg"] as? String == "EdDSA")
        let kid = try #require(header["kid"] as? String)
        let jwk = try #require(keys.first { $0["kid"] == kid }, "kid \(kid) is not in the JWKS")
        #expect(jwk["kty"] == "OKP" && jwk["crv"] == "Ed25519" && jwk["use"] == "sig" && jwk["alg"] == "EdDSA")
        #expect(jwk["d"] == nil)
        let x = try #require(jwk["x"].flatMap { Secrets.decodeBase64URL($0) })
        let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: x)
        let segments = token.split(separator: ".")
        let signature = try #require(Secrets.decodeBase64URL(segments[2]))
        #expect(publicKey.isValidSignature(signature, for: Array("\(segments[0]).\(segments[1])".utf8)))
        return kid
    }

    /// Polls the JWKS until it lists `count` keys (the daemon reloads on SIGHUP asynchronously).
    static func waitForKeys(_ count: Int, at endpoint: TestEndpoint) async throws -> [[String: String]] {
        let deadline = ContinuousClock.now + .seconds(20)
        var keys = try await jwks(endpoint)
        while keys.count != count && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            keys = try await jwks(endpoint)
        }
        return keys
    }

    static func modes(of path: String) throws -> Int {
        try #require(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber).intValue
    }

    @Test("EdDSA: tokens verify with the JWKS; keys rotate on a running daemon keeps old tokens and adds a kid")
    func eddsaRotation() async throws {
        try await withDaemon(arguments: ["--jwt-algorithm", "EdDSA"]) { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let verified = try await client.verifiedUser("ed@example.com", password: "edwards curve 25519")
            let oldAccess = try #require(verified.json?["access_token"] as? String)
            let idToken = try #require(verified.json?["id_token"] as? String)

            let before = try await Self.jwks(try daemon.tcp)
            #expect(before.count == 1)
            #expect(try await Self.jwks(try daemon.unix) == before)
            let oldKid = try Self.verifyWithJWKS(oldAccess, keys: before)
            #expect(try Self.verifyWithJWKS(idToken, keys: before) == oldKid)
            #expect(try Self.part(oldAccess, 0)["typ"] as? String == "at+jwt")

            let keys = daemon.dataDirectory + "/keys"
            #expect(try Self.modes(of: keys) == 0o700)
            #expect(try Self.modes(of: keys + "/signing-\(oldKid).json") == 0o600)

            let rotated = try await PorteroProcess.run(
                ["keys", "rotate", "--data-dir", daemon.dataDirectory, "--jwt-algorithm", "EdDSA"])
            #expect(rotated.status == 0, "\(rotated.stderr)")
            #expect(rotated.stdout.contains("sent SIGHUP to the daemon (pid \(daemon.pid ?? -1))"), "\(rotated.stdout)")
            #expect(
                rotated.stdout.contains("still verifying until their tokens expire: \(oldKid)"), "\(rotated.stdout)")

            let after = try await Self.waitForKeys(2, at: try daemon.tcp)
            #expect(after.count == 2, "\(daemon.stderrText)")
            #expect(try await Self.jwks(try daemon.unix) == after)
            let newKid = try #require(after.compactMap { $0["kid"] }.first { $0 != oldKid })
            #expect(rotated.stdout.contains("new EdDSA signing key \(newKid)"), "\(rotated.stdout)")
            #expect(try Self.modes(of: keys + "/signing-\(newKid).json") == 0o600)

            // The old token still works; new logins carry the new kid and verify with the new public key.
            #expect(try await client.get("/profile", token: oldAccess).status == 200)
            let login = try await client.post("/login", ["email": "ed@example.com", "password": "edwards curve 25519"])
            let newAccess = try #require(login.json?["access_token"] as? String, "\(login.text)")
            #expect(try Self.verifyWithJWKS(newAccess, keys: after) == newKid)
            #expect(try await client.get("/profile", token: newAccess).status == 200)
            #expect(daemon.isRunning)

            // Rotating with the daemon stopped works too; at its next start both older keys still verify.
            await daemon.stop()
            let offline = try await PorteroProcess.run(
                ["keys", "rotate", "--data-dir", daemon.dataDirectory, "--jwt-algorithm", "EdDSA"])
            #expect(offline.status == 0, "\(offline.stderr)")
            #expect(offline.stdout.contains("no daemon holds"), "\(offline.stdout)")
            try await daemon.startAndWait()
            #expect(try await Self.jwks(try daemon.tcp).count == 3)
            #expect(try await client.get("/profile", token: oldAccess).status == 200)
        }
    }

    @Test(
        "HS256: the JWKS is empty; rotation of the generated secret keeps old tokens; an owned-elsewhere secret is refused"
    )
    func hs256Rotation() async throws {
        try await withDaemon { daemon in
            let answer = try await HTTPTestClient.request("GET", "/.well-known/jwks.json", to: try daemon.unix)
            #expect(answer.status == 200)
            #expect(answer.text == #"{"keys":[]}"#)
            #expect(try await Self.jwks(try daemon.tcp).isEmpty)

            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let verified = try await client.verifiedUser("hs@example.com", password: "shared secret here")
            let oldAccess = try #require(verified.json?["access_token"] as? String)
            let oldKid = try #require(try Self.part(oldAccess, 0)["kid"] as? String)

            let rotated = try await PorteroProcess.run(["keys", "rotate", "--data-dir", daemon.dataDirectory])
            #expect(rotated.status == 0, "\(rotated.stderr)")
            #expect(rotated.stdout.contains("new HS256 signing key hs-"), "\(rotated.stdout)")
            // Wait until the daemon has reloaded its keys (a second `keys.loaded` line; logins are rate-limited).
            let reloaded = await waitUntil(timeout: .seconds(20)) {
                daemon.stderrText.components(separatedBy: #""event":"keys.loaded""#).count - 1 >= 2
            }
            #expect(reloaded, "\(daemon.stderrText)")
            let login = try await client.post("/login", ["email": "hs@example.com", "password": "shared secret here"])
            let access = try #require(login.json?["access_token"] as? String, "\(login.text)")
            let newKid = try #require(try Self.part(access, 0)["kid"] as? String)
            #expect(newKid != oldKid && newKid.hasPrefix("hs-"), "\(daemon.stderrText)")
            #expect(try await client.get("/profile", token: oldAccess).status == 200)
            #expect(try await Self.jwks(try daemon.tcp).isEmpty)

            let refused = try await PorteroProcess.run(
                ["keys", "rotate", "--data-dir", daemon.dataDirectory],
                environment: ["PORTERO_JWT_SECRET": "a-secret-owned-by-the-admin-0123456789"])
            #expect(refused.status != 0)
            #expect(refused.stderr.split(separator: "\n").count == 1, "\(refused.stderr)")
            #expect(refused.stderr.contains("PORTERO_JWT_SECRET"), "\(refused.stderr)")
            #expect(!refused.stderr.contains("a-secret-owned"))
        }
    }

    @Test("under EdDSA an HS256 token keyed with the public key, and under HS256 an EdDSA token, are invalid_token")
    func algorithmConfusion() async throws {
        var claims: [String: Any] = [:]
        var edKid = ""
        try await withDaemon(arguments: ["--jwt-algorithm", "EdDSA"]) { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let verified = try await client.verifiedUser("confused@example.com", password: "which algorithm now")
            let access = try #require(verified.json?["access_token"] as? String)
            claims = try Self.part(access, 1)
            let jwk = try #require(try await Self.jwks(try daemon.tcp).first)
            edKid = try #require(jwk["kid"])
            let x = try #require(jwk["x"])
            let raw = try #require(Secrets.decodeBase64URL(x))
            var forged: [String] = []
            for secret in [raw, Array(x.utf8)] {
                for alg in ["HS256", "EdDSA"] {
                    forged.append(try Self.hmacToken(claims: claims, kid: edKid, alg: alg, secret: secret))
                }
            }
            for token in forged {
                try await Self.expectInvalid(token, client: client)
            }
            #expect(try await client.get("/profile", token: access).status == 200)
        }
        try await withDaemon { daemon in
            let client = Client(endpoint: try daemon.tcp, daemon: daemon)
            let verified = try await client.verifiedUser("confused@example.com", password: "which algorithm now")
            let access = try #require(verified.json?["access_token"] as? String)
            let hsKid = try #require(try Self.part(access, 0)["kid"] as? String)
            let ownClaims = try Self.part(access, 1)
            let attacker = Curve25519.Signing.PrivateKey()
            for kid in [hsKid, edKid] {
                try await Self.expectInvalid(
                    try Self.eddsaToken(claims: ownClaims, kid: kid, key: attacker), client: client)
            }
            #expect(try await client.get("/profile", token: access).status == 200)
        }
    }

    @Test("SIGHUP switching HS256 to EdDSA: new tokens are EdDSA and in the JWKS; HS256 tokens keep verifying")
    func algorithmSwitchOnReload() async throws {
        let directory = try TestDirectory("switch")
        let config = try directory.write("portero.yaml", "jwt:\n  algorithm: HS256\n")
        let daemon = try PorteroProcess(directory: directory, arguments: ["--config", config])
        defer { directory.remove() }
        do {
            try await daemon.startAndWait()
            let client = Client(endpoint: try daemon.unix, daemon: daemon)
            let verified = try await client.verifiedUser("switch@example.com", password: "from shared to public")
            let hsAccess = try #require(verified.json?["access_token"] as? String)
            #expect(try Self.part(hsAccess, 0)["alg"] as? String == "HS256")

            try Data("jwt:\n  algorithm: EdDSA\n".utf8).write(to: URL(fileURLWithPath: config))
            daemon.signal(SIGHUP)
            let keys = try await Self.waitForKeys(1, at: try daemon.unix)
            #expect(keys.count == 1, "\(daemon.stderrText)")
            let login = try await client.post(
                "/login", ["email": "switch@example.com", "password": "from shared to public"])
            let edAccess = try #require(login.json?["access_token"] as? String, "\(login.text)")
            try Self.verifyWithJWKS(edAccess, keys: keys)
            #expect(try await client.get("/profile", token: edAccess).status == 200)
            #expect(try await client.get("/profile", token: hsAccess).status == 200)
            // The HS256 key verifies only HS256: its kid with alg EdDSA is refused.
            let parts = hsAccess.split(separator: ".").map(String.init)
            var header = try Self.part(hsAccess, 0)
            header["alg"] = "EdDSA"
            try await Self.expectInvalid(
                try TokenAttackTests.encode(header) + "." + parts[1] + "." + parts[2], client: client)
            let reloaded = daemon.stderrText.split(separator: "\n").filter { $0.contains("config.reloaded") }
            #expect(reloaded.count == 1 && !reloaded[0].contains("restart_needed"), "\(daemon.stderrText)")
        } catch {
            await daemon.stop()
            throw error
        }
        await daemon.stop()
    }

    static func expectInvalid(_ token: String, client: Client) async throws {
        let answer = try await client.get("/profile", token: token)
        #expect(answer.status == 401, "\(answer.text)")
        #expect(answer.json?["error"] as? String == "invalid_token", "\(answer.text)")
        #expect(answer["www-authenticate"]?.hasPrefix(#"Bearer realm="portero", error="invalid_token""#) == true)
    }

    static func signingInput(claims: [String: Any], kid: String, alg: String) throws -> String {
        let header: [String: Any] = ["alg": alg, "typ": "at+jwt", "kid": kid]
        return try TokenAttackTests.encode(header) + "." + TokenAttackTests.encode(claims)
    }

    static func hmacToken(claims: [String: Any], kid: String, alg: String, secret: [UInt8]) throws -> String {
        let input = try signingInput(claims: claims, kid: kid, alg: alg)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: secret))
        return input + "." + Secrets.base64URL(Array(mac))
    }

    static func eddsaToken(claims: [String: Any], kid: String, key: Curve25519.Signing.PrivateKey) throws -> String {
        let input = try signingInput(claims: claims, kid: kid, alg: "EdDSA")
        return input + "." + Secrets.base64URL(Array(try key.signature(for: Array(input.utf8))))
    }
}
