public import Foundation

/// Everything Portero knows, rebuilt from the snapshot and the log. A value type: `apply(_:seq:at:)` is the only
/// place it changes, and it only ever holds what is durable (or, inside a write transaction, what is staged).
public struct AuthState: StoreStateProtocol, Equatable {
    public typealias Record = AuthRecord

    public private(set) var users: [UUID: User] = [:]
    /// ``User/emailKey`` → user id (derived, not stored in snapshots).
    public private(set) var userIDsByEmail: [String: UUID] = [:]
    /// ``OneTimeCode/key(userID:purpose:)`` → the live code.
    public private(set) var codes: [String: OneTimeCode] = [:]
    public private(set) var sessions: [UUID: RefreshSession] = [:]
    /// Current refresh-token digest → session id (derived).
    public private(set) var sessionIDsByToken: [String: UUID] = [:]
    /// Rotated-away refresh-token digests, kept until their session would have expired.
    public private(set) var spentTokens: [String: SpentRefreshToken] = [:]
    /// Revoked access-token ids → the token's `exp`.
    public private(set) var revokedTokenIDs: [String: Date] = [:]
    /// Email key → failed-login bookkeeping.
    public private(set) var lockouts: [String: LockoutEntry] = [:]
    /// Pending mail, and finished mail (without body or code) until the next snapshot.
    public private(set) var outbox: [UUID: OutboxMail] = [:]

    public init() {}

    /// A state from all its parts, derived indexes included (the snapshot reader builds them).
    init(
        users: [UUID: User], userIDsByEmail: [String: UUID], codes: [String: OneTimeCode],
        sessions: [UUID: RefreshSession], sessionIDsByToken: [String: UUID], spentTokens: [String: SpentRefreshToken],
        revokedTokenIDs: [String: Date], lockouts: [String: LockoutEntry], outbox: [UUID: OutboxMail]
    ) {
        self.users = users
        self.userIDsByEmail = userIDsByEmail
        self.codes = codes
        self.sessions = sessions
        self.sessionIDsByToken = sessionIDsByToken
        self.spentTokens = spentTokens
        self.revokedTokenIDs = revokedTokenIDs
        self.lockouts = lockouts
        self.outbox = outbox
    }

    // MARK: Queries

    public func user(id: UUID) -> User? { users[id] }

    public func user(emailKey: String) -> User? { userIDsByEmail[emailKey].flatMap { users[$0] } }

    public func code(userID: UUID, purpose: CodePurpose) -> OneTimeCode? {
        codes[OneTimeCode.key(userID: userID, purpose: purpose)]
    }

    public func session(tokenDigest: String) -> RefreshSession? {
        sessionIDsByToken[tokenDigest].flatMap { sessions[$0] }
    }

    public func sessions(userID: UUID) -> [RefreshSession] {
        sessions.values.filter { $0.userID == userID }.sorted { $0.createdAt < $1.createdAt }
    }

    // MARK: Apply

    public mutating func apply(_ record: Record, seq: UInt64, at: Date) {
        switch record {
        case .userRegistered(let user):
            users[user.id] = user
            userIDsByEmail[user.emailKey] = user.id
        case .userVerified(let change):
            users[change.userID]?.emailVerified = true
            users[change.userID]?.unverifiedUntil = nil
            users[change.userID]?.updatedAt = change.at
        case .userUpdated(let change):
            guard var user = users[change.userID] else { return }
            if let name = change.name { user.name = name.isEmpty ? nil : name }
            if let phone = change.phone { user.phone = phone.isEmpty ? nil : phone }
            if let roles = change.roles { user.roles = roles }
            if let verified = change.emailVerified {
                user.emailVerified = verified
                if verified { user.unverifiedUntil = nil }
            }
            user.updatedAt = change.at
            users[change.userID] = user
        case .userPasswordChanged(let change):
            users[change.userID]?.passwordHash = change.passwordHash
            users[change.userID]?.passwordImported = change.imported == true ? true : nil
            if change.revokeTokens {
                users[change.userID]?.tokensValidAfter = change.at
                users[change.userID]?.updatedAt = change.at
                removeSessions { $0.userID == change.userID }
            }
        case .userLoggedIn(let change):
            users[change.userID]?.lastLoginAt = change.at
            users[change.userID]?.lastLoginIP = change.ip
            if let key = users[change.userID]?.emailKey, lockouts[key]?.byAdmin != true { lockouts[key] = nil }
        case .userTokensRevoked(let change):
            users[change.userID]?.tokensValidAfter = change.at
            removeSessions { $0.userID == change.userID }
        case .userDeleted(let change):
            if let user = users.removeValue(forKey: change.userID) {
                userIDsByEmail[user.emailKey] = nil
            }
            removeSessions { $0.userID == change.userID }
            for purpose in CodePurpose.allCases {
                codes[OneTimeCode.key(userID: change.userID, purpose: purpose)] = nil
            }
        case .codeIssued(let code):
            codes[OneTimeCode.key(userID: code.userID, purpose: code.purpose)] = code
        case .codeFailed(let change):
            let key = OneTimeCode.key(userID: change.userID, purpose: change.purpose)
            codes[key]?.failedAttempts += 1
            if let code = codes[key], code.failedAttempts >= change.maxAttempts { codes[key] = nil }
        case .codeConsumed(let change):
            codes[OneTimeCode.key(userID: change.userID, purpose: change.purpose)] = nil
        case .sessionCreated(let session):
            sessions[session.id] = session
            sessionIDsByToken[session.tokenDigest] = session.id
        case .sessionRotated(let change):
            guard var session = sessions[change.sessionID] else { return }
            sessionIDsByToken[session.tokenDigest] = nil
            spentTokens[session.tokenDigest] = SpentRefreshToken(
                sessionID: session.id,
                userID: session.userID,
                expiresAt: change.expiresAt
            )
            session.tokenDigest = change.newTokenDigest
            session.lastUsedAt = change.at
            session.expiresAt = change.expiresAt
            sessions[session.id] = session
            sessionIDsByToken[change.newTokenDigest] = session.id
        case .sessionRevoked(let change):
            removeSessions { $0.id == change.sessionID }
        case .tokenRevoked(let change):
            revokedTokenIDs[change.jti] = change.expiresAt
        case .loginFailed(let change):
            var entry = lockouts[change.emailKey] ?? LockoutEntry(failures: 0, lastFailureAt: change.at)
            entry.failures = change.failures
            entry.lastFailureAt = change.at
            entry.lockedUntil = change.lockedUntil
            entry.expiresAt = change.expiresAt
            lockouts[change.emailKey] = entry
        case .lockoutCleared(let change):
            // An admin's lock ends only by an admin's unlock (or the account's deletion), never by a reset.
            if lockouts[change.emailKey]?.byAdmin == true, change.byAdmin != true { return }
            lockouts[change.emailKey] = nil
        case .userLocked(let change):
            lockouts[change.emailKey] = LockoutEntry(
                failures: 0, lastFailureAt: change.at, lockedUntil: .distantFuture, expiresAt: .distantFuture,
                byAdmin: true)
        case .adminAction:
            break
        case .mailQueued(let mail):
            outbox[mail.id] = mail
        case .mailAttempted(let change):
            guard outbox[change.id]?.isPending == true else { return }
            outbox[change.id]?.attempts = change.attempts
            outbox[change.id]?.nextAttemptAt = change.nextAttemptAt
            outbox[change.id]?.lastError = change.error
        case .mailDone(let change):
            guard var mail = outbox[change.id], mail.isPending else { return }
            // The code and the text that carries it go at once; the rest stays for `mail list` until the snapshot.
            // A dead notice without a code keeps its text, so that `mail retry` can send it.
            mail.outcome = change.delivered ? .delivered : .dead
            if change.delivered || mail.code != nil {
                mail.text = ""
                mail.html = nil
            }
            mail.code = nil
            mail.nextAttemptAt = nil
            outbox[change.id] = mail
        case .mailRetried(let change):
            guard var mail = outbox[change.id], mail.outcome != .delivered else { return }
            mail.outcome = nil
            mail.nextAttemptAt = nil
            mail.retriedAt = change.at
            outbox[change.id] = mail
        }
    }

    /// Drops the sessions matching `predicate`; their tokens stay known as spent until they would have expired,
    /// so a revoked token is recognised rather than looking unknown.
    private mutating func removeSessions(where predicate: (RefreshSession) -> Bool) {
        for session in sessions.values where predicate(session) {
            sessions[session.id] = nil
            sessionIDsByToken[session.tokenDigest] = nil
        }
    }

    // MARK: Compaction

    public func compacted(now: Date) -> AuthState {
        var state = self
        for user in users.values where user.isExpiredUnverified(at: now) {
            state.users[user.id] = nil
            state.userIDsByEmail[user.emailKey] = nil
            for purpose in CodePurpose.allCases {
                state.codes[OneTimeCode.key(userID: user.id, purpose: purpose)] = nil
            }
            for session in sessions.values where session.userID == user.id {
                state.sessions[session.id] = nil
                state.sessionIDsByToken[session.tokenDigest] = nil
            }
        }
        state.codes = state.codes.filter { $0.value.expiresAt > now }
        for session in sessions.values where session.expiresAt <= now {
            state.sessions[session.id] = nil
            state.sessionIDsByToken[session.tokenDigest] = nil
        }
        state.spentTokens = spentTokens.filter { $0.value.expiresAt > now }
        state.revokedTokenIDs = revokedTokenIDs.filter { $0.value > now }
        state.outbox = outbox.filter { $0.value.isPending }
        // An entry in plain whose account is gone (or that was written before unknown addresses were hashed)
        // leaves too: only accounts' addresses are kept in plain (SPEC §4).
        state.lockouts = lockouts.filter { key, entry in
            !entry.isExpired(at: now)
                && (key.hasPrefix(Lockout.hashedKeyPrefix) || state.userIDsByEmail[key] != nil)
        }
        return state
    }

    // MARK: Codable (derived indexes are rebuilt, not stored)

    enum CodingKeys: String, CodingKey {
        case users, codes, sessions, spentTokens = "spent_tokens", revokedTokenIDs = "revoked_token_ids", lockouts,
            outbox
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let users = try container.decode([User].self, forKey: .users)
        for user in users {
            self.users[user.id] = user
            self.userIDsByEmail[user.emailKey] = user.id
        }
        self.codes = try container.decode([String: OneTimeCode].self, forKey: .codes)
        for session in try container.decode([RefreshSession].self, forKey: .sessions) {
            self.sessions[session.id] = session
            self.sessionIDsByToken[session.tokenDigest] = session.id
        }
        self.spentTokens = try container.decode([String: SpentRefreshToken].self, forKey: .spentTokens)
        self.revokedTokenIDs = try container.decode([String: Date].self, forKey: .revokedTokenIDs)
        self.lockouts = try container.decode([String: LockoutEntry].self, forKey: .lockouts)
        // Two mails with one id are damage (a snapshot never holds them): refused, where
        // `Dictionary(uniqueKeysWithValues:)` would trap.
        for mail in try container.decode([OutboxMail].self, forKey: .outbox) {
            guard self.outbox.updateValue(mail, forKey: mail.id) == nil else {
                throw DecodingError.dataCorruptedError(
                    forKey: .outbox, in: container, debugDescription: "two mails with one id")
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(users.values.sorted { $0.createdAt < $1.createdAt }, forKey: .users)
        try container.encode(codes, forKey: .codes)
        try container.encode(sessions.values.sorted { $0.createdAt < $1.createdAt }, forKey: .sessions)
        try container.encode(spentTokens, forKey: .spentTokens)
        try container.encode(revokedTokenIDs, forKey: .revokedTokenIDs)
        try container.encode(lockouts, forKey: .lockouts)
        try container.encode(outbox.values.sorted { $0.queuedAt < $1.queuedAt }, forKey: .outbox)
    }
}
