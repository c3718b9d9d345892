import Foundation
import Hummingbird
import Logging
import PorteroCore
import PorteroStore

extension AuthController {
    /// POST /login → 200 with tokens; 401 `invalid_credentials` for an unknown email or a wrong password alike
    /// (same body, same work: a dummy verify against a fixed hash), 403 only after a right password, 423 while
    /// locked (no password is checked then).
    func login(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try await JSONBody.parse(request)
        let email = body.email()
        let password = body.string("password", required: true)
        try body.finish()
        guard let email, let password else { throw PorteroError.validation([:]) }
        let ip = clientAddress(context)
        let now = services.now()
        let state = await services.store.state
        if let until = state.lockouts[email.key]?.lockedUntil, until > now {
            throw Self.locked(until: until)
        }
        let user = state.user(emailKey: email.key)
        let hasher = services.hasher
        let normalized = PasswordPolicy.normalize(password)
        let matched = try await services.hashing {
            guard let user else { return hasher.verifyDummy(normalized) }
            return hasher.verify(normalized, against: user.passwordHash)
        }
        guard let user, matched else {
            try await recordFailure(email: email, userID: user?.id, ip: ip, now: now)
            throw PorteroError(.invalidCredentials, "The email or password is wrong.")
        }
        guard user.emailVerified else {
            throw PorteroError(
                .accountNotVerified,
                "Verify your email address before logging in.",
                extra: .needsVerification
            )
        }
        let rehashed: String? =
            hasher.needsRehash(user.passwordHash) ? try? await services.hashing { try hasher.hash(normalized) } : nil
        let agent = userAgent(request)
        let (session, refreshToken) = services.newSession(for: user, ip: ip, userAgent: agent, now: now)
        let current = try await services.write { transaction -> User in
            guard let current = transaction.state.user(id: user.id) else {
                throw PorteroError(.invalidCredentials, "The email or password is wrong.")
            }
            transaction.append(.userLoggedIn(.init(userID: user.id, at: now, ip: ip)))
            if let rehashed, current.passwordHash == user.passwordHash {
                transaction.append(
                    .userPasswordChanged(.init(userID: user.id, at: now, passwordHash: rehashed, revokeTokens: false))
                )
            }
            transaction.append(.sessionCreated(session))
            return transaction.state.user(id: user.id) ?? current
        }
        logger.info(
            "login succeeded",
            metadata: services.identity(userID: user.id, emailKey: user.emailKey).merging(
                ["event": "login.succeeded", "remote_addr": .string(ip)]
            ) { $1 }
        )
        if rehashed != nil {
            logger.info("password rehashed", metadata: ["event": "password.rehashed", "user_id": .string(user.id.uuidString.lowercased())])
        }
        let response = try await services.tokenResponse(
            user: current,
            sessionID: session.id,
            refreshToken: refreshToken,
            now: now,
            message: "Logged in.",
            includeUser: true
        )
        return try JSONResponse.make(response)
    }

    static func locked(until: Date) -> PorteroError {
        PorteroError(
            .accountLocked,
            "Too many failed logins; try again later or reset your password.",
            extra: .lockedUntil(until)
        )
    }

    /// Counts a failed login for the email (known or not) and locks it at `lockout.max_failures`.
    func recordFailure(email: Email, userID: UUID?, ip: String, now: Date) async throws {
        let settings = services.settings
        guard settings.lockoutMaxFailures > 0 else {
            logFailure(email: email, userID: userID, ip: ip, lockedUntil: nil)
            return
        }
        let lockedUntil = try await services.write { transaction -> Date? in
            let previous = transaction.state.lockouts[email.key]
            var failures = (previous?.failures ?? 0) + 1
            if let until = previous?.lockedUntil, until <= now { failures = 1 }
            let lockedUntil =
                failures >= settings.lockoutMaxFailures
                ? now.addingTimeInterval(TimeInterval(settings.lockoutDuration.seconds)) : nil
            transaction.append(
                .loginFailed(.init(emailKey: email.key, at: now, failures: failures, lockedUntil: lockedUntil))
            )
            return lockedUntil
        }
        logFailure(email: email, userID: userID, ip: ip, lockedUntil: lockedUntil)
    }

    private func logFailure(email: Email, userID: UUID?, ip: String, lockedUntil: Date?) {
        let identity = services.identity(userID: userID, emailKey: email.key)
        logger.notice(
            "login failed",
            metadata: identity.merging(["event": "login.failed", "remote_addr": .string(ip)]) { $1 }
        )
        if let lockedUntil {
            logger.warning(
                "account locked",
                metadata: identity.merging([
                    "event": "account.locked", "remote_addr": .string(ip),
                    "locked_until": .string(APITime.format(lockedUntil)),
                ]) { $1 }
            )
        }
    }
}
