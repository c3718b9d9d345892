import PorteroFormat
public import Foundation
import Logging

extension AuthService {
    /// Signs a user in with email and password.
    ///
    /// An unknown email and a wrong password answer alike — 401 `invalid_credentials`, the same work (a dummy
    /// verify against a fixed hash) and a counted failure — and 403 `account_not_verified` comes only after a right
    /// password. While the email is locked no password is checked (423). A hash from an older algorithm or
    /// parameters is replaced on success.
    ///
    /// Parallel attempts pass ``LoginAttemptGate``: recorded failures plus attempts in flight never exceed
    /// `lockout.max_failures`; an attempt beyond that is refused with 423 at once and locks the email durably.
    ///
    /// Every outcome is counted in `portero_logins_total` (see ``AuthMetrics/login(_:)``).
    public func login(email: Email, password: String, caller: Caller, budget: inout RateBudget) async throws -> SignedIn
    {
        do {
            let signedIn = try await attemptLogin(email: email, password: password, caller: caller, budget: &budget)
            AuthMetrics.login("success")
            return signedIn
        } catch {
            AuthMetrics.login(AuthMetrics.outcome(of: error))
            throw error
        }
    }

    /// The login itself: the client address's budget, then one password attempt under the lockout.
    private func attemptLogin(email: Email, password: String, caller: Caller, budget: inout RateBudget) async throws
        -> SignedIn
    {
        try await spendAddress(&budget, caller)
        let now = clock.now()
        return try await passwordAttempt(emailKey: email.key, caller: caller, now: now, reason: "login") {
            account, failed in
            try await checkPassword(
                email: email, password: password, account: account, caller: caller, now: now, failed: &failed)
        }
    }

    /// Runs one attempt to prove a password for `emailKey` (a login or a password change) under the lockout:
    /// 423 while the address is locked (no password checked), and ``LoginAttemptGate`` so that recorded failures
    /// plus attempts in flight never exceed `lockout.max_failures` — which also bounds how much of the hashing pool
    /// one address can hold.
    /// - Parameters:
    ///   - reason: what the attempt was, logged with a refusal (`login`, `password_change`).
    ///   - attempt: checks the password against the state read after the gate; sets `failed` when it recorded a
    ///     failure.
    func passwordAttempt<T: Sendable>(
        emailKey: String, caller: Caller, now: Date, reason: String,
        _ attempt: (User?, inout Bool) async throws -> T
    ) async throws -> T {
        // Reserve before reading the failure count (see LoginAttemptGate).
        var ticket = lockout.isEnabled ? await loginGate.reserve(emailKey) : nil
        // Only what the attempt needs, not a copy of the state: a copy alive during the password hash would make
        // every durable record meanwhile copy every table of the state.
        let lockout = self.lockout
        let (entry, account) = store.withCurrentState { state in
            (state.lockouts[lockout.stateKey(emailKey, in: state)], state.user(emailKey: emailKey))
        }
        if let until = lockout.lockedUntil(entry, now: now) {
            if let ticket { await loginGate.release(ticket, failed: false) }
            throw Lockout.locked(until: until)
        }
        if let reserved = ticket {
            let admitted = await loginGate.admit(
                reserved, recordedFailures: lockout.countedFailures(entry, now: now),
                maximumFailures: lockout.maxFailures)
            guard admitted.admitted else {
                let until = try await recordRefusal(
                    emailKey: emailKey, userID: account?.id, caller: caller, now: now,
                    reason: reason)
                throw Lockout.locked(until: until)
            }
            ticket = admitted
        }
        var failed = false
        do {
            let result = try await attempt(account, &failed)
            if let ticket { await loginGate.release(ticket, failed: false) }
            return result
        } catch {
            if let ticket { await loginGate.release(ticket, failed: failed) }
            throw error
        }
    }

    /// The part of a login after the lockout gate: the password check (on the pool) and what follows.
    /// - Parameter failed: set when the attempt counted as a failed login.
    private func checkPassword(
        email: Email, password: String, account: User?, caller: Caller, now: Date, failed: inout Bool
    ) async throws -> SignedIn {
        // An account past `registration.unverified_ttl` is gone, whether or not a snapshot has dropped it yet.
        let user = account.flatMap { $0.isExpiredUnverified(at: now) ? nil : $0 }
        let hasher = self.hasher
        let normalized = PasswordPolicy.normalize(password)
        let matched = try await hashing {
            guard let user else { return hasher.verifyDummy(normalized) }
            return hasher.verify(normalized, against: user.passwordHash)
        }
        guard let user, matched else {
            failed = true
            try await recordFailure(
                emailKey: email.key, userID: user?.id, caller: caller, now: now,
                reason: user == nil ? "unknown_email" : "wrong_password")
            throw PorteroError(.invalidCredentials, "The email or password is wrong.")
        }
        guard user.emailVerified else {
            throw PorteroError(
                .accountNotVerified, "Verify your email address before logging in.", extra: .needsVerification)
        }
        let rehashed: String? =
            hasher.needsRehash(user.passwordHash) ? try? await hashing { try hasher.hash(normalized) } : nil
        let (session, refreshToken) = newSession(for: user, caller: caller, now: now)
        let current = try await write(caller.logger) { transaction -> User in
            guard let current = transaction.state.user(id: user.id) else {
                throw PorteroError(.invalidCredentials, "The email or password is wrong.")
            }
            transaction.append(.userLoggedIn(.init(userID: user.id, at: now, ip: caller.address)))
            if let rehashed, current.passwordHash == user.passwordHash {
                transaction.append(
                    .userPasswordChanged(.init(userID: user.id, at: now, passwordHash: rehashed, revokeTokens: false)))
            }
            transaction.append(.sessionCreated(session))
            return transaction.state.user(id: user.id) ?? current
        }
        event(
            caller.logger, .info, "login succeeded", event: "login.succeeded", userID: user.id,
            emailKey: user.emailKey, remote: caller.address)
        if rehashed != nil {
            event(caller.logger, .info, "password rehashed", event: "password.rehashed", userID: user.id)
        }
        return try await signIn(user: current, sessionID: session.id, refreshToken: refreshToken, now: now)
    }

    /// The lockout entry of an address now, wherever the state keeps it (``Lockout/stateKey(_:in:)``).
    public func lockoutEntry(emailKey: String) async -> LockoutEntry? {
        let lockout = self.lockout
        return store.withCurrentState { state in state.lockouts[lockout.stateKey(emailKey, in: state)] }
    }

    /// Counts a failed login for the email (known or not) and locks it at `lockout.max_failures`.
    /// - Parameter reason: logged with the event (`wrong_password`, `unknown_email`, `password_change`).
    func recordFailure(emailKey: String, userID: UUID?, caller: Caller, now: Date, reason: String) async throws {
        guard lockout.isEnabled else {
            logFailure(emailKey: emailKey, userID: userID, caller: caller, lockedUntil: nil, reason: reason)
            return
        }
        let lockout = self.lockout
        let lockedUntil = try await write(caller.logger) { transaction -> Date? in
            let key = lockout.stateKey(emailKey, in: transaction.state)
            let failure = lockout.failure(emailKey: key, previous: transaction.state.lockouts[key], now: now)
            transaction.append(failure.record)
            return failure.lockedUntil
        }
        logFailure(emailKey: emailKey, userID: userID, caller: caller, lockedUntil: lockedUntil, reason: reason)
    }

    /// An attempt the gate refused (failures recorded and in flight already reach `lockout.max_failures`) counts as
    /// one more failure: the email is locked durably now, so the lock holds even if the daemon stops before the
    /// attempts in flight finish. Known and unknown emails take the same path. Returns the lock's end.
    private func recordRefusal(emailKey: String, userID: UUID?, caller: Caller, now: Date, reason: String)
        async throws -> Date
    {
        let lockout = self.lockout
        let (lockedUntil, recorded) = try await write(caller.logger) { transaction -> (Date, Bool) in
            let key = lockout.stateKey(emailKey, in: transaction.state)
            let refusal = lockout.refusal(emailKey: key, previous: transaction.state.lockouts[key], now: now)
            guard let record = refusal.record else { return (refusal.lockedUntil, false) }
            transaction.append(record)
            return (refusal.lockedUntil, true)
        }
        logFailure(
            emailKey: emailKey, userID: userID, caller: caller, lockedUntil: recorded ? lockedUntil : nil,
            reason: reason)
        return lockedUntil
    }

    private func logFailure(emailKey: String, userID: UUID?, caller: Caller, lockedUntil: Date?, reason: String) {
        event(
            caller.logger, .notice, "login failed", event: "login.failed", userID: userID, emailKey: emailKey,
            remote: caller.address, ["reason": .string(reason)])
        if let lockedUntil {
            event(
                caller.logger, .warning, "account locked", event: "account.locked", userID: userID,
                emailKey: emailKey, remote: caller.address,
                ["locked_until": .string(UTCTimestamp.seconds(lockedUntil))])
        }
    }
}
