import Foundation
import Hummingbird
import Logging
import PorteroCore
import PorteroStore

extension AuthController {
    /// GET /profile → `{user}`.
    func profile(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try await services.authenticate(request)
        guard let user = auth.user else { throw PorteroError(.userNotFound, "The account no longer exists.") }
        return try JSONResponse.make(UserResponse(user: UserDTO(user)))
    }

    /// PATCH /profile `{name?, phone?}` → `{user}`; an empty string clears a field.
    func updateProfile(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try await services.authenticate(request)
        var body = try await JSONBody.parse(request)
        let (name, phone) = Self.readProfileFields(&body)
        try body.finish()
        let now = services.now()
        let user = try await services.write { transaction -> User in
            guard let user = transaction.state.user(id: auth.userID) else {
                throw PorteroError(.userNotFound, "The account no longer exists.")
            }
            guard name != nil || phone != nil else { return user }
            transaction.append(.userUpdated(.init(userID: user.id, at: now, name: name, phone: phone)))
            return transaction.state.user(id: user.id) ?? user
        }
        return try JSONResponse.make(UserResponse(user: UserDTO(user)))
    }

    /// POST /password/change → 200 with new tokens; every other session and access token revoked.
    func changePassword(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let auth = try await services.authenticate(request)
        var body = try await JSONBody.parse(request)
        let current = body.string("current_password", required: true)
        let newPassword = validatePassword(
            body.string("new_password", required: true), field: "new_password", body: &body)
        try body.finish()
        guard let current, let newPassword, let user = auth.user else {
            throw PorteroError(.invalidToken, "The access token is invalid.")
        }
        let hasher = services.hasher
        let normalized = PasswordPolicy.normalize(current)
        let matched = try await services.hashing { hasher.verify(normalized, against: user.passwordHash) }
        guard matched else {
            throw PorteroError(.invalidCredentials, "The current password is wrong.")
        }
        let hash = try await services.hashing { try hasher.hash(newPassword) }
        let now = services.now()
        let ip = clientAddress(context)
        let (session, refreshToken) = services.newSession(for: user, ip: ip, userAgent: userAgent(request), now: now)
        let expiry = Date(timeIntervalSince1970: TimeInterval(auth.claims.exp))
        let updated = try await services.write { transaction -> User in
            guard transaction.state.user(id: user.id) != nil else {
                throw PorteroError(.userNotFound, "The account no longer exists.")
            }
            transaction.append(
                .userPasswordChanged(.init(userID: user.id, at: now, passwordHash: hash, revokeTokens: true))
            )
            transaction.append(.tokenRevoked(.init(jti: auth.claims.jti, userID: user.id, expiresAt: expiry)))
            transaction.append(.sessionCreated(session))
            return transaction.state.user(id: user.id) ?? user
        }
        services.event(
            .info, "password changed", event: "password.changed", userID: user.id, emailKey: user.emailKey, remote: ip)
        let response = try await services.tokenResponse(
            user: updated,
            sessionID: session.id,
            refreshToken: refreshToken,
            now: now,
            message: "Password changed; other sessions were logged out.",
            includeUser: false
        )
        return try JSONResponse.make(response)
    }

    /// POST /password/forgot → 202 always (no enumeration); a reset code is mailed if the account exists.
    func forgotPassword(_ request: Request, _ context: AppRequestContext, limit: inout RateLimitCheck) async throws
        -> Response
    {
        var body = try await JSONBody.parse(request)
        let email = body.email()
        try body.finish()
        guard let email else { throw PorteroError.validation(["email": "is required"]) }
        try await spend(&limit, emailKey: email.key, context)
        if let queue = services.resetQueue {
            if !queue.enqueue(email) {
                services.event(.warning, "password reset queue full; request dropped", event: "password.reset_dropped")
            }
        } else {
            try await PasswordResetService(queue: PasswordResetQueue(capacity: 1), services: services).issue(for: email)
        }
        services.event(
            .info, "password reset requested", event: "password.reset_requested", emailKey: email.key,
            remote: clientAddress(context))
        return try JSONResponse.make(
            status: .accepted,
            MessageResponse(message: "If an account exists for this address, a reset code is on its way.")
        )
    }

    /// POST /password/reset `{email, code, new_password}` → 200; all sessions revoked, lockout cleared.
    /// An unknown email answers like a wrong code.
    func resetPassword(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try await JSONBody.parse(request)
        let email = body.email()
        let code = body.code()
        let newPassword = validatePassword(
            body.string("new_password", required: true), field: "new_password", body: &body)
        try body.finish()
        guard let email, let code, let newPassword else { throw PorteroError.validation([:]) }
        let wrongCode = PorteroError(.invalidCode, "The code is wrong or has expired.")
        let now = services.now()
        let state = await services.store.state
        guard let user = state.user(emailKey: email.key) else { throw wrongCode }
        // Check first without spending the code, so a wrong code costs no password hash.
        let precheck = services.checkCode(code, user: user, purpose: .resetPassword, state: state, now: now)
        guard precheck.matched else {
            try await services.write { transaction in
                let check = services.checkCode(
                    code, user: user, purpose: .resetPassword, state: transaction.state, now: now)
                for record in check.records where !check.matched { transaction.append(record) }
            }
            services.event(
                .notice, "wrong reset code", event: "password.reset_failed", userID: user.id, emailKey: user.emailKey,
                remote: clientAddress(context))
            throw wrongCode
        }
        let hasher = services.hasher
        let hash = try await services.hashing { try hasher.hash(newPassword) }
        try await services.write { transaction in
            let check = services.checkCode(
                code, user: user, purpose: .resetPassword, state: transaction.state, now: now)
            guard check.matched, transaction.state.user(id: user.id) != nil else { throw wrongCode }
            for record in check.records { transaction.append(record) }
            transaction.append(
                .userPasswordChanged(.init(userID: user.id, at: now, passwordHash: hash, revokeTokens: true))
            )
            transaction.append(.lockoutCleared(.init(emailKey: user.emailKey)))
        }
        services.event(
            .info, "password reset", event: "password.reset", userID: user.id, emailKey: user.emailKey,
            remote: clientAddress(context))
        return try JSONResponse.make(MessageResponse(message: "Password reset; log in with the new password."))
    }
}
