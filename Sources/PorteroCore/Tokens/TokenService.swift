import Crypto
public import Foundation
public import JWTKit
import Logging

/// Issues and checks Portero's JWTs with jwt-kit.
///
/// Before jwt-kit sees a token, its header is checked strictly: exactly `alg`, `typ` and `kid`, a `kid` of one of
/// our live keys, the `alg` of that very key (never one the token chooses), the expected `typ` — so `alg: none`,
/// algorithm switches (an HS256 token keyed with an Ed25519 public key), `jku`/`x5u`/`jwk`/`crit` tricks, unknown
/// or forged `kid`s and one kind of token posing as another never reach signature code.
public struct TokenService: Sendable {
    public let signingKeys: SigningKeys
    public let issuer: String
    public let audience: String
    public let accessTTL: Duration
    public let verificationTTL: Duration
    /// Leeway for `exp`, `nbf` and `iat` (SPEC: at most 60 s).
    public let clockSkew: Int = TokenService.maxClockSkew
    /// The leeway every token service allows; old keys are kept this much longer than their tokens' lifetime.
    public static let maxClockSkew = 60

    public init(
        signingKeys: SigningKeys, issuer: String, audience: String, accessTTL: Duration, verificationTTL: Duration
    ) {
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
    ) throws -> IssuedAccessToken {
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
        let token = try sign(claims, kind: .access)
        return IssuedAccessToken(token: token, claims: claims, expiresIn: lifetime)
    }

    public func issueIDToken(
        userID: UUID, email: String, emailVerified: Bool, name: String?, phone: String?, now: Date
    ) throws -> String {
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
        return try sign(claims, kind: .id)
    }

    public func issueVerificationToken(userID: UUID, email: String, now: Date) throws -> String {
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
        return try sign(claims, kind: .verification)
    }

    /// `header.payload.signature` with the current key: the header is the one ``SigningKeys`` encoded for `kind`,
    /// the payload is the claims' own JSON (``JSONWritableClaims``), and jwt-kit's algorithm object for the key
    /// signs. No `JSONEncoder` and no hop onto the key collection's actor: those cost more than the HMAC on every
    /// login and `/refresh`.
    private func sign(_ claims: some JSONWritableClaims, kind: TokenKind) throws -> String {
        var payload = SnapshotJSONWriter()
        claims.write(to: &payload)
        var token = signingKeys.encodedHeaders[kind]
        token.append(UInt8(ascii: "."))
        token.append(contentsOf: Secrets.base64URLBytes(payload.bytes))
        let signature = try signingKeys.signer.sign(token)
        token.append(UInt8(ascii: "."))
        token.append(contentsOf: Secrets.base64URLBytes(signature))
        return String(decoding: token, as: UTF8.self)
    }

    // MARK: Checking

    /// Checks an access token; throws ``PorteroError`` `invalid_token` or `token_expired` (never says why in
    /// more detail than a client needs). Revocation is the caller's (it needs the store).
    public func verifyAccessToken(_ token: String, now: Date) async throws(PorteroError) -> AccessClaims {
        let claims = try await verify(token, kind: .access, as: AccessClaims.self)
        try checkTimes(iat: claims.iat, nbf: claims.nbf, exp: claims.exp, now: now)
        try checkAudience(iss: claims.iss, aud: claims.aud)
        guard UUID(parsing: claims.sub) != nil, !claims.jti.isEmpty else { throw Self.invalid }
        return claims
    }

    public func verifyVerificationToken(_ token: String, now: Date) async throws(PorteroError) -> VerificationClaims {
        let claims = try await verify(token, kind: .verification, as: VerificationClaims.self)
        try checkTimes(iat: claims.iat, nbf: claims.nbf, exp: claims.exp, now: now)
        try checkAudience(iss: claims.iss, aud: claims.aud)
        guard claims.scope == VerificationClaims.scopeValue, UUID(parsing: claims.sub) != nil else {
            throw Self.invalid
        }
        return claims
    }

    /// The one answer for every refused token.
    public static let invalid = PorteroError(.invalidToken, "The access token is invalid.")

    private func verify<Claims: JWTPayload & JSONObjectClaims>(_ token: String, kind: TokenKind, as type: Claims.Type)
        async throws(PorteroError) -> Claims
    {
        guard token.utf8.count <= 8192 else { throw Self.invalid }
        let bytes = Array(token.utf8)
        let segments = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty }) else { throw Self.invalid }
        guard let headerBytes = Secrets.decodeBase64URL(bytes: segments[0]),
            let payloadBytes = Secrets.decodeBase64URL(bytes: segments[1]),
            let signature = Secrets.decodeBase64URL(bytes: segments[2]),
            case .object(let header)? = try? StrictJSONParser(maxDepth: 2).parse(headerBytes)
        else { throw Self.invalid }
        // The key is chosen by `kid` among our own; the algorithm is that key's, whatever the header claims.
        guard header.keys.allSatisfy({ $0 == "alg" || $0 == "typ" || $0 == "kid" }),
            header["typ"] == .string(kind.type),
            case .string(let kid)? = header["kid"], let algorithm = signingKeys.algorithms[kid],
            header["alg"] == .string(algorithm.rawValue), let verifier = signingKeys.verifiers[kid]
        else { throw Self.invalid }
        // jwt-kit's algorithm object for that key checks the signature over `header.payload` (HMAC compared in
        // constant time, Ed25519 by swift-crypto); only then is the payload read, once, from the bytes decoded
        // above, by the strict parser (duplicate claims, invalid UTF-8 and trailing bytes refused) — not a second
        // parse of the whole token inside the key collection actor, and not Foundation's JSONDecoder.
        let signingInput = bytes[segments[0].startIndex..<segments[1].endIndex]
        let claims: Claims
        do {
            guard try verifier.verify(signature, signs: signingInput),
                case .object(let object) = try StrictJSONParser(maxDepth: 2).parse(payloadBytes),
                let parsed = Claims(json: object)
            else { throw Self.invalid }
            claims = parsed
            try await claims.verify(using: verifier)
        } catch {
            throw Self.invalid
        }
        return claims
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

/// The keys tokens are signed and checked with: the current key signs; every live key (see ``SigningKeyRing``)
/// verifies the tokens that carry its `kid`.
public struct SigningKeys: Sendable {
    /// The `alg` of the current key.
    public let algorithmName: String
    public let currentKID: String
    /// jwt-kit's algorithm object for the current key: it signs every token issued.
    let signer: any JWTAlgorithm
    /// For each kind of token, base64url of its header with the current key, `{"alg":…,"kid":…,"typ":…}`.
    let encodedHeaders: EncodedHeaders
    /// Every live key's `kid` and the one algorithm it verifies.
    public let algorithms: [String: SigningKey.Algorithm]
    /// Every live key's `kid` and jwt-kit's algorithm object for it (taken once from the `JWTKeyCollection` that
    /// ``make(_:)`` loads the keys into), so a check needs no hop onto the collection's actor.
    let verifiers: [String: any JWTAlgorithm]
    /// `{"keys": [...]}`: the public JWKs of the live EdDSA keys.
    public let jwks: [String: JSONValue]

    public var knownKIDs: Set<String> { Set(algorithms.keys) }

    /// The live keys of `ring`, signing with its current one.
    public static func make(_ ring: SigningKeyRing) async -> SigningKeys {
        let collection = JWTKeyCollection()
        var algorithms: [String: SigningKey.Algorithm] = [:]
        for key in ring.live {
            let kid = JWKIdentifier(string: key.kid)
            switch key.algorithm {
            case .hs256:
                await collection.add(hmac: HMACKey(from: key.secret), digestAlgorithm: .sha256, kid: kid)
            case .eddsa:
                guard let privateKey = try? Curve25519.Signing.PrivateKey(rawRepresentation: key.secret) else {
                    continue  // not reachable: a SigningKey's EdDSA material is valid by construction
                }
                await collection.add(eddsa: EdDSA.PrivateKey(backing: privateKey), kid: kid)
            }
            algorithms[key.kid] = key.algorithm
        }
        var verifiers: [String: any JWTAlgorithm] = [:]
        for kid in algorithms.keys {
            verifiers[kid] = try? await collection.getKey(for: JWKIdentifier(string: kid))
        }
        let current = ring.current
        // Not reachable: the current key is live, and every live key's material is valid by construction.
        guard let signer = verifiers[current.kid] else { preconditionFailure("the current signing key did not load") }
        return SigningKeys(
            algorithmName: current.algorithm.rawValue,
            currentKID: current.kid,
            signer: signer,
            encodedHeaders: EncodedHeaders(algorithm: current.algorithm, kid: current.kid),
            algorithms: algorithms,
            verifiers: verifiers,
            jwks: ring.jwks
        )
    }

    /// The three headers of ``encodedHeaders``.
    struct EncodedHeaders: Sendable {
        private let access: [UInt8]
        private let id: [UInt8]
        private let verification: [UInt8]

        init(algorithm: SigningKey.Algorithm, kid: String) {
            func encode(_ kind: TokenKind) -> [UInt8] {
                var header = SnapshotJSONWriter()
                header.raw(#"{"alg":"#)
                header.string(algorithm.rawValue)
                header.raw(#","kid":"#)
                header.string(kid)
                header.raw(#","typ":"#)
                header.string(kind.type)
                header.raw(UInt8(ascii: "}"))
                return Secrets.base64URLBytes(header.bytes)
            }
            access = encode(.access)
            id = encode(.id)
            verification = encode(.verification)
        }

        subscript(kind: TokenKind) -> [UInt8] {
            switch kind {
            case .access: access
            case .id: id
            case .verification: verification
            }
        }
    }

    /// HS256 with one secret, e.g. `PORTERO_JWT_SECRET`; nil when it is shorter than 32 bytes.
    public static func hs256(secret: [UInt8]) async -> SigningKeys? {
        guard let key = SigningKey(algorithm: .hs256, secret: secret, createdAt: Date(timeIntervalSince1970: 0)),
            let ring = SigningKeyRing(keys: [key], retention: .zero, now: Date())
        else { return nil }
        return await make(ring)
    }
}
