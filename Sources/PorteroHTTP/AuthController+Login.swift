import Foundation
import Hummingbird
import Logging
import PorteroCore
import PorteroStore

extension AuthController {
    /// POST /login → 200 with tokens; 401 `invalid_credentials` for an unknown email or a wrong password alike
    /// (same body, same work: a dummy verify against a fixed hash), 403 only after a right password, 423 while
    /// locked (no password is checked then).
    ///
    /// Parallel attempts pass ``LoginAttemptGate``: recorded failures plus attempts in flight never exceed
    /// `lockout.max_failures`; an attempt beyond that is refused with 423 at once and locks the email durably.
    func login(_ request: Request, _ context: AppRequestContext, limit: inout RateLimitCheck) async throws -> Response {
        var body = try await JSONBody.parse(request)
        let email = body.email()
        let password = body.string("password", required: true)
        try body.finish()
        guard let email, let password else { throw PorteroError.validation([:]) }
        try await spendAddress(&limit, context)
        let ip = clientAddress(context)
        let now = services.now()
        let maximumFailures = services.settings.lockoutMaxFailures
        let gate = services.loginGate
        // Reserve before reading the failure count (see LoginAttemptGate).
        var ticket = maximumFailures > 0 ? await gate.reserve(email.key) : nil
        let state = await services.store.state
        let lockout = state.lockouts[email.key]
        if let until = lockout?.lockedUntil, until > now {
            if let ticket { await gate.release(ticket, failed: false) }
            throw Self.locked(until: until)
        }
        if let reserved = ticket {
            // After an expired lock the count starts again.
            let recorded = lockout.map { $0.lockedUntil == nil ? $0.failures : 0 } ?? 0
            let admitted = await gate.admit(reserved, recordedFailures: recorded, maximumFailures: maximumFailures)
            guard admitted.admitted else {
                let userID = state.user(emailKey: email.key)?.id
                let until = try await recordRefusal(email: email, userID: userID, ip: ip, now: now)
                throw Self.locked(until: until)
            }
            ticket = admitted
        }
        var failed = false
        do {
            let response = try await checkPasswordAndLogIn(
                request, email: email, password: password, state: state, ip: ip, now: now, failed: &failed
            )
            if let ticket { await gate.release(ticket, failed: false) }
            return response
        } catch {
            if let ticket { await gate.release(ticket, failed: failed) }
            throw error
        }
    }

    /// The part of a login after the lockout gate: the password check (on the pool) and what follows.
    /// - Parameter failed: set when the attempt counted as a failed login.
    private func checkPasswordAndLogIn(
        _ request: Request,
        email: Email,
        password: String,
        state: StoreState,
        ip: String,
        now: Date,
        failed: inout Bool
    ) async throws -> Response {
        let user = state.user(emailKey: email.key)
        let hasher = services.hasher
        let normalized = PasswordPolicy.normalize(password)
        let matched = try await services.hashing {
            guard let user else { return hasher.verifyDummy(normalized) }
            return hasher.verify(normalized, against: user.passwordHash)
        }
        guard let user, matched else {
            failed = true
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
        services.event(
            .info, "login succeeded", event: "login.succeeded", userID: user.id, emailKey: user.emailKey, remote: ip)
        if rehashed != nil {
            services.event(.info, "password rehashed", event: "password.rehashed", userID: user.id)
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
            // An attempt admitted before a parallel one locked the email keeps that lock as it is.
            let activeLock = previous?.lockedUntil.flatMap { $0 > now ? $0 : nil }
            let lockedUntil =
                activeLock
                ?? (failures >= settings.lockoutMaxFailures
                    ? now.addingTimeInterval(TimeInterval(settings.lockoutDuration.seconds)) : nil)
            transaction.append(
                .loginFailed(.init(emailKey: email.key, at: now, failures: failures, lockedUntil: lockedUntil))
            )
            return lockedUntil
        }
        logFailure(email: email, userID: userID, ip: ip, lockedUntil: lockedUntil)
    }

    /// An attempt the gate refused (failures recorded and in flight already reach `lockout.max_failures`) counts as
    /// one more failure: the email is locked durably now, so the lock holds even if the daemon stops before the
    /// attempts in flight finish. Known and unknown emails take the same path. Returns the lock's end.
    func recordRefusal(email: Email, userID: UUID?, ip: String, now: Date) async throws -> Date {
        let settings = services.settings
        let (lockedUntil, recorded) = try await services.write { transaction -> (Date, Bool) in
            let previous = transaction.state.lockouts[email.key]
            if let until = previous?.lockedUntil, until > now { return (until, false) }
            let counted = previous.map { $0.lockedUntil == nil ? $0.failures : 0 } ?? 0
            let lockedUntil = now.addingTimeInterval(TimeInterval(settings.lockoutDuration.seconds))
            transaction.append(
                .loginFailed(
                    .init(
                        emailKey: email.key,
                        at: now,
                        failures: max(counted + 1, settings.lockoutMaxFailures),
                        lockedUntil: lockedUntil
                    )
                )
            )
            return (lockedUntil, true)
        }
        logFailure(email: email, userID: userID, ip: ip, lockedUntil: recorded ? lockedUntil : nil)
        return lockedUntil
    }

    private func logFailure(email: Email, userID: UUID?, ip: String, lockedUntil: Date?) {
        services.event(.notice, "login failed", event: "login.failed", userID: userID, emailKey: email.key, remote: ip)
        if let lockedUntil {
            services.event(
                .warning, "account locked", event: "account.locked", userID: userID, emailKey: email.key, remote: ip,
                ["locked_until": .string(APITime.format(lockedUntil))]
            )
        }
    }
}
