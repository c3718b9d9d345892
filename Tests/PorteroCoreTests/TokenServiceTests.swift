import Foundation
import JWTKit
import PorteroCore
import Testing

/// TokenService: whole-second claims, strict headers, time checks with 60 s of skew.
@Suite("Tokens")
struct TokenServiceTests {
    static let secret = Array("an HS256 test secret that is long enough".utf8)
    static let now = Date(timeIntervalSince1970: 1_800_000_000.75)
    let userID = UUID()

    func service(issuer: String = "portero", audience: String = "portero", secret: [UInt8] = secret) async throws
        -> TokenService
    {
        TokenService(
            signingKeys: try #require(await SigningKeys.hs256(secret: secret)),
            issuer: issuer,
            audience: audience,
            accessTTL: .seconds(3600),
            verificationTTL: .seconds(900)
        )
    }

    func access(_ service: TokenService, at now: Date = now) async throws -> String {
        try service.issueAccessToken(
            userID: userID, sessionID: UUID(), email: "a@example.com", emailVerified: true, roles: ["user"], now: now
        ).token
    }

    static func part(_ token: String, _ index: Int) throws -> [String: Any] {
        let segment = token.split(separator: ".")[index]
        let bytes = try #require(Secrets.decodeBase64URL(segment))
        return try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func encode(_ object: [String: Any]) throws -> String {
        Secrets.base64URL(Array(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])))
    }

    @Test("iat, nbf and exp are whole seconds; typ and kid are set")
    func claimsShape() async throws {
        let service = try await service()
        let token = try await access(service)
        let payload = try Self.part(token, 1)
        let raw = String(decoding: Secrets.decodeBase64URL(token.split(separator: ".")[1]) ?? [], as: UTF8.self)
        for claim in ["iat", "nbf", "exp"] {
            #expect(raw.contains(#""\#(claim)":1800"#), "\(claim) in \(raw)")
            #expect(!raw.contains(#""\#(claim)":1800000000."#) && !raw.contains(#""\#(claim)":1800003600."#))
        }
        #expect(payload["iat"] as? Int == 1_800_000_000)
        #expect(payload["nbf"] as? Int == 1_800_000_000)
        #expect(payload["exp"] as? Int == 1_800_003_600)
        for claim in ["iss", "aud", "sub", "jti", "email", "email_verified", "roles"] {
            #expect(payload[claim] != nil, "\(claim)")
        }
        let header = try Self.part(token, 0)
        #expect(header["typ"] as? String == "at+jwt")
        #expect(header["alg"] as? String == "HS256")
        #expect(header["kid"] is String)
        #expect(try await service.verifyAccessToken(token, now: Self.now).sub == userID.uuidString.lowercased())
    }

    /// The payload is written by hand (no `JSONEncoder`); a standard parser and jwt-kit itself must read back exactly
    /// the claims that went in, whatever the strings hold.
    @Test("hand-written claims: escapes survive, absent optionals are omitted, jwt-kit verifies the token")
    func handWrittenClaims() async throws {
        let service = try await service()
        let keys = JWTKeyCollection()
        await keys.add(
            hmac: HMACKey(from: Self.secret), digestAlgorithm: .sha256,
            kid: JWKIdentifier(string: service.signingKeys.currentKID))
        let email = "q\"uo\\te/\u{1}\n\t\u{7F}Zoë🙂@example.com"
        let roles = ["admin", "rôle \"x\"", "", "\u{1F}"]
        for sessionID in [UUID(), nil] {
            let issued = try service.issueAccessToken(
                userID: userID, sessionID: sessionID, email: email, emailVerified: false, roles: roles, now: Self.now)
            let payload = try Self.part(issued.token, 1)
            #expect(payload["email"] as? String == email)
            #expect(payload["roles"] as? [String] == roles)
            #expect(payload["email_verified"] as? Bool == false)
            #expect(payload["sid"] as? String == sessionID?.uuidString.lowercased())
            #expect(payload.keys.contains("sid") == (sessionID != nil))
            #expect(try await keys.verify(issued.token, as: AccessClaims.self) == issued.claims)
            #expect(try await service.verifyAccessToken(issued.token, now: Self.now) == issued.claims)
        }
        for (name, phone) in [("Zoë \"Z\" \u{2}", "+49 30 1234"), (nil, nil)] as [(String?, String?)] {
            let token = try service.issueIDToken(
                userID: userID, email: email, emailVerified: true, name: name, phone: phone, now: Self.now)
            let payload = try Self.part(token, 1)
            #expect(payload["name"] as? String == name && payload.keys.contains("name") == (name != nil))
            #expect(
                payload["phone_number"] as? String == phone && payload.keys.contains("phone_number") == (phone != nil))
            let claims = try await keys.verify(token, as: IDClaims.self)
            #expect(claims.email == email && claims.name == name && claims.phoneNumber == phone && claims.emailVerified)
            #expect(try Self.part(token, 0)["typ"] as? String == "id+jwt")
        }
        let verification = try service.issueVerificationToken(userID: userID, email: email, now: Self.now)
        #expect(try await keys.verify(verification, as: VerificationClaims.self).email == email)
        #expect(try await service.verifyVerificationToken(verification, now: Self.now).email == email)
    }

    @Test("expiry and not-before honour 60 s of skew")
    func times() async throws {
        let service = try await service()
        let token = try await access(service)
        #expect(try await service.verifyAccessToken(token, now: Self.now.addingTimeInterval(3600 + 59)).exp > 0)
        await #expect(throws: PorteroError(.tokenExpired, "The access token has expired.")) {
            _ = try await service.verifyAccessToken(token, now: Self.now.addingTimeInterval(3600 + 61))
        }
        let future = try await access(service, at: Self.now.addingTimeInterval(120))
        await #expect(throws: TokenService.invalid) { _ = try await service.verifyAccessToken(future, now: Self.now) }
    }

    @Test("tokens of another kind, issuer, audience or key are refused")
    func wrongContext() async throws {
        let service = try await service()
        let verification = try service.issueVerificationToken(userID: userID, email: "a@example.com", now: Self.now)
        await #expect(throws: TokenService.invalid) {
            _ = try await service.verifyAccessToken(verification, now: Self.now)
        }
        let id = try service.issueIDToken(
            userID: userID, email: "a@example.com", emailVerified: true, name: nil, phone: nil, now: Self.now)
        await #expect(throws: TokenService.invalid) { _ = try await service.verifyAccessToken(id, now: Self.now) }
        let access = try await access(service)
        await #expect(throws: TokenService.invalid) {
            _ = try await service.verifyVerificationToken(access, now: Self.now)
        }
        for other in [
            try await self.service(issuer: "other"), try await self.service(audience: "other"),
            try await self.service(secret: Array("a different secret of enough length!!".utf8)),
        ] {
            let foreign = try await self.access(other)
            await #expect(throws: TokenService.invalid) {
                _ = try await service.verifyAccessToken(foreign, now: Self.now)
            }
        }
    }

    @Test("header tricks and tampering are refused")
    func tampering() async throws {
        let service = try await service()
        let token = try await access(service)
        let parts = token.split(separator: ".").map(String.init)
        var header = try Self.part(token, 0)
        var payload = try Self.part(token, 1)
        var forged: [String] = []
        for (key, value) in [("alg", "none"), ("alg", "None"), ("alg", "HS512"), ("alg", "EdDSA"), ("typ", "JWT")] {
            var changed = header
            changed[key] = value
            forged.append(try Self.encode(changed) + "." + parts[1] + "." + parts[2])
            forged.append(try Self.encode(changed) + "." + parts[1] + ".")
        }
        for (key, value) in [
            ("jku", "http://evil/jwks"), ("x5u", "http://evil/x"), ("crit", ["exp"]),
            ("jwk", ["kty": "oct", "k": "AAAA"]), ("kid", "../../etc/passwd"),
        ] as [(String, Any)] {
            var changed = header
            changed[key] = value
            forged.append(try Self.encode(changed) + "." + parts[1] + "." + parts[2])
        }
        header["kid"] = nil
        forged.append(try Self.encode(header) + "." + parts[1] + "." + parts[2])
        payload["roles"] = ["admin"]
        forged.append(parts[0] + "." + (try Self.encode(payload)) + "." + parts[2])
        payload["exp"] = "never"
        forged.append(parts[0] + "." + (try Self.encode(payload)) + "." + parts[2])
        forged += [
            token + ".extra", " " + token, token + " ", parts[0] + "." + parts[1], parts[0] + "." + parts[1] + ".AAAA",
            String(token.dropLast(2)) + (token.hasSuffix("AA") ? "AB" : "AA"), "", "...",
        ]
        for candidate in forged {
            await #expect(throws: TokenService.invalid, "\(candidate)") {
                _ = try await service.verifyAccessToken(candidate, now: Self.now)
            }
        }
    }

    @Test("codes are 6 digits with leading zeros; refresh tokens carry 256 bits")
    func secrets() {
        let codes = (0..<2000).map { _ in Secrets.makeCode() }
        #expect(codes.allSatisfy { $0.count == 6 && $0.allSatisfy(\.isNumber) })
        #expect(codes.contains { $0.hasPrefix("0") })
        #expect(Secrets.decodeBase64URL(Secrets.makeRefreshToken())?.count == 32)
        #expect(Secrets.constantTimeEquals("abc", "abc") && !Secrets.constantTimeEquals("abc", "abd"))
    }
}
