public import Foundation
import Logging

/// A browser signed in with the `portero_session` cookie: the user and the store session the cookie is bound to.
public struct CookieSession: Sendable {
    public var user: User
    public var sessionID: UUID
    public var expiresAt: Date
}

extension AuthService {
    /// The key of cookie values and CSRF tokens: derived from the code key (its own purpose, so a cookie MAC can never
    /// stand in for a code digest), so no new key file and no store-format change.
    var cookieKey: [UInt8] {
        Array(Secrets.hmacHex(key: codes.key, "portero_session cookie key v1").utf8)
    }

    /// The `portero_session` value of a store session: `<session id>.<HMAC-SHA256(cookie key, session id)>`. Opaque
    /// to the browser and never a JWT; it is good exactly as long as the session is alive in the store, so logout,
    /// logout-all, a password change or reset and revoking the session end it at once.
    public func sessionCookie(for sessionID: UUID) -> String {
        let id = sessionID.uuidString.lowercased()
        return id + "." + Secrets.hmacHex(key: cookieKey, "portero_session:" + id)
    }

    /// The CSRF token of the sign-out form of a session.
    public func csrfToken(for sessionID: UUID) -> String {
        Secrets.hmacHex(key: cookieKey, "csrf:" + sessionID.uuidString.lowercased())
    }

    /// Whether `token` is the CSRF token of `sessionID` (constant time).
    public func checkCSRF(_ token: String?, sessionID: UUID) -> Bool {
        guard let token else { return false }
        return Secrets.constantTimeEquals(token, csrfToken(for: sessionID))
    }

    /// Checks a `portero_session` cookie: 401 `missing_token` (nil), `invalid_token` (not one of ours),
    /// `token_revoked` (its session or its user is gone), `token_expired` (its session ran out). Reads memory only.
    public func authenticate(sessionCookie value: String?) async throws -> CookieSession {
        guard let value else {
            throw PorteroError(.missingToken, "A session cookie or an access token is required.")
        }
        let invalid = PorteroError(.invalidToken, "The session cookie is invalid.")
        let parts = value.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard value.utf8.count == 101, parts.count == 2, let sessionID = UUID(parsing: parts[0]),
            Secrets.constantTimeEquals(value, sessionCookie(for: sessionID))
        else { throw invalid }
        let found = store.withCurrentState { state -> (RefreshSession, User)? in
            guard let session = state.sessions[sessionID], let user = state.user(id: session.userID) else {
                return nil
            }
            return (session, user)
        }
        guard let (session, user) = found else {
            throw PorteroError(.tokenRevoked, "The session has ended; sign in again.")
        }
        guard session.expiresAt > clock.now() else {
            throw PorteroError(.tokenExpired, "The session has expired; sign in again.")
        }
        return CookieSession(user: user, sessionID: sessionID, expiresAt: session.expiresAt)
    }

    /// Ends the cookie's session (`POST /signout`).
    public func signOut(_ session: CookieSession, caller: Caller) async throws {
        try await write(caller.logger) { transaction in
            if transaction.state.sessions[session.sessionID] != nil {
                transaction.append(.sessionRevoked(.init(sessionID: session.sessionID, reason: "logout")))
            }
        }
        event(
            caller.logger, .info, "signed out", event: "token.revoked", userID: session.user.id,
            remote: caller.address, ["reason": "signout"])
    }

    /// The forward-auth check of a browser (`GET /verify` with `portero_session`): the cookie's session must be alive
    /// (401 otherwise); with `requiredRole`, a user without that role is 403 `insufficient_role`.
    public func forwardAuth(sessionCookie value: String, requiredRole: String?) async throws -> ForwardedIdentity {
        try await measured(.verify) {
            let session = try await authenticate(sessionCookie: value)
            return try Self.identity(of: session.user, requiredRole: requiredRole)
        }
    }
}
