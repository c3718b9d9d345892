import Foundation
import Hummingbird
import PorteroCore
import PorteroStore

/// A request whose Bearer access token checked out: signature, claims, not revoked, session alive.
struct Authenticated: Sendable {
    var claims: AccessClaims
    var userID: UUID
    /// nil when the user was deleted after the token was issued.
    var user: User?
    var sessionID: UUID?
}

extension AuthServices {
    /// The token of `Authorization: Bearer <token>`; nil when none was sent.
    static func bearerToken(_ request: Request) throws(PorteroError) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = String(parts[1])
        guard !token.isEmpty, !token.contains(" ") else { throw TokenService.invalid }
        return token
    }

    /// Checks the Bearer access token: 401 `missing_token`, `invalid_token`, `token_expired`, `token_revoked`.
    func authenticate(_ request: Request) async throws -> Authenticated {
        guard let token = try Self.bearerToken(request) else {
            throw PorteroError(.missingToken, "An access token is required (Authorization: Bearer …).")
        }
        let now = self.now()
        let claims = try await tokens().verifyAccessToken(token, now: now)
        guard let userID = UUID(uuidString: claims.sub) else { throw TokenService.invalid }
        let state = await store.state
        try Self.checkRevocation(claims: claims, userID: userID, state: state)
        return Authenticated(
            claims: claims,
            userID: userID,
            user: state.user(id: userID),
            sessionID: claims.sid.flatMap(UUID.init(uuidString:))
        )
    }

    /// Revoked when its `jti` was logged out, its session is gone, or it predates the user's tokens-valid-after.
    static func checkRevocation(claims: AccessClaims, userID: UUID, state: StoreState) throws(PorteroError) {
        let revoked = PorteroError(.tokenRevoked, "The access token has been revoked.")
        if state.revokedTokenIDs[claims.jti] != nil { throw revoked }
        if let sid = claims.sid {
            guard let sessionID = UUID(uuidString: sid), let session = state.sessions[sessionID],
                session.userID == userID
            else { throw revoked }
        }
        if let user = state.user(id: userID), let validAfter = user.tokensValidAfter,
            claims.iat < Int(validAfter.timeIntervalSince1970.rounded(.down))
        {
            throw revoked
        }
    }
}
