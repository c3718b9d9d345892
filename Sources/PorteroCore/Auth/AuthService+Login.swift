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
    public func login(email: Email, password: String, caller: Caller, budget: inout RateBudget) async throws -> SignedIn
    {
        try await spendAddress(&budget, caller)
        let now = clock.now()
        // Reserve before reading the failure count (see LoginAttemptGate).
        var ticket = lockout.isEnabled ? await loginGate.reserve(email.key) : nil
        let state = await store.state
        let entry = state.lockouts[email.key]
        if let until = lockout.lockedUntil(entry, now: now) {
            if let ticket { await loginGate.release(ticket, failed: false) }
            throw Lockout.locked(until: until)
        }
        if let reserved = ticket {
            let admitted = await loginGate.admit(
                reserved, recordedFailures: lockout.countedFailures(entry), maximumFailures: lockout.maxFailures)
            guard admitted.admitted else {
                let until = try await recordRefusal(
                    email: email, userID: state.user(emailKey: email.key)?.id, caller: caller, now: now)
                throw Lockout.locked(until: until)
            }
            ticket = admitted
        }
        var failed = false
        do {
            let signedIn = try await checkPassword(
                email: email, password: password, state: state, caller: caller, now: now, failed: &failed)
            if let ticket { await loginGate.release(ticket, failed: false) }
            return signedIn
        } catch {
            if let ticket { await loginGate.release(ticket, failed: failed) }
            throw error
        }
    }

    /// The part of a login after the lockout gate: the password check (on the pool) and what follows.
    /// - Parameter failed: set when the attempt counted as a failed login.
    private func checkPassword(
        email: Email, password: String, state: AuthState, caller: Caller, now: Date, failed: inout Bool
    ) async throws -> SignedIn {
        let user = state.user(emailKey: email.key)
        let hasher = self.hasher
        let normalized = PasswordPolicy.normalize(password)
        let matched = try await hashing {
            guard let user else { return hasher.verifyDummy(normalized) }
            return hasher.verify(normalized, against: user.passwordHash)
        }
        guard let user, matched else {
            failed = true
            try await recordFailure(email: email, userID: user?.id, caller: caller, now: now)
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

    /// Counts a failed login for the email (known or not) and locks it at `lockout.max_failures`.
    private func recordFailure(email: Email, userID: UUID?, caller: Caller, now: Date) async throws {
        guard lockout.isEnabled else {
            logFailure(email: email, userID: userID, caller: caller, lockedUntil: nil)
            return
        }
        let lockout = self.lockout
        let lockedUntil = try await write(caller.logger) { transaction -> Date? in
            let failure = lockout.failure(
                emailKey: email.key, previous: transaction.state.lockouts[email.key], now: now)
            transaction.append(failure.record)
            return failure.lockedUntil
        }
        logFailure(email: email, userID: userID, caller: caller, lockedUntil: lockedUntil)
    }

    /// An attempt the gate refused (failures recorded and in flight already reach `lockout.max_failures`) counts as
    /// one more failure: the email is locked durably now, so the lock holds even if the daemon stops before the
    /// attempts in flight finish. Known and unknown emails take the same path. Returns the lock's end.
    private func recordRefusal(email: Email, userID: UUID?, caller: Caller, now: Date) async throws -> Date {
        let lockout = self.lockout
        let (lockedUntil, recorded) = try await write(caller.logger) { transaction -> (Date, Bool) in
            let refusal = lockout.refusal(
                emailKey: email.key, previous: transaction.state.lockouts[email.key], now: now)
            guard let record = refusal.record else { return (refusal.lockedUntil, false) }
            transaction.append(record)
            return (refusal.lockedUntil, true)
        }
        logFailure(email: email, userID: userID, caller: caller, lockedUntil: recorded ? lockedUntil : nil)
        return lockedUntil
    }

    private func logFailure(email: Email, userID: UUID?, caller: Caller, lockedUntil: Date?) {
        event(
            caller.logger, .notice, "login failed", event: "login.failed", userID: userID, emailKey: email.key,
            remote: caller.address)
        if let lockedUntil {
            event(
                caller.logger, .warning, "account locked", event: "account.locked", userID: userID,
                emailKey: email.key, remote: caller.address,
                ["locked_until": .string(UTCTimestamp.seconds(lockedUntil))])
        }
    }
}
