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

/// Claims a token check reads from the payload's JSON object (parsed by ``StrictJSONParser``) rather than through
/// Foundation's `JSONDecoder`, which cost more than the signature check on every request. The rules are the
/// `Codable` ones of the same type: every non-optional claim present with its type, an optional one absent or
/// `null`, unknown claims ignored; a number claim must be a whole number of seconds.
protocol JSONObjectClaims {
    init?(json object: [String: JSONValue])
}

extension [String: JSONValue] {
    fileprivate func string(_ key: String) -> String? {
        guard case .string(let value)? = self[key] else { return nil }
        return value
    }

    /// A whole number that a `Double` holds exactly (every `Int` a token's times can be).
    fileprivate func integer(_ key: String) -> Int? {
        guard case .number(let value)? = self[key], value.rounded(.towardZero) == value,
            abs(value) <= 9_007_199_254_740_992
        else { return nil }
        return Int(value)
    }

    /// `.some(nil)` for an absent or `null` claim, `nil` for one of another type.
    fileprivate func optionalString(_ key: String) -> String?? {
        switch self[key] {
        case nil, .null?: .some(nil)
        case .string(let value)?: .some(value)
        default: nil
        }
    }
}

extension AccessClaims: JSONObjectClaims {
    init?(json object: [String: JSONValue]) {
        guard let iss = object.string("iss"), let aud = object.string("aud"), let sub = object.string("sub"),
            let iat = object.integer("iat"), let nbf = object.integer("nbf"), let exp = object.integer("exp"),
            let jti = object.string("jti"), let email = object.string("email"),
            case .bool(let emailVerified)? = object["email_verified"],
            case .array(let roleValues)? = object["roles"], let sid = object.optionalString("sid")
        else { return nil }
        var roles: [String] = []
        roles.reserveCapacity(roleValues.count)
        for value in roleValues {
            guard case .string(let role) = value else { return nil }
            roles.append(role)
        }
        self.init(
            iss: iss, aud: aud, sub: sub, iat: iat, nbf: nbf, exp: exp, jti: jti, email: email,
            emailVerified: emailVerified, roles: roles, sid: sid)
    }
}

extension VerificationClaims: JSONObjectClaims {
    init?(json object: [String: JSONValue]) {
        guard let iss = object.string("iss"), let aud = object.string("aud"), let sub = object.string("sub"),
            let iat = object.integer("iat"), let nbf = object.integer("nbf"), let exp = object.integer("exp"),
            let jti = object.string("jti"), let email = object.string("email"), let scope = object.string("scope")
        else { return nil }
        self.init(iss: iss, aud: aud, sub: sub, iat: iat, nbf: nbf, exp: exp, jti: jti, email: email, scope: scope)
    }
}

/// Claims that write their own JSON object for ``TokenService`` to sign, in place of `JSONEncoder` (which cost more
/// than the HMAC). The same members `Codable` would write: a `nil` optional is left out, strings are escaped as
/// `JSONEncoder` escapes them (``SnapshotJSONWriter/string(_:)``).
protocol JSONWritableClaims {
    func write(to json: inout SnapshotJSONWriter)
}

extension SnapshotJSONWriter {
    /// Opens the object with the claims every token has: `{"iss":…,"aud":…,"sub":…,"iat":…,"exp":…`.
    fileprivate mutating func openClaims(iss: String, aud: String, sub: String, iat: Int, exp: Int) {
        member(#"{"iss":"#, iss)
        member(#","aud":"#, aud)
        member(#","sub":"#, sub)
        member(#","iat":"#, iat)
        member(#","exp":"#, exp)
    }

    /// A member: `name` is the punctuation before it and its quoted name with the colon, e.g. `#","jti":"#`.
    fileprivate mutating func member(_ name: StaticString, _ value: String) {
        raw(name)
        string(value)
    }

    fileprivate mutating func member(_ name: StaticString, _ value: Int) {
        raw(name)
        int(value)
    }

    fileprivate mutating func member(_ name: StaticString, _ value: Bool) {
        raw(name)
        bool(value)
    }

    /// A string member, or nothing for `nil` (`Codable` leaves out a `nil` optional).
    fileprivate mutating func member(_ name: StaticString, _ value: String?) {
        guard let value else { return }
        member(name, value)
    }
}

extension AccessClaims: JSONWritableClaims {
    func write(to json: inout SnapshotJSONWriter) {
        json.openClaims(iss: iss, aud: aud, sub: sub, iat: iat, exp: exp)
        json.member(#","nbf":"#, nbf)
        json.member(#","jti":"#, jti)
        json.member(#","email":"#, email)
        json.member(#","email_verified":"#, emailVerified)
        json.raw(#","roles":["#)
        for (index, role) in roles.enumerated() {
            if index > 0 { json.raw(UInt8(ascii: ",")) }
            json.string(role)
        }
        json.raw(UInt8(ascii: "]"))
        json.member(#","sid":"#, sid)
        json.raw(UInt8(ascii: "}"))
    }
}

extension IDClaims: JSONWritableClaims {
    func write(to json: inout SnapshotJSONWriter) {
        json.openClaims(iss: iss, aud: aud, sub: sub, iat: iat, exp: exp)
        json.member(#","email":"#, email)
        json.member(#","email_verified":"#, emailVerified)
        json.member(#","name":"#, name)
        json.member(#","phone_number":"#, phoneNumber)
        json.raw(UInt8(ascii: "}"))
    }
}

extension VerificationClaims: JSONWritableClaims {
    func write(to json: inout SnapshotJSONWriter) {
        json.openClaims(iss: iss, aud: aud, sub: sub, iat: iat, exp: exp)
        json.member(#","nbf":"#, nbf)
        json.member(#","jti":"#, jti)
        json.member(#","email":"#, email)
        json.member(#","scope":"#, scope)
        json.raw(UInt8(ascii: "}"))
    }
}
