import Crypto
import Foundation
import PorteroCore
import Testing

/// The claims of a correctly signed token are read by the strict JSON parser with the rules `Codable` had: every
/// claim present with its type, optional ones absent or null, unknown claims ignored; anything else is
/// `invalid_token`, never a crash.
@Suite("Token claims parsing")
struct TokenClaimsParsingTests {
    static let secret = Array("an HS256 test secret that is long enough".utf8)
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    let userID = UUID()

    func service() async throws -> TokenService {
        TokenService(
            signingKeys: try #require(await SigningKeys.hs256(secret: Self.secret)),
            issuer: "portero", audience: "portero", accessTTL: .seconds(3600), verificationTTL: .seconds(900))
    }

    /// `payload` (raw JSON text) under the header of a token the service issued, signed with the service's key.
    func signed(_ payload: String, like token: String) -> String {
        let header = String(token.split(separator: ".")[0])
        let input = header + "." + Secrets.base64URL(Array(payload.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Self.secret))
        return input + "." + Secrets.base64URL(Array(mac))
    }

    func payload(_ overrides: [String: String] = [:], dropping: Set<String> = []) -> String {
        var claims: [(String, String)] = [
            ("iss", "\"portero\""), ("aud", "\"portero\""), ("sub", "\"\(userID.uuidString.lowercased())\""),
            ("iat", "1800000000"), ("nbf", "1800000000"), ("exp", "1800003600"), ("jti", "\"abc\""),
            ("email", "\"a@example.com\""), ("email_verified", "true"), ("roles", "[\"user\",\"admin\"]"),
            ("sid", "\"\(UUID().uuidString.lowercased())\""),
        ]
        claims = claims.filter { !dropping.contains($0.0) }.map { ($0.0, overrides[$0.0] ?? $0.1) }
        for (key, value) in overrides where !claims.contains(where: { $0.0 == key }) { claims.append((key, value)) }
        return "{" + claims.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    @Test("a payload written by hand reads as the same claims jwt-kit would decode")
    func accepted() async throws {
        let service = try await service()
        let issued = try service.issueAccessToken(
            userID: userID, sessionID: nil, email: "a@example.com", emailVerified: true, roles: ["user"], now: Self.now)
        #expect(try await service.verifyAccessToken(issued.token, now: Self.now) == issued.claims)
        let claims = try await service.verifyAccessToken(signed(payload(), like: issued.token), now: Self.now)
        #expect(claims.roles == ["user", "admin"] && claims.emailVerified && claims.exp == 1_800_003_600)
        // Unknown claims are ignored; `sid` may be absent or null; escapes and non-ASCII text are read.
        for variant in [
            payload(["extra": "{\"nested\":1}"]), payload(dropping: ["sid"]), payload(["sid": "null"]),
            payload(["email": "\"\\u00e9l\\u00e8ve@example.com\""]), payload(["email": "\"élève@example.com\""]),
            payload(["iat": "1800000000.0"]),
        ] {
            let token = signed(variant, like: issued.token)
            await #expect(throws: Never.self, "\(variant)") {
                _ = try await service.verifyAccessToken(token, now: Self.now)
            }
        }
        let escaped = try await service.verifyAccessToken(
            signed(payload(["email": "\"\\u00e9l\\u00e8ve@example.com\""]), like: issued.token), now: Self.now)
        #expect(escaped.email == "élève@example.com")
    }

    @Test("wrong types, missing claims, duplicates and broken JSON are invalid_token")
    func refused() async throws {
        let service = try await service()
        let issued = try service.issueAccessToken(
            userID: userID, sessionID: nil, email: "a@example.com", emailVerified: true, roles: ["user"], now: Self.now)
        var payloads = ["exp", "sub", "iss", "email_verified", "roles", "jti"].map { payload(dropping: [$0]) }
        payloads += [
            payload(["exp": "\"1800003600\""]), payload(["exp": "1800003600.5"]), payload(["exp": "1e400"]),
            payload(["email_verified": "1"]), payload(["roles": "\"user\""]), payload(["roles": "[1]"]),
            payload(["roles": "[[\"user\"]]"]), payload(["sid": "7"]), payload(["sub": "\"not-a-uuid\""]),
            payload(["iss": "null"]),
            payload() + " x", "[" + payload() + "]", "\"text\"", "", String(payload().dropLast()),
            payload().replacingOccurrences(of: "\"jti\":\"abc\"", with: "\"jti\":\"abc\",\"jti\":\"abd\""),
            payload(["email": "\"\\ud800@example.com\""]),
        ]
        for candidate in payloads {
            await #expect(throws: TokenService.invalid, "\(candidate)") {
                _ = try await service.verifyAccessToken(signed(candidate, like: issued.token), now: Self.now)
            }
        }
        // Invalid UTF-8 in a correctly signed payload.
        let header = String(issued.token.split(separator: ".")[0])
        var bytes = Array(payload().utf8)
        bytes[bytes.firstIndex(of: UInt8(ascii: "@"))!] = 0xFF
        let input = header + "." + Secrets.base64URL(bytes)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: Self.secret))
        await #expect(throws: TokenService.invalid) {
            _ = try await service.verifyAccessToken(input + "." + Secrets.base64URL(Array(mac)), now: Self.now)
        }
    }
}
