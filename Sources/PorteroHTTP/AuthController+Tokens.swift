import Foundation
import Hummingbird
import Logging
import PorteroCore
import PorteroStore

extension AuthController {
    /// POST /refresh → a new token response; the presented refresh token is spent. A spent token coming back
    /// revokes its whole session (family) and answers 401 `refresh_token_reused`.
    func refresh(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try await JSONBody.parse(request)
        let token = body.string("refresh_token", required: true)
        try body.finish()
        guard let token else { throw PorteroError.validation(["refresh_token": "is required"]) }
        let digest = Secrets.sha256Hex(token)
        let now = services.now()
        let ttl = TimeInterval(services.settings.refreshTTL.seconds)
        let outcome = try await services.write { transaction -> RefreshOutcome in
            if let session = transaction.state.session(tokenDigest: digest) {
                guard session.expiresAt > now, let user = transaction.state.user(id: session.userID) else {
                    transaction.append(.sessionRevoked(.init(sessionID: session.id, reason: "expired")))
                    return .unknown
                }
                let newToken = Secrets.makeRefreshToken()
                transaction.append(
                    .sessionRotated(
                        .init(
                            sessionID: session.id,
                            newTokenDigest: Secrets.sha256Hex(newToken),
                            at: now,
                            expiresAt: now.addingTimeInterval(ttl)
                        )
                    )
                )
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
            let response = try await services.tokenResponse(
                user: user,
                sessionID: sessionID,
                refreshToken: newToken,
                now: now,
                message: nil,
                includeUser: false
            )
            return try JSONResponse.make(response)
        case .reused(let userID, let sessionID):
            services.event(
                .warning, "refresh token reused; session revoked", event: "token.revoked", userID: userID,
                remote: clientAddress(context),
                ["reason": "refresh_token_reused", "session_id": .string(sessionID.uuidString.lowercased())])
            throw PorteroError(
                .refreshTokenReused,
                "This refresh token was already used; its session has been revoked. Log in again."
            )
        case .unknown:
            throw PorteroError(.invalidToken, "The refresh token is invalid or expired.")
        }
    }

    /// POST /logout → 200; this access token's `jti` and its session (and the given refresh token's) revoked.
    func logout(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try await services.authenticate(request)
        var body = try await JSONBody.parse(request)
        let refreshToken = body.string("refresh_token", required: false)
        try body.finish()
        let expiry = Date(timeIntervalSince1970: TimeInterval(auth.claims.exp))
        try await services.write { transaction in
            transaction.append(.tokenRevoked(.init(jti: auth.claims.jti, userID: auth.userID, expiresAt: expiry)))
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
        services.event(
            .info, "logged out", event: "token.revoked", userID: auth.userID, remote: clientAddress(context),
            ["reason": "logout"])
        return try JSONResponse.make(MessageResponse(message: "Logged out."))
    }

    /// POST /logout-all → 200; every session and access token of the user revoked.
    func logoutAll(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try await services.authenticate(request)
        let now = services.now()
        let expiry = Date(timeIntervalSince1970: TimeInterval(auth.claims.exp))
        try await services.write { transaction in
            transaction.append(.userTokensRevoked(.init(userID: auth.userID, at: now)))
            transaction.append(.tokenRevoked(.init(jti: auth.claims.jti, userID: auth.userID, expiresAt: expiry)))
        }
        services.event(
            .info, "logged out everywhere", event: "token.revoked", userID: auth.userID, remote: clientAddress(context),
            ["reason": "logout_all"])
        return try JSONResponse.make(MessageResponse(message: "Logged out of every session."))
    }

    /// GET /sessions → the user's refresh sessions, `current` marking this token's.
    func listSessions(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try await services.authenticate(request)
        let sessions = await services.store.state.sessions(userID: auth.userID)
        return try JSONResponse.make(
            SessionsResponse(
                sessions: sessions.map { session in
                    SessionDTO(
                        id: session.id.uuidString.lowercased(),
                        createdAt: session.createdAt,
                        lastUsedAt: session.lastUsedAt,
                        ip: session.ip,
                        userAgent: session.userAgent,
                        current: session.id == auth.sessionID
                    )
                }
            )
        )
    }

    /// DELETE /sessions/{id} → 204; 404 when the user has no such session.
    func deleteSession(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try await services.authenticate(request)
        let notFound = PorteroError(.sessionNotFound, "No such session.")
        guard let raw = context.parameters.get("id"), let id = UUID(uuidString: raw) else { throw notFound }
        try await services.write { transaction in
            guard let session = transaction.state.sessions[id], session.userID == auth.userID else { throw notFound }
            transaction.append(.sessionRevoked(.init(sessionID: id, reason: "user")))
        }
        services.event(
            .info, "session revoked", event: "token.revoked", userID: auth.userID,
            ["reason": "session_deleted", "session_id": .string(id.uuidString.lowercased())])
        return Response(status: .noContent)
    }
}

/// What a refresh transaction decided.
enum RefreshOutcome: Sendable {
    case rotated(User, UUID, String)
    case reused(UUID, UUID)
    case unknown
}
