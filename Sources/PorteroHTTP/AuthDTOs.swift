public import Foundation
import PorteroFormat
public import PorteroCore

/// The user object of SPEC §3.
public struct UserDTO: Encodable, Sendable {
    public var id: UUID
    public var email: String
    public var name: String?
    public var phone: String?
    public var emailVerified: Bool
    public var roles: [String]
    public var createdAt: Date
    public var updatedAt: Date
    public var lastLoginAt: Date?
    /// The language of the account's mail (BCP 47), null when none was given.
    public var locale: String?

    public init(_ user: User) {
        self.id = user.id
        self.email = user.email
        self.name = user.name
        self.phone = user.phone
        self.emailVerified = user.emailVerified
        self.roles = user.roles
        self.createdAt = user.createdAt
        self.updatedAt = user.updatedAt
        self.lastLoginAt = user.lastLoginAt
        self.locale = user.locale
    }

    enum CodingKeys: String, CodingKey {
        case id, email, name, phone, emailVerified, roles, createdAt, updatedAt, lastLoginAt, locale
    }

    /// Absent values are written as `null`, so clients always see every field.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id.uuidString.lowercased(), forKey: .id)
        try container.encode(email, forKey: .email)
        try container.encode(name, forKey: .name)
        try container.encode(phone, forKey: .phone)
        try container.encode(emailVerified, forKey: .emailVerified)
        try container.encode(roles, forKey: .roles)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(lastLoginAt, forKey: .lastLoginAt)
        try container.encode(locale, forKey: .locale)
    }
}

extension UserDTO {
    /// The same object as `encode(to:)` writes through `JSONResponse`'s encoder (snake_case keys, absent values as
    /// `null`, times in whole seconds), built directly: `GET /profile` answers it on every request, and
    /// `JSONEncoder` with a key strategy and a custom date strategy was the costliest part of that answer.
    var jsonObject: [String: JSONValue] {
        [
            "id": .string(id.uuidString.lowercased()),
            "email": .string(email),
            "name": name.map(JSONValue.string) ?? .null,
            "phone": phone.map(JSONValue.string) ?? .null,
            "email_verified": .bool(emailVerified),
            "roles": .array(roles.map(JSONValue.string)),
            "created_at": .string(UTCTimestamp.seconds(createdAt)),
            "updated_at": .string(UTCTimestamp.seconds(updatedAt)),
            "last_login_at": lastLoginAt.map { JSONValue.string(UTCTimestamp.seconds($0)) } ?? .null,
            "locale": locale.map(JSONValue.string) ?? .null,
        ]
    }
}

/// SPEC §3's token response; its fields sit at the top level beside `message` and `user`.
public struct TokenResponse: Encodable, Sendable {
    public var message: String?
    public var user: UserDTO?
    public var accessToken: String
    public var tokenType: String = "Bearer"
    public var expiresIn: Int
    public var refreshToken: String
    public var idToken: String

    init(_ signedIn: SignedIn, message: String?, includeUser: Bool) {
        self.message = message
        self.user = includeUser ? UserDTO(signedIn.user) : nil
        self.accessToken = signedIn.accessToken
        self.expiresIn = signedIn.expiresIn
        self.refreshToken = signedIn.refreshToken
        self.idToken = signedIn.idToken
    }
}

struct MessageResponse: Encodable {
    var message: String
}

struct RegisterResponse: Encodable {
    var message: String
    var user: UserDTO
    var verificationRequired: Bool
    var verificationToken: String
}

struct VerificationStatusResponse: Encodable {
    var email: String
    var verified: Bool
}

struct ResendResponse: Encodable {
    var message: String
    var email: String
}

struct UserResponse: Encodable {
    var user: UserDTO
}

struct SessionDTO: Encodable {
    var id: String
    var createdAt: Date
    var lastUsedAt: Date
    var ip: String?
    var userAgent: String?
    var current: Bool

    init(_ session: RefreshSession, current: Bool) {
        self.id = session.id.uuidString.lowercased()
        self.createdAt = session.createdAt
        self.lastUsedAt = session.lastUsedAt
        self.ip = session.ip
        self.userAgent = session.userAgent
        self.current = current
    }

    enum CodingKeys: String, CodingKey { case id, createdAt, lastUsedAt, ip, userAgent, current }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(lastUsedAt, forKey: .lastUsedAt)
        try container.encode(ip, forKey: .ip)
        try container.encode(userAgent, forKey: .userAgent)
        try container.encode(current, forKey: .current)
    }
}

struct SessionsResponse: Encodable {
    var sessions: [SessionDTO]
}
