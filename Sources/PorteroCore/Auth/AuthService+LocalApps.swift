public import Foundation

/// What introspection tells about an active access token (RFC 7662 §2.2).
public struct ActiveToken: Sendable, Equatable {
    public var claims: AccessClaims
    /// RFC 7662's `scope`: the user's roles as the token carries them, space-separated.
    public var scope: String { claims.roles.joined(separator: " ") }
}

/// Who a forward-auth check let through: the user as the store knows them now.
public struct ForwardedIdentity: Sendable, Equatable {
    public var userID: UUID
    public var email: String
    public var roles: [String]
}

extension AuthService {
    /// RFC 7662 introspection of an access token: its claims when it is active, nil for everything else (expired,
    /// revoked by logout, logout-all, password change or reset or session revocation, its user deleted, forged,
    /// another kind of token, garbage) — the caller learns nothing about why.
    ///
    /// - Important: Answered from memory: no store write and no password hashing, so a local app may ask on every
    ///   request.
    public func introspect(token: String) async -> ActiveToken? {
        let active = await activeToken(token)
        AuthMetrics.tokenCheck(.introspect, active == nil ? "inactive" : "active")
        return active
    }

    private func activeToken(_ token: String) async -> ActiveToken? {
        guard let claims = try? await tokens().verifyAccessToken(token, now: clock.now()),
            let userID = UUID(parsing: claims.sub)
        else { return nil }
        // `try?` flattens: nil when revoked and when the user is gone.
        guard (try? currentUser(of: claims, userID: userID)) != nil else { return nil }
        return ActiveToken(claims: claims)
    }

    /// The forward-auth check of a reverse proxy (`GET /verify`): the access token must pass ``authenticate(accessToken:)``
    /// and its user must still exist (401 `token_revoked` otherwise); with `requiredRole`, a user without that role
    /// is 403 `insufficient_role`. The identity is the store's now, so a role taken away counts at once.
    public func forwardAuth(accessToken token: String?, requiredRole: String?) async throws -> ForwardedIdentity {
        try await measured(.verify) {
            let authenticated = try await authenticate(accessToken: token)
            guard let user = authenticated.user else {
                throw PorteroError(.tokenRevoked, "The access token has been revoked.")
            }
            return try Self.identity(of: user, requiredRole: requiredRole)
        }
    }

    /// The identity a proxy hands on; 403 `insufficient_role` when `requiredRole` is not one of the user's.
    static func identity(of user: User, requiredRole: String?) throws(PorteroError) -> ForwardedIdentity {
        if let requiredRole, !user.roles.contains(requiredRole) {
            throw PorteroError(.insufficientRole, "This account lacks the role this resource requires.")
        }
        return ForwardedIdentity(userID: user.id, email: user.email, roles: user.roles)
    }
}
