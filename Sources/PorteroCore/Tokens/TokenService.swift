public import Foundation
public import JWTKit
import Logging

/// Issues and checks Portero's JWTs with jwt-kit.
///
/// Before jwt-kit sees a token, its header is checked strictly: exactly `alg`, `typ` and `kid`, the configured
/// algorithm, the expected `typ`, a known `kid` — so `alg: none`, algorithm switches, `jku`/`x5u`/`jwk`/`crit`
/// tricks and one kind of token posing as another never reach signature code.
public struct TokenService: Sendable {
    public let signingKeys: SigningKeys
    public let issuer: String
    public let audience: String
    public let accessTTL: Duration
    public let verificationTTL: Duration
    /// Leeway for `exp`, `nbf` and `iat` (SPEC: at most 60 s).
    public let clockSkew: Int = 60

    public init(signingKeys: SigningKeys, issuer: String, audience: String, accessTTL: Duration, verificationTTL: Duration) {
        self.signingKeys = signingKeys
        self.issuer = issuer
        self.audience = audience
        self.accessTTL = accessTTL
        self.verificationTTL = verificationTTL
    }

    /// What a freshly signed access token is.
    public struct IssuedAccessToken: Sendable {
        public var token: String
        public var claims: AccessClaims
        public var expiresIn: Int
    }

    // MARK: Issuing

    public func issueAccessToken(
        userID: UUID, sessionID: UUID?, email: String, emailVerified: Bool, roles: [String], now: Date
    ) async throws -> IssuedAccessToken {
        let issuedAt = Self.seconds(now)
        let lifetime = Int(accessTTL.components.seconds)
        let claims = AccessClaims(
            iss: issuer,
            aud: audience,
            sub: userID.uuidString.lowercased(),
            iat: issuedAt,
            nbf: issuedAt,
            exp: issuedAt + lifetime,
            jti: Secrets.base64URL(Secrets.randomBytes(16)),
            email: email,
            emailVerified: emailVerified,
            roles: roles,
            sid: sessionID?.uuidString.lowercased()
        )
        return IssuedAccessToken(token: try await sign(claims, kind: .access), claims: claims, expiresIn: lifetime)
    }

    public func issueIDToken(
        userID: UUID, email: String, emailVerified: Bool, name: String?, phone: String?, now: Date
    ) async throws -> String {
        let issuedAt = Self.seconds(now)
        let claims = IDClaims(
            iss: issuer,
            aud: audience,
            sub: userID.uuidString.lowercased(),
            iat: issuedAt,
            exp: issuedAt + Int(accessTTL.components.seconds),
            email: email,
            emailVerified: emailVerified,
            name: name,
            phoneNumber: phone
        )
        return try await sign(claims, kind: .id)
    }

    public func issueVerificationToken(userID: UUID, email: String, now: Date) async throws -> String {
        let issuedAt = Self.seconds(now)
        let claims = VerificationClaims(
            iss: issuer,
            aud: audience,
            sub: userID.uuidString.lowercased(),
            iat: issuedAt,
            nbf: issuedAt,
            exp: issuedAt + Int(verificationTTL.components.seconds),
            jti: Secrets.base64URL(Secrets.randomBytes(16)),
            email: email,
            scope: VerificationClaims.scopeValue
        )
        return try await sign(claims, kind: .verification)
    }

    private func sign(_ claims: some JWTPayload, kind: TokenKind) async throws -> String {
        let header: JWTHeader = ["typ": .string(kind.type), "alg": .string(signingKeys.algorithmName)]
        return try await signingKeys.collection.sign(claims, kid: JWKIdentifier(string: signingKeys.currentKID), header: header)
    }

    // MARK: Checking

    /// Checks an access token; throws ``PorteroError`` `invalid_token` or `token_expired` (never says why in
    /// more detail than a client needs). Revocation is the caller's (it needs the store).
    public func verifyAccessToken(_ token: String, now: Date) async throws(PorteroError) -> AccessClaims {
        let claims = try await verify(token, kind: .access, as: AccessClaims.self)
        try checkTimes(iat: claims.iat, nbf: claims.nbf, exp: claims.exp, now: now)
        try checkAudience(iss: claims.iss, aud: claims.aud)
        guard UUID(uuidString: claims.sub) != nil, !claims.jti.isEmpty else { throw Self.invalid }
        return claims
    }

    public func verifyVerificationToken(_ token: String, now: Date) async throws(PorteroError) -> VerificationClaims {
        let claims = try await verify(token, kind: .verification, as: VerificationClaims.self)
        try checkTimes(iat: claims.iat, nbf: claims.nbf, exp: claims.exp, now: now)
        try checkAudience(iss: claims.iss, aud: claims.aud)
        guard claims.scope == VerificationClaims.scopeValue, UUID(uuidString: claims.sub) != nil else {
            throw Self.invalid
        }
        return claims
    }

    /// The one answer for every refused token.
    public static let invalid = PorteroError(.invalidToken, "The access token is invalid.")

    private func verify<Claims: JWTPayload>(_ token: String, kind: TokenKind, as type: Claims.Type)
        async throws(PorteroError) -> Claims
    {
        guard token.utf8.count <= 8192 else { throw Self.invalid }
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty }) else { throw Self.invalid }
        guard let headerBytes = Secrets.decodeBase64URL(segments[0]),
            Secrets.decodeBase64URL(segments[1]) != nil, Secrets.decodeBase64URL(segments[2]) != nil,
            case .object(let header)? = try? StrictJSONParser(maxDepth: 2).parse(headerBytes)
        else { throw Self.invalid }
        guard Set(header.keys).isSubset(of: ["alg", "typ", "kid"]),
            header["alg"] == .string(signingKeys.algorithmName),
            header["typ"] == .string(kind.type),
            case .string(let kid)? = header["kid"], signingKeys.knownKIDs.contains(kid)
        else { throw Self.invalid }
        do {
            return try await signingKeys.collection.verify(token, as: Claims.self)
        } catch {
            throw Self.invalid
        }
    }

    private func checkTimes(iat: Int, nbf: Int, exp: Int, now: Date) throws(PorteroError) {
        let current = Self.seconds(now)
        guard nbf <= current + clockSkew, iat <= current + clockSkew else { throw Self.invalid }
        guard current < exp + clockSkew else {
            throw PorteroError(.tokenExpired, "The access token has expired.")
        }
    }

    private func checkAudience(iss: String, aud: String) throws(PorteroError) {
        guard iss == issuer, aud == audience else { throw Self.invalid }
    }

    static func seconds(_ date: Date) -> Int {
        Int(date.timeIntervalSince1970.rounded(.down))
    }
}

/// The keys tokens are signed and checked with. HS256: one secret (the `kid` is derived from it, never the
/// secret itself). Old keys stay in ``collection`` for checking until their tokens expire.
public struct SigningKeys: Sendable {
    public let collection: JWTKeyCollection
    public let algorithmName: String
    public let currentKID: String
    public let knownKIDs: Set<String>

    /// HS256 with one secret (at least 32 bytes).
    public static func hs256(secret: [UInt8]) async -> SigningKeys {
        let kid = "hs-" + String(Secrets.sha256Hex(bytes: Array("portero-kid:".utf8) + secret).prefix(16))
        let collection = JWTKeyCollection()
        await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        return SigningKeys(collection: collection, algorithmName: "HS256", currentKID: kid, knownKIDs: [kid])
    }
}
