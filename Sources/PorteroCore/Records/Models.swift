public import Foundation

/// A registered account. Only ``passwordHash`` is secret; it never leaves the store.
public struct User: Sendable, Codable, Equatable {
    public var id: UUID
    /// The address as typed (trimmed), shown back to the user.
    public var email: String
    /// ``Email/key`` of ``email``: what lookups use.
    public var emailKey: String
    public var name: String?
    public var phone: String?
    /// A PHC string (`$argon2id$…`) or a bcrypt hash (`$2b$…`); after `portero import`, also a PBKDF2 or scrypt
    /// hash of another stack, or ``PasswordHasher/noPassword``.
    public var passwordHash: String
    /// Set while ``passwordHash`` is the one an import gave (no login, change or reset since): only then may a
    /// later import of the same address replace it. nil (absent on disk) otherwise.
    public var passwordImported: Bool?
    public var emailVerified: Bool
    public var roles: [String]
    public var createdAt: Date
    public var updatedAt: Date
    public var lastLoginAt: Date?
    public var lastLoginIP: String?
    /// Tokens issued before this instant are revoked (logout-all, password change and reset).
    public var tokensValidAfter: Date?
    /// An account still unverified at this instant is gone (`registration.unverified_ttl`): use cases treat it as
    /// absent and the next snapshot drops it. nil for verified accounts and for accounts made before the key.
    public var unverifiedUntil: Date?
    /// The language of the account's mail (a BCP 47 tag, ``LanguageTag``): asked for at registration or taken from
    /// the browser's `Accept-Language`. nil (absent on disk, as in records written before the field): `en`.
    public var locale: String?

    public init(
        id: UUID, email: Email, name: String?, phone: String?, passwordHash: String, roles: [String] = ["user"],
        createdAt: Date
    ) {
        self.id = id
        self.email = email.address
        self.emailKey = email.key
        self.name = name
        self.phone = phone
        self.passwordHash = passwordHash
        self.emailVerified = false
        self.roles = roles
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }
}

extension User {
    /// Whether the account was never verified and its `registration.unverified_ttl` has run out at `now`.
    public func isExpiredUnverified(at now: Date) -> Bool {
        guard !emailVerified, let until = unverifiedUntil else { return false }
        return until <= now
    }
}

/// What a one-time code is for; a code for one purpose never works for the other.
public enum CodePurpose: String, Sendable, Codable, CaseIterable {
    case verifyEmail = "verify_email"
    case resetPassword = "reset_password"
}

/// A 6-digit one-time code, kept only as a keyed hash.
public struct OneTimeCode: Sendable, Codable, Equatable {
    public var userID: UUID
    public var purpose: CodePurpose
    /// HMAC-SHA256 of the code, hex.
    public var digest: String
    public var issuedAt: Date
    public var expiresAt: Date
    public var failedAttempts: Int

    public init(userID: UUID, purpose: CodePurpose, digest: String, issuedAt: Date, expiresAt: Date) {
        self.userID = userID
        self.purpose = purpose
        self.digest = digest
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.failedAttempts = 0
    }

    /// The key a user's live code for a purpose is stored under.
    public static func key(userID: UUID, purpose: CodePurpose) -> String {
        "\(userID.uuidString.lowercased())/\(purpose.rawValue)"
    }
}

/// A refresh-token session (one token family): rotation replaces ``tokenDigest``.
public struct RefreshSession: Sendable, Codable, Equatable {
    public var id: UUID
    public var userID: UUID
    /// SHA-256 of the current refresh token, hex.
    public var tokenDigest: String
    public var createdAt: Date
    public var lastUsedAt: Date
    public var expiresAt: Date
    public var ip: String?
    public var userAgent: String?

    public init(
        id: UUID, userID: UUID, tokenDigest: String, createdAt: Date, expiresAt: Date, ip: String?,
        userAgent: String?
    ) {
        self.id = id
        self.userID = userID
        self.tokenDigest = tokenDigest
        self.createdAt = createdAt
        self.lastUsedAt = createdAt
        self.expiresAt = expiresAt
        self.ip = ip
        self.userAgent = userAgent
    }
}

/// A refresh token that was rotated away; seeing it again means theft, and its session is revoked.
public struct SpentRefreshToken: Sendable, Codable, Equatable {
    public var sessionID: UUID
    public var userID: UUID
    public var expiresAt: Date

    public init(sessionID: UUID, userID: UUID, expiresAt: Date) {
        self.sessionID = sessionID
        self.userID = userID
        self.expiresAt = expiresAt
    }
}

/// Failed-login bookkeeping for one email key (known or not).
public struct LockoutEntry: Sendable, Codable, Equatable {
    public var failures: Int
    public var lastFailureAt: Date
    public var lockedUntil: Date?
    /// When the entry's window (or its lock) runs out and it leaves the state; nil in entries written before
    /// windows existed, which then last only as long as their lock.
    public var expiresAt: Date?
    /// Set when an admin locked the account (`portero users lock`): locked until an admin unlocks it; a login or
    /// a password reset does not clear it. nil (absent on disk) for locks of failed logins.
    public var byAdmin: Bool?

    public init(
        failures: Int, lastFailureAt: Date, lockedUntil: Date? = nil, expiresAt: Date? = nil, byAdmin: Bool? = nil
    ) {
        self.failures = failures
        self.lastFailureAt = lastFailureAt
        self.lockedUntil = lockedUntil
        self.expiresAt = expiresAt
        self.byAdmin = byAdmin
    }

    /// Whether the entry has run out at `now` (a lock in force never has).
    public func isExpired(at now: Date) -> Bool {
        if let lockedUntil, lockedUntil > now { return false }
        return (expiresAt ?? lockedUntil ?? lastFailureAt) <= now
    }
}

/// A message in the outbox: waiting for delivery, being retried, or finished. The only place a plain one-time code
/// exists, and only while it is pending.
///
/// Delivery is at-least-once: `id` is the `Message-ID` (and a webhook's `Idempotency-Key`), so a receiver can drop
/// the copy a crash between sending and recording may repeat.
public struct OutboxMail: Sendable, Codable, Equatable {
    /// How a finished message ended.
    public enum Outcome: String, Sendable, Codable, Equatable {
        case delivered, dead
    }

    public var id: UUID
    public var to: String
    public var subject: String
    public var text: String
    /// The `text/html` alternative of ``text``, when the kind's template has one; absent on disk otherwise.
    public var html: String?
    /// `verify_email`, `reset_password`, or another kind of notice; the outbox treats every kind alike.
    public var kind: String
    public var code: String?
    public var userID: UUID?
    public var queuedAt: Date
    /// When sending stops being useful (the code's expiry); nil: the outbox's own limit from `queuedAt`.
    public var expiresAt: Date?
    /// Failed delivery attempts so far.
    public var attempts: Int
    /// Not sent again before this time (the back-off after a failed attempt).
    public var nextAttemptAt: Date?
    /// Why the last attempt failed: a transport's error line, which never holds the body or the code.
    public var lastError: String?
    /// Set once delivered or given up; the code (and a body that carries one) is then dropped, and the entry leaves
    /// the state at the next snapshot.
    public var outcome: Outcome?
    /// When an admin last queued it again (`portero mail retry`); mail without a code is retried for the outbox's
    /// lifetime from then instead of from `queuedAt`.
    public var retriedAt: Date?

    public init(
        id: UUID, to: String, subject: String, text: String, kind: String, code: String? = nil, userID: UUID? = nil,
        queuedAt: Date, expiresAt: Date? = nil
    ) {
        self.id = id
        self.to = to
        self.subject = subject
        self.text = text
        self.html = nil
        self.kind = kind
        self.code = code
        self.userID = userID
        self.queuedAt = queuedAt
        self.expiresAt = expiresAt
        self.attempts = 0
        self.nextAttemptAt = nil
        self.lastError = nil
        self.outcome = nil
        self.retriedAt = nil
    }

    /// Whether the outbox still has to send it.
    public var isPending: Bool { outcome == nil }

    enum CodingKeys: String, CodingKey {
        case id, to, subject, text, html, kind, code, userID, queuedAt, expiresAt, attempts, nextAttemptAt, lastError,
            outcome
        case retriedAt
    }

    /// Older records have only the first eight fields; the rest default to a fresh message.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(UUID.self, forKey: .id)
        to = try container.decode(String.self, forKey: .to)
        subject = try container.decode(String.self, forKey: .subject)
        text = try container.decode(String.self, forKey: .text)
        html = try container.decodeIfPresent(String.self, forKey: .html)
        kind = try container.decode(String.self, forKey: .kind)
        code = try container.decodeIfPresent(String.self, forKey: .code)
        userID = try container.decodeIfPresent(UUID.self, forKey: .userID)
        queuedAt = try container.decode(Date.self, forKey: .queuedAt)
        expiresAt = try container.decodeIfPresent(Date.self, forKey: .expiresAt)
        attempts = try container.decodeIfPresent(Int.self, forKey: .attempts) ?? 0
        nextAttemptAt = try container.decodeIfPresent(Date.self, forKey: .nextAttemptAt)
        lastError = try container.decodeIfPresent(String.self, forKey: .lastError)
        outcome = try container.decodeIfPresent(Outcome.self, forKey: .outcome)
        retriedAt = try container.decodeIfPresent(Date.self, forKey: .retriedAt)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(to, forKey: .to)
        try container.encode(subject, forKey: .subject)
        try container.encode(text, forKey: .text)
        try container.encodeIfPresent(html, forKey: .html)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(code, forKey: .code)
        try container.encodeIfPresent(userID, forKey: .userID)
        try container.encode(queuedAt, forKey: .queuedAt)
        try container.encodeIfPresent(expiresAt, forKey: .expiresAt)
        if attempts > 0 { try container.encode(attempts, forKey: .attempts) }
        try container.encodeIfPresent(nextAttemptAt, forKey: .nextAttemptAt)
        try container.encodeIfPresent(lastError, forKey: .lastError)
        try container.encodeIfPresent(outcome, forKey: .outcome)
        try container.encodeIfPresent(retriedAt, forKey: .retriedAt)
    }
}
