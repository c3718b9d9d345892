import Crypto
import Foundation
import JWTKit
import PorteroCore
import Testing

/// The key set: which key signs, which keep verifying and for how long, and that the `kid` picks the key and its
/// algorithm (so no token can choose either).
@Suite("Signing key ring")
struct SigningKeyRingTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    static let hour: Duration = .seconds(3600)
    let userID = UUID()

    static func key(_ algorithm: SigningKey.Algorithm, at offset: TimeInterval) -> SigningKey {
        SigningKey.generate(algorithm, now: t0.addingTimeInterval(offset))
    }

    static func service(_ keys: [SigningKey], now: Date) async throws -> TokenService {
        let ring = try #require(SigningKeyRing(keys: keys, retention: hour, now: now))
        return TokenService(
            signingKeys: await SigningKeys.make(ring), issuer: "portero", audience: "portero",
            accessTTL: .seconds(600), verificationTTL: .seconds(900))
    }

    func access(_ service: TokenService, at now: Date) async throws -> String {
        try service.issueAccessToken(
            userID: userID, sessionID: nil, email: "a@example.com", emailVerified: true, roles: ["user"], now: now
        ).token
    }

    static func header(_ token: String) throws -> [String: Any] {
        let bytes = try #require(Secrets.decodeBase64URL(token.split(separator: ".")[0]))
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func encode(_ object: [String: Any]) throws -> String {
        Secrets.base64URL(Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])))
    }

    @Test("retention is the longest JWT lifetime plus the clock skew")
    func retention() {
        let retention = SigningKeyRing.retention(accessTTL: TimeSpan(seconds: 3600), codeTTL: TimeSpan(seconds: 900))
        #expect(retention == .seconds(3660))
        #expect(
            SigningKeyRing.retention(accessTTL: TimeSpan(seconds: 60), codeTTL: TimeSpan(seconds: 900)) == .seconds(960)
        )
    }

    @Test("the newest key signs; an older one verifies until its successor's creation plus the retention")
    func rotationAndExpiry() throws {
        let first = Self.key(.eddsa, at: 0)
        let second = Self.key(.eddsa, at: 100)
        let third = Self.key(.eddsa, at: 5000)
        let keys = [second, third, first]
        let early = try #require(
            SigningKeyRing(keys: keys, retention: Self.hour, now: Self.t0.addingTimeInterval(5001)))
        #expect(early.current.kid == third.kid)
        // `first` stopped signing at 100, so it lives until 100 + 3600; `second` until 5000 + 3600.
        #expect(early.live.map(\.kid) == [third.kid, second.kid])
        #expect(early.expired.map(\.kid) == [first.kid])
        let edge = try #require(SigningKeyRing(keys: keys, retention: Self.hour, now: Self.t0.addingTimeInterval(8599)))
        #expect(edge.live.map(\.kid) == [third.kid, second.kid])
        let later = try #require(
            SigningKeyRing(keys: keys, retention: Self.hour, now: Self.t0.addingTimeInterval(8600)))
        #expect(later.live.map(\.kid) == [third.kid])
        #expect(Set(later.expired.map(\.kid)) == [first.kid, second.kid])
        // The newest key never expires, however old.
        let alone = try #require(
            SigningKeyRing(keys: [first], retention: Self.hour, now: Self.t0.addingTimeInterval(1e9)))
        #expect(alone.live == [first])
        #expect(SigningKeyRing(keys: [], retention: Self.hour, now: Self.t0) == nil)
    }

    @Test("EdDSA keys: the kid is the RFC 7638 thumbprint and the JWK is public only; HS256 keys publish nothing")
    func publicKeys() throws {
        // RFC 8037 appendix A.1–A.3: the Ed25519 test key and its thumbprint.
        let d = try #require(Secrets.decodeBase64URL("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"))
        let key = try #require(SigningKey(algorithm: .eddsa, secret: d, createdAt: Self.t0))
        #expect(key.kid == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k")
        let jwk: JSONValue = .object([
            "kty": .string("OKP"), "crv": .string("Ed25519"),
            "x": .string("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kid": .string(key.kid), "use": .string("sig"), "alg": .string("EdDSA"),
        ])
        #expect(key.publicJWK == jwk)
        let hs = try #require(SigningKey(algorithm: .hs256, secret: Array(repeating: 7, count: 32), createdAt: Self.t0))
        #expect(hs.publicJWK == nil)
        #expect(hs.kid.hasPrefix("hs-"))
        let ring = try #require(SigningKeyRing(keys: [hs, key], retention: Self.hour, now: Self.t0))
        #expect(ring.jwks == ["keys": .array([jwk])])
        #expect(SigningKey(algorithm: .hs256, secret: Array(repeating: 7, count: 31), createdAt: Self.t0) == nil)
        #expect(SigningKey(algorithm: .eddsa, secret: Array(repeating: 7, count: 31), createdAt: Self.t0) == nil)
    }

    @Test("after a rotation, tokens of the old key verify by their kid and new ones carry the new kid")
    func kidSelection() async throws {
        let old = Self.key(.eddsa, at: 0)
        let new = Self.key(.eddsa, at: 100)
        let now = Self.t0.addingTimeInterval(200)
        let before = try await Self.service([old], now: now)
        let after = try await Self.service([old, new], now: now)
        let oldToken = try await access(before, at: now)
        let newToken = try await access(after, at: now)
        #expect(try Self.header(oldToken)["kid"] as? String == old.kid)
        #expect(try Self.header(newToken)["kid"] as? String == new.kid)
        #expect(try Self.header(newToken)["alg"] as? String == "EdDSA")
        #expect(try await after.verifyAccessToken(oldToken, now: now).sub == userID.uuidString.lowercased())
        #expect(try await after.verifyAccessToken(newToken, now: now).sub == userID.uuidString.lowercased())
        // Once the old key has expired, its tokens are refused.
        let expired = try await Self.service([old, new], now: Self.t0.addingTimeInterval(100 + 3600))
        await #expect(throws: TokenService.invalid) { _ = try await expired.verifyAccessToken(oldToken, now: now) }
        // A token from the old key relabelled with the new kid does not verify either.
        let parts = oldToken.split(separator: ".").map(String.init)
        var header = try Self.header(oldToken)
        header["kid"] = new.kid
        let relabelled = try Self.encode(header) + "." + parts[1] + "." + parts[2]
        await #expect(throws: TokenService.invalid) { _ = try await after.verifyAccessToken(relabelled, now: now) }
        for kid in ["", "unknown", "../keys/signing-x.json", old.kid + " "] {
            header["kid"] = kid
            let forged = try Self.encode(header) + "." + parts[1] + "." + parts[2]
            await #expect(throws: TokenService.invalid) { _ = try await after.verifyAccessToken(forged, now: now) }
        }
    }

    @Test("a switch of algorithm keeps the old algorithm's tokens verifying, each only under its own kid's alg")
    func algorithmSwitch() async throws {
        let hs = Self.key(.hs256, at: 0)
        let ed = Self.key(.eddsa, at: 100)
        let now = Self.t0.addingTimeInterval(200)
        let hsToken = try await access(try await Self.service([hs], now: now), at: now)
        let mixed = try await Self.service([hs, ed], now: now)
        #expect(mixed.signingKeys.algorithmName == "EdDSA")
        #expect(try await mixed.verifyAccessToken(hsToken, now: now).sub == userID.uuidString.lowercased())
        // The HS256 kid with alg EdDSA, and the EdDSA kid with alg HS256, are both refused before any signature check.
        let parts = hsToken.split(separator: ".").map(String.init)
        var header = try Self.header(hsToken)
        header["alg"] = "EdDSA"
        await #expect(throws: TokenService.invalid) {
            _ = try await mixed.verifyAccessToken(try Self.encode(header) + "." + parts[1] + "." + parts[2], now: now)
        }
    }

    @Test("HS/EdDSA confusion: an HS256 token keyed with the Ed25519 public key, and an EdDSA token under HS256")
    func algorithmConfusion() async throws {
        let ed = Self.key(.eddsa, at: 0)
        let now = Self.t0.addingTimeInterval(10)
        let edService = try await Self.service([ed], now: now)
        let genuine = try await access(edService, at: now)
        let claims = try await edService.verifyAccessToken(genuine, now: now)
        let publicKey = try #require(ed.publicKey)
        // Whatever bytes an attacker might take for the "secret": raw public key, its base64url text (JWKS `x`).
        for secret in [publicKey, Array(Secrets.base64URL(publicKey).utf8)] {
            let forger = JWTKeyCollection()
            await forger.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: ed.kid))
            let header: JWTHeader = ["typ": .string("at+jwt"), "alg": .string("HS256")]
            let forged = try await forger.sign(claims, kid: JWKIdentifier(string: ed.kid), header: header)
            await #expect(throws: TokenService.invalid) { _ = try await edService.verifyAccessToken(forged, now: now) }
            // The same with the header claiming EdDSA: the HMAC is no Ed25519 signature.
            let parts = forged.split(separator: ".").map(String.init)
            var changed = try Self.header(forged)
            changed["alg"] = "EdDSA"
            let relabelled = try Self.encode(changed) + "." + parts[1] + "." + parts[2]
            await #expect(throws: TokenService.invalid) {
                _ = try await edService.verifyAccessToken(relabelled, now: now)
            }
        }
        // An EdDSA token shown to an HS256-only service.
        let hsService = try await Self.service([Self.key(.hs256, at: 0)], now: now)
        await #expect(throws: TokenService.invalid) { _ = try await hsService.verifyAccessToken(genuine, now: now) }
    }
}
