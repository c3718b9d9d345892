public import Foundation

/// The records Portero's log holds: one case per fact, named by its `type` on disk.
///
/// - Important: a record type once written is never renamed or given a new meaning; add a new type instead and
///   keep decoding the old one (the log has a format version for bigger migrations).
public enum AuthRecord: StoreRecord, Equatable {
    case userRegistered(User)
    case userVerified(UserChange)
    case userUpdated(UserUpdate)
    case userPasswordChanged(PasswordChange)
    case userLoggedIn(LoginRecorded)
    case userTokensRevoked(UserChange)
    case userDeleted(UserChange)
    case codeIssued(OneTimeCode)
    case codeFailed(CodeFailure)
    case codeConsumed(CodeUse)
    case sessionCreated(RefreshSession)
    case sessionRotated(SessionRotation)
    case sessionRevoked(SessionRevocation)
    case tokenRevoked(TokenRevocation)
    case loginFailed(LoginFailure)
    case lockoutCleared(LockoutClear)
    case mailQueued(OutboxMail)
    case mailDone(MailDone)
    case mailAttempted(MailAttempt)
    case mailRetried(MailRetry)
    /// An admin locked the account until an admin unlocks it (`portero users lock`).
    case userLocked(AdminLock)
    /// What an admin did, and who (the audit trail of `/admin/v1`); changes no state.
    case adminAction(AdminAudit)

    public struct UserChange: Codable, Sendable, Equatable {
        public var userID: UUID
        public var at: Date
        public init(userID: UUID, at: Date) {
            self.userID = userID
            self.at = at
        }
    }

    /// Set fields change; an empty string clears `name`/`phone`.
    public struct UserUpdate: Codable, Sendable, Equatable {
        public var userID: UUID
        public var at: Date
        public var name: String?
        public var phone: String?
        public var roles: [String]?
        public var emailVerified: Bool?
        public init(
            userID: UUID, at: Date, name: String? = nil, phone: String? = nil, roles: [String]? = nil,
            emailVerified: Bool? = nil
        ) {
            self.userID = userID
            self.at = at
            self.name = name
            self.phone = phone
            self.roles = roles
            self.emailVerified = emailVerified
        }
    }

    /// A new password hash; `revokeTokens` for change and reset (not for a rehash on login); `imported` when
    /// `portero import` replaced a hash an earlier import gave (nil, absent on disk, otherwise).
    public struct PasswordChange: Codable, Sendable, Equatable {
        public var userID: UUID
        public var at: Date
        public var passwordHash: String
        public var revokeTokens: Bool
        public var imported: Bool?
        public init(userID: UUID, at: Date, passwordHash: String, revokeTokens: Bool, imported: Bool? = nil) {
            self.userID = userID
            self.at = at
            self.passwordHash = passwordHash
            self.revokeTokens = revokeTokens
            self.imported = imported
        }
    }

    public struct LoginRecorded: Codable, Sendable, Equatable {
        public var userID: UUID
        public var at: Date
        public var ip: String?
        public init(userID: UUID, at: Date, ip: String?) {
            self.userID = userID
            self.at = at
            self.ip = ip
        }
    }

    public struct CodeFailure: Codable, Sendable, Equatable {
        public var userID: UUID
        public var purpose: CodePurpose
        /// The code dies when its failures reach this.
        public var maxAttempts: Int
        public init(userID: UUID, purpose: CodePurpose, maxAttempts: Int) {
            self.userID = userID
            self.purpose = purpose
            self.maxAttempts = maxAttempts
        }
    }

    public struct CodeUse: Codable, Sendable, Equatable {
        public var userID: UUID
        public var purpose: CodePurpose
        public init(userID: UUID, purpose: CodePurpose) {
            self.userID = userID
            self.purpose = purpose
        }
    }

    public struct SessionRotation: Codable, Sendable, Equatable {
        public var sessionID: UUID
        public var newTokenDigest: String
        public var at: Date
        public var expiresAt: Date
        public init(sessionID: UUID, newTokenDigest: String, at: Date, expiresAt: Date) {
            self.sessionID = sessionID
            self.newTokenDigest = newTokenDigest
            self.at = at
            self.expiresAt = expiresAt
        }
    }

    public struct SessionRevocation: Codable, Sendable, Equatable {
        public var sessionID: UUID
        /// `logout`, `user`, `reuse`, `admin`.
        public var reason: String
        public init(sessionID: UUID, reason: String) {
            self.sessionID = sessionID
            self.reason = reason
        }
    }

    public struct TokenRevocation: Codable, Sendable, Equatable {
        public var jti: String
        public var userID: UUID
        public var expiresAt: Date
        public init(jti: String, userID: UUID, expiresAt: Date) {
            self.jti = jti
            self.userID = userID
            self.expiresAt = expiresAt
        }
    }

    public struct LoginFailure: Codable, Sendable, Equatable {
        /// The lockout state key (``Lockout/stateKey(_:in:)``): the account's email key, or a keyed hash of an
        /// address without an account.
        public var emailKey: String
        public var at: Date
        public var failures: Int
        public var lockedUntil: Date?
        /// When the entry's window (or lock) runs out; nil in records written before windows.
        public var expiresAt: Date?
        public init(emailKey: String, at: Date, failures: Int, lockedUntil: Date?, expiresAt: Date? = nil) {
            self.emailKey = emailKey
            self.at = at
            self.failures = failures
            self.lockedUntil = lockedUntil
            self.expiresAt = expiresAt
        }
    }

    public struct LockoutClear: Codable, Sendable, Equatable {
        public var emailKey: String
        /// An admin's unlock: it also ends an admin's lock, which nothing else (login, password reset) does.
        /// nil (absent on disk) for the clears of logins and resets.
        public var byAdmin: Bool?
        public init(emailKey: String, byAdmin: Bool? = nil) {
            self.emailKey = emailKey
            self.byAdmin = byAdmin
        }
    }

    public struct AdminLock: Codable, Sendable, Equatable {
        public var userID: UUID
        public var emailKey: String
        public var at: Date
        public init(userID: UUID, emailKey: String, at: Date) {
            self.userID = userID
            self.emailKey = emailKey
            self.at = at
        }
    }

    /// One admin action: what, on whom, and the peer (`SO_PEERCRED`) that asked.
    public struct AdminAudit: Codable, Sendable, Equatable {
        /// `user_verified`, `user_locked`, `user_unlocked`, `roles_set`, `user_deleted`, `session_revoked`,
        /// `sessions_revoked`, `snapshot`, `backup`, `users_imported`, `user_created`, `password_reset_started`,
        /// `mail_retried`.
        public var action: String
        public var userID: UUID?
        public var sessionID: UUID?
        /// The outbox message of `mail_retried`.
        public var mailID: UUID?
        public var peerUID: UInt32
        public var peerPID: Int32
        public var peerUser: String?
        public var at: Date
        /// `users_imported`: accounts created and changed by the batch (nil, absent on disk, for other actions).
        public var imported: Int?
        public var updated: Int?
        public init(
            action: String, userID: UUID?, sessionID: UUID? = nil, mailID: UUID? = nil, peerUID: UInt32,
            peerPID: Int32, peerUser: String?, at: Date, imported: Int? = nil, updated: Int? = nil
        ) {
            self.action = action
            self.userID = userID
            self.sessionID = sessionID
            self.mailID = mailID
            self.peerUID = peerUID
            self.peerPID = peerPID
            self.peerUser = peerUser
            self.at = at
            self.imported = imported
            self.updated = updated
        }
    }

    public struct MailDone: Codable, Sendable, Equatable {
        public var id: UUID
        public var delivered: Bool
        public init(id: UUID, delivered: Bool) {
            self.id = id
            self.delivered = delivered
        }
    }

    /// An admin queued a retrying or dead message again (`portero mail retry`): it is due at once.
    public struct MailRetry: Codable, Sendable, Equatable {
        public var id: UUID
        public var at: Date
        public init(id: UUID, at: Date) {
            self.id = id
            self.at = at
        }
    }

    /// A failed delivery attempt and when the next one may start; written so attempts survive a restart.
    public struct MailAttempt: Codable, Sendable, Equatable {
        public var id: UUID
        /// Failed attempts so far, this one included.
        public var attempts: Int
        public var nextAttemptAt: Date
        /// The transport's error line (never the body or the code).
        public var error: String
        public init(id: UUID, attempts: Int, nextAttemptAt: Date, error: String) {
            self.id = id
            self.attempts = attempts
            self.nextAttemptAt = nextAttemptAt
            self.error = error
        }
    }

    // MARK: StoreRecord

    public var type: String {
        switch self {
        case .userRegistered: "user.registered"
        case .userVerified: "user.verified"
        case .userUpdated: "user.updated"
        case .userPasswordChanged: "user.password_changed"
        case .userLoggedIn: "user.logged_in"
        case .userTokensRevoked: "user.tokens_revoked"
        case .userDeleted: "user.deleted"
        case .codeIssued: "code.issued"
        case .codeFailed: "code.failed"
        case .codeConsumed: "code.consumed"
        case .sessionCreated: "session.created"
        case .sessionRotated: "session.rotated"
        case .sessionRevoked: "session.revoked"
        case .tokenRevoked: "token.revoked"
        case .loginFailed: "login.failed"
        case .lockoutCleared: "lockout.cleared"
        case .mailQueued: "mail.queued"
        case .mailDone: "mail.done"
        case .mailAttempted: "mail.attempted"
        case .mailRetried: "mail.retried"
        case .userLocked: "user.locked"
        case .adminAction: "admin.action"
        }
    }

    public func encodeData() throws -> [UInt8] {
        let encoder = Self.encoder
        switch self {
        case .userRegistered(let value): return Array(try encoder.encode(value))
        case .userVerified(let value), .userTokensRevoked(let value), .userDeleted(let value):
            return Array(try encoder.encode(value))
        case .userUpdated(let value): return Array(try encoder.encode(value))
        case .userPasswordChanged(let value): return Array(try encoder.encode(value))
        case .userLoggedIn(let value): return Array(try encoder.encode(value))
        case .codeIssued(let value): return Array(try encoder.encode(value))
        case .codeFailed(let value): return Array(try encoder.encode(value))
        case .codeConsumed(let value): return Array(try encoder.encode(value))
        case .sessionCreated(let value): return Array(try encoder.encode(value))
        case .sessionRotated(let value): return Array(try encoder.encode(value))
        case .sessionRevoked(let value): return Array(try encoder.encode(value))
        case .tokenRevoked(let value): return Array(try encoder.encode(value))
        case .loginFailed(let value): return Array(try encoder.encode(value))
        case .lockoutCleared(let value): return Array(try encoder.encode(value))
        case .mailQueued(let value): return Array(try encoder.encode(value))
        case .mailDone(let value): return Array(try encoder.encode(value))
        case .mailAttempted(let value): return Array(try encoder.encode(value))
        case .mailRetried(let value): return Array(try encoder.encode(value))
        case .userLocked(let value): return Array(try encoder.encode(value))
        case .adminAction(let value): return Array(try encoder.encode(value))
        }
    }

    public init(type: String, data: [UInt8]) throws {
        let decoder = Self.decoder
        let data = Data(data)
        switch type {
        case "user.registered": self = .userRegistered(try decoder.decode(User.self, from: data))
        case "user.verified": self = .userVerified(try decoder.decode(UserChange.self, from: data))
        case "user.updated": self = .userUpdated(try decoder.decode(UserUpdate.self, from: data))
        case "user.password_changed": self = .userPasswordChanged(try decoder.decode(PasswordChange.self, from: data))
        case "user.logged_in": self = .userLoggedIn(try decoder.decode(LoginRecorded.self, from: data))
        case "user.tokens_revoked": self = .userTokensRevoked(try decoder.decode(UserChange.self, from: data))
        case "user.deleted": self = .userDeleted(try decoder.decode(UserChange.self, from: data))
        case "code.issued": self = .codeIssued(try decoder.decode(OneTimeCode.self, from: data))
        case "code.failed": self = .codeFailed(try decoder.decode(CodeFailure.self, from: data))
        case "code.consumed": self = .codeConsumed(try decoder.decode(CodeUse.self, from: data))
        case "session.created": self = .sessionCreated(try decoder.decode(RefreshSession.self, from: data))
        case "session.rotated": self = .sessionRotated(try decoder.decode(SessionRotation.self, from: data))
        case "session.revoked": self = .sessionRevoked(try decoder.decode(SessionRevocation.self, from: data))
        case "token.revoked": self = .tokenRevoked(try decoder.decode(TokenRevocation.self, from: data))
        case "login.failed": self = .loginFailed(try decoder.decode(LoginFailure.self, from: data))
        case "lockout.cleared": self = .lockoutCleared(try decoder.decode(LockoutClear.self, from: data))
        case "mail.queued": self = .mailQueued(try decoder.decode(OutboxMail.self, from: data))
        case "mail.done": self = .mailDone(try decoder.decode(MailDone.self, from: data))
        case "mail.attempted": self = .mailAttempted(try decoder.decode(MailAttempt.self, from: data))
        case "mail.retried": self = .mailRetried(try decoder.decode(MailRetry.self, from: data))
        case "user.locked": self = .userLocked(try decoder.decode(AdminLock.self, from: data))
        case "admin.action": self = .adminAction(try decoder.decode(AdminAudit.self, from: data))
        default: throw UnknownRecordType(type: type)
        }
    }

    static var encoder: JSONEncoder { RecordCoding.sharedEncoder }
    static var decoder: JSONDecoder { RecordCoding.sharedDecoder }
}

/// A log line whose `type` this version does not know.
public struct UnknownRecordType: Error, CustomStringConvertible {
    public let type: String
    public var description: String { "unknown record type \"\(type)\"" }
}
