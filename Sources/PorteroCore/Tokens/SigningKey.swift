import Crypto
public import Foundation

/// One key Portero signs JWTs with: an HS256 secret or an Ed25519 private key, its `kid` and when it was made.
///
/// The `kid` is derived from the key, so it can never name another key: HS256 `hs-` + 16 hex digits of a
/// SHA-256 over a fixed prefix and the secret (never the secret itself); EdDSA the RFC 7638 thumbprint of the
/// public key. Neither `secret` nor anything made from it but the `kid` is ever logged.
public struct SigningKey: Sendable, Equatable {
    /// `jwt.algorithm`: the JWS `alg` a key signs with.
    public enum Algorithm: String, Sendable, CaseIterable {
        case hs256 = "HS256"
        case eddsa = "EdDSA"
    }

    public let algorithm: Algorithm
    /// HS256: the shared secret (at least 32 bytes). EdDSA: the 32-byte Ed25519 private key.
    public let secret: [UInt8]
    /// When the key was made; the next newer key's `createdAt` is when this one stopped signing.
    public let createdAt: Date
    public let kid: String
    /// EdDSA: the 32-byte Ed25519 public key; nil for HS256.
    public let publicKey: [UInt8]?

    /// A key from its material; nil when the material is not a valid key of `algorithm`.
    public init?(algorithm: Algorithm, secret: [UInt8], createdAt: Date) {
        switch algorithm {
        case .hs256:
            guard secret.count >= 32 else { return nil }
            self.init(hs256: secret, createdAt: createdAt)
        case .eddsa:
            guard secret.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: secret) else {
                return nil
            }
            self.init(ed25519: key, createdAt: createdAt)
        }
    }

    /// A new key of `algorithm` from the system CSPRNG (HS256: 48 bytes).
    public static func generate(_ algorithm: Algorithm, now: Date) -> SigningKey {
        switch algorithm {
        case .hs256: SigningKey(hs256: Secrets.randomBytes(48), createdAt: now)
        case .eddsa: SigningKey(ed25519: Curve25519.Signing.PrivateKey(), createdAt: now)
        }
    }

    private init(hs256 secret: [UInt8], createdAt: Date) {
        self.algorithm = .hs256
        self.secret = secret
        self.createdAt = createdAt
        self.kid = "hs-" + String(Secrets.sha256Hex(bytes: Array("portero-kid:".utf8) + secret).prefix(16))
        self.publicKey = nil
    }

    private init(ed25519 key: Curve25519.Signing.PrivateKey, createdAt: Date) {
        let publicKey = Array(key.publicKey.rawRepresentation)
        self.algorithm = .eddsa
        self.secret = Array(key.rawRepresentation)
        self.createdAt = createdAt
        self.kid = Self.thumbprint(ed25519: publicKey)
        self.publicKey = publicKey
    }

    /// The public JWK (RFC 8037) of an EdDSA key, as `/.well-known/jwks.json` lists it; nil for HS256.
    public var publicJWK: JSONValue? {
        guard let publicKey else { return nil }
        return .object([
            "kty": .string("OKP"),
            "crv": .string("Ed25519"),
            "x": .string(Secrets.base64URL(publicKey)),
            "kid": .string(kid),
            "use": .string("sig"),
            "alg": .string(Algorithm.eddsa.rawValue),
        ])
    }

    /// RFC 7638 thumbprint of an Ed25519 public key: SHA-256 over `{"crv","kty","x"}` in that order, base64url.
    static func thumbprint(ed25519 publicKey: [UInt8]) -> String {
        let members = #"{"crv":"Ed25519","kty":"OKP","x":""# + Secrets.base64URL(publicKey) + #""}"#
        return Secrets.base64URL(Array(SHA256.hash(data: Array(members.utf8))))
    }

    public static func == (lhs: SigningKey, rhs: SigningKey) -> Bool {
        lhs.algorithm == rhs.algorithm && lhs.createdAt == rhs.createdAt
            && Secrets.constantTimeEquals(Secrets.hex(lhs.secret), Secrets.hex(rhs.secret))
    }
}

/// Which of a set of signing keys are in use at one moment.
///
/// The newest key signs. An older key stopped signing when the next newer one was made, so the tokens it signed
/// live at most `retention` longer: it keeps verifying until then and is expired after. `retention` is the longest
/// lifetime of any JWT Portero issues — access and id tokens (`access_ttl`), verification tokens (`code_ttl`) —
/// plus the clock skew verification allows. Refresh tokens are opaque and signed by nothing.
public struct SigningKeyRing: Sendable {
    /// Keys that sign or verify, newest first; the first one signs.
    public let live: [SigningKey]
    /// Keys past their retention, which may be deleted.
    public let expired: [SigningKey]

    /// - Parameters:
    ///   - keys: every key known, in any order; at least one.
    ///   - retention: see ``retention(accessTTL:codeTTL:)``.
    ///   - now: the current time.
    public init?(keys: [SigningKey], retention: Duration, now: Date) {
        // Newest first; equal times are ordered by kid, so every reader picks the same signer.
        let sorted = keys.sorted { ($0.createdAt, $0.kid) > ($1.createdAt, $1.kid) }
        guard let newest = sorted.first else { return nil }
        var live = [newest]
        var expired: [SigningKey] = []
        let seconds = Double(retention.components.seconds)
        for index in sorted.indices.dropFirst() {
            let successor = sorted[index - 1]
            if now < successor.createdAt.addingTimeInterval(seconds) {
                live.append(sorted[index])
            } else {
                expired.append(sorted[index])
            }
        }
        self.live = live
        self.expired = expired
    }

    /// The key that signs new tokens.
    public var current: SigningKey { live[0] }

    /// How long a key keeps verifying after it stopped signing: the longest JWT lifetime plus the clock skew.
    public static func retention(accessTTL: TimeSpan, codeTTL: TimeSpan) -> Duration {
        .seconds(max(accessTTL.seconds, codeTTL.seconds) + TokenService.maxClockSkew)
    }

    /// `{"keys": [...]}` with the public JWK of every live EdDSA key (empty under HS256 only).
    public var jwks: [String: JSONValue] {
        ["keys": .array(live.compactMap(\.publicJWK))]
    }
}
