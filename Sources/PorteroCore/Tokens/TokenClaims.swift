public import JWTKit

/// Claims of an access token (SPEC §3). Times are whole seconds.
public struct AccessClaims: JWTPayload, Equatable {
    public var iss: String
    public var aud: String
    public var sub: String
    public var iat: Int
    public var nbf: Int
    public var exp: Int
    public var jti: String
    public var email: String
    public var emailVerified: Bool
    public var roles: [String]
    /// The refresh session this token belongs to: logging that session out revokes the token too.
    public var sid: String?

    enum CodingKeys: String, CodingKey {
        case iss, aud, sub, iat, nbf, exp, jti, email, roles, sid
        case emailVerified = "email_verified"
    }

    /// Claim checks are ``TokenService``'s (issuer, audience, time with skew); jwt-kit only checks the signature.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Claims of an id token (SPEC §3).
public struct IDClaims: JWTPayload, Equatable {
    public var iss: String
    public var aud: String
    public var sub: String
    public var iat: Int
    public var exp: Int
    public var email: String
    public var emailVerified: Bool
    public var name: String?
    public var phoneNumber: String?

    enum CodingKeys: String, CodingKey {
        case iss, aud, sub, iat, exp, email, name
        case emailVerified = "email_verified"
        case phoneNumber = "phone_number"
    }

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Claims of a verification token: `scope: "verify_email"`, a `code_ttl` lifetime.
public struct VerificationClaims: JWTPayload, Equatable {
    public var iss: String
    public var aud: String
    public var sub: String
    public var iat: Int
    public var nbf: Int
    public var exp: Int
    public var jti: String
    public var email: String
    public var scope: String

    public static let scopeValue = "verify_email"

    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The kinds of token Portero issues; each has its own `typ` header so none can stand in for another
/// (RFC 8725 §3.11).
public enum TokenKind: Sendable, CaseIterable {
    case access
    case id
    case verification

    /// The `typ` header value.
    public var type: String {
        switch self {
        case .access: "at+jwt"
        case .id: "id+jwt"
        case .verification: "verify-email+jwt"
        }
    }
}
