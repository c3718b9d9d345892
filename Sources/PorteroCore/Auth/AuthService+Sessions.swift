public import Foundation
import Logging

/// A request whose access token checked out: signature, claims, not revoked, session alive.
public struct Authenticated: Sendable {
    public var claims: AccessClaims
    public var userID: UUID
    /// nil when the user was deleted after the token was issued.
    public var user: User?
    public var sessionID: UUID?

    /// The token's `exp` as a date: how long its revocation must be kept.
    var expiresAt: Date { Date(timeIntervalSince1970: TimeInterval(claims.exp)) }
}

extension AuthService {
    /// Checks an access token: 401 `missing_token` (nil), `invalid_token`, `token_expired`, `token_revoked`.
    public func authenticate(accessToken token: String?) async throws -> Authenticated {
        guard let token else {
            throw PorteroError(.missingToken, "An access token is required (Authorization: Bearer …).")
        }
        let claims = try await tokens().verifyAccessToken(token, now: clock.now())
        guard let userID = UUID(parsing: claims.sub) else { throw TokenService.invalid }
        let user = try currentUser(of: claims, userID: userID)
        return Authenticated(
            claims: claims, userID: userID, user: user, sessionID: claims.sid.flatMap { UUID(parsing: $0) })
    }

    /// The user of a checked access token as the store holds it now (nil when deleted), or 401 `token_revoked`;
    /// read off the store's actor.
    func currentUser(of claims: AccessClaims, userID: UUID) throws(PorteroError) -> User? {
        let outcome = store.withCurrentState { state -> Result<User?, PorteroError> in
            do throws(PorteroError) {
                try Self.checkRevocation(claims: claims, userID: userID, state: state)
            } catch {
                return .failure(error)
            }
            return .success(state.user(id: userID))
        }
        return try outcome.get()
    }

    /// Revoked when its `jti` was logged out, its session is gone, or it predates the user's tokens-valid-after.
    static func checkRevocation(claims: AccessClaims, userID: UUID, state: AuthState) throws(PorteroError) {
        let revoked = PorteroError(.tokenRevoked, "The access token has been revoked.")
        if state.revokedTokenIDs[claims.jti] != nil { throw revoked }
        if let sid = claims.sid {
            guard let sessionID = UUID(parsing: sid), let session = state.sessions[sessionID],
                session.userID == userID
            else { throw revoked }
        }
        if let user = state.user(id: userID), let validAfter = user.tokensValidAfter,
            claims.iat < Int(validAfter.timeIntervalSince1970.rounded(.down))
        {
            throw revoked
        }
    }

    /// Rotates a refresh token: the presented one is spent and a new one issued, the session's lifetime slides
    /// (`refresh_ttl`), never past `session.max_age` after its login.
    /// A spent token coming back revokes its whole session (family) and answers 401 `refresh_token_reused`; an
    /// unknown or expired one is 401 `invalid_token`.
    public func refresh(refreshToken token: String, caller: Caller) async throws -> SignedIn {
        let digest = Secrets.sha256Hex(token)
        let now = clock.now()
        let service = self
        let outcome = try await write(caller.logger) { transaction -> RefreshOutcome in
            if let session = transaction.state.session(tokenDigest: digest) {
                guard session.expiresAt > now, let user = transaction.state.user(id: session.userID) else {
                    transaction.append(.sessionRevoked(.init(sessionID: session.id, reason: "expired")))
                    return .unknown
                }
                let newToken = Secrets.makeRefreshToken()
                transaction.append(
                    .sessionRotated(
                        .init(
                            sessionID: session.id, newTokenDigest: Secrets.sha256Hex(newToken), at: now,
                            expiresAt: service.sessionExpiry(loggedInAt: session.createdAt, now: now))))
                return .rotated(user, session.id, newToken)
            }
            if let spent = transaction.state.spentTokens[digest] {
                if transaction.state.sessions[spent.sessionID] != nil {
                    transaction.append(.sessionRevoked(.init(sessionID: spent.sessionID, reason: "reuse")))
                }
                return .reused(spent.userID, spent.sessionID)
            }
            return .unknown
        }
        switch outcome {
        case .rotated(let user, let sessionID, let newToken):
            return try await signIn(user: user, sessionID: sessionID, refreshToken: newToken, now: now)
        case .reused(let userID, let sessionID):
            event(
                caller.logger, .warning, "refresh token reused; session revoked", event: "token.revoked",
                userID: userID, remote: caller.address,
                ["reason": "refresh_token_reused", "session_id": .string(sessionID.uuidString.lowercased())])
            throw PorteroError(
                .refreshTokenReused,
                "This refresh token was already used; its session has been revoked. Log in again.")
        case .unknown:
            throw PorteroError(.invalidToken, "The refresh token is invalid or expired.")
        }
    }

    /// Revokes this access token and its session, and the session of `refreshToken` if it is the same user's.
    public func logout(_ auth: Authenticated, refreshToken: String?, caller: Caller) async throws {
        try await write(caller.logger) { transaction in
            transaction.append(
                .tokenRevoked(.init(jti: auth.claims.jti, userID: auth.userID, expiresAt: auth.expiresAt)))
            var sessions: Set<UUID> = []
            if let sessionID = auth.sessionID { sessions.insert(sessionID) }
            if let refreshToken, let session = transaction.state.session(tokenDigest: Secrets.sha256Hex(refreshToken)),
                session.userID == auth.userID
            {
                sessions.insert(session.id)
            }
            for id in sessions where transaction.state.sessions[id] != nil {
                transaction.append(.sessionRevoked(.init(sessionID: id, reason: "logout")))
            }
        }
        event(
            caller.logger, .info, "logged out", event: "token.revoked", userID: auth.userID, remote: caller.address,
            ["reason": "logout"])
    }

    /// Revokes every session and access token of the user.
    public func logoutAll(_ auth: Authenticated, caller: Caller) async throws {
        let now = clock.now()
        try await write(caller.logger) { transaction in
            transaction.append(.userTokensRevoked(.init(userID: auth.userID, at: now)))
            transaction.append(
                .tokenRevoked(.init(jti: auth.claims.jti, userID: auth.userID, expiresAt: auth.expiresAt)))
        }
        event(
            caller.logger, .info, "logged out everywhere", event: "token.revoked", userID: auth.userID,
            remote: caller.address, ["reason": "logout_all"])
    }

    /// The user's live refresh sessions, oldest first.
    public func sessions(_ auth: Authenticated) async -> [RefreshSession] {
        await store.state.sessions(userID: auth.userID)
    }

    /// Revokes one of the user's sessions; 404 `session_not_found` when the user has no such session.
    public func revokeSession(_ auth: Authenticated, id: UUID?, caller: Caller) async throws {
        let notFound = PorteroError(.sessionNotFound, "No such session.")
        guard let id else { throw notFound }
        try await write(caller.logger) { transaction in
            guard let session = transaction.state.sessions[id], session.userID == auth.userID else { throw notFound }
            transaction.append(.sessionRevoked(.init(sessionID: id, reason: "user")))
        }
        event(
            caller.logger, .info, "session revoked", event: "token.revoked", userID: auth.userID,
            ["reason": "session_deleted", "session_id": .string(id.uuidString.lowercased())])
    }
}

/// What a refresh transaction decided.
private enum RefreshOutcome: Sendable {
    case rotated(User, UUID, String)
    case reused(UUID, UUID)
    case unknown
}
