public import Foundation
import Logging

extension AuthService {
    /// The signed-in user; 404 `user_not_found` when the account was deleted.
    public func profile(_ auth: Authenticated) throws -> User {
        guard let user = auth.user else { throw PorteroError(.userNotFound, "The account no longer exists.") }
        return user
    }

    /// `GET /profile`: the user of a Bearer access token (401 `missing_token`, `invalid_token`, `token_expired`,
    /// `token_revoked`; 404 `user_not_found`), counted as a token check.
    public func profile(accessToken token: String?) async throws -> User {
        try await measured(.profile) { try profile(try await authenticate(accessToken: token)) }
    }

    /// Sets the profile fields given (an empty string clears one); returns the user.
    public func updateProfile(_ auth: Authenticated, _ fields: ProfileFields, caller: Caller) async throws -> User {
        let now = clock.now()
        return try await write(caller.logger) { transaction -> User in
            guard let user = transaction.state.user(id: auth.userID) else {
                throw PorteroError(.userNotFound, "The account no longer exists.")
            }
            guard !fields.isEmpty else { return user }
            transaction.append(.userUpdated(.init(userID: user.id, at: now, name: fields.name, phone: fields.phone)))
            return transaction.state.user(id: user.id) ?? user
        }
    }

    /// Changes the password after checking the current one: every session and access token is revoked, a new
    /// session is signed in, and a notice is mailed. 401 `invalid_credentials` for a wrong current password.
    ///
    /// Proving the current password is a login by another door, so it takes the login's rules: a wrong one counts
    /// as a failed login of the account's address (`login.failed`, reason `password_change`) towards the lockout,
    /// a locked address answers 423 without a hash, attempts in flight per address are bounded by the lockout, and
    /// the budget (`rate.login`) is counted per user, so a stolen access token buys neither unlimited guesses nor
    /// the hashing pool.
    public func changePassword(
        _ auth: Authenticated, current: String, new password: NewPassword, caller: Caller, budget: inout RateBudget
    ) async throws -> SignedIn {
        guard let user = auth.user else { throw PorteroError(.invalidToken, "The access token is invalid.") }
        try await budget.spend(
            user.id.uuidString.lowercased(), logger: caller.logger,
            metadata: Self.identity(userID: user.id, emailKey: user.emailKey).merging(
                ["remote_addr": .string(caller.address)]) { $1 })
        let now = clock.now()
        let hasher = self.hasher
        let normalized = PasswordPolicy.normalize(current)
        try await passwordAttempt(emailKey: user.emailKey, caller: caller, now: now, reason: "password_change") {
            _, failed in
            let hash = store.withCurrentState { $0.user(id: user.id)?.passwordHash } ?? user.passwordHash
            guard try await hashing({ hasher.verify(normalized, against: hash) }) else {
                failed = true
                try await recordFailure(
                    emailKey: user.emailKey, userID: user.id, caller: caller, now: now, reason: "password_change")
                throw PorteroError(.invalidCredentials, "The current password is wrong.")
            }
        }
        let hash = try await hashing { try hasher.hash(password.normalized) }
        let (session, refreshToken) = newSession(for: user, caller: caller, now: now)
        let notice = self.notices
        let updated = try await write(caller.logger) { transaction -> User in
            guard let stored = transaction.state.user(id: user.id) else {
                throw PorteroError(.userNotFound, "The account no longer exists.")
            }
            transaction.append(
                .userPasswordChanged(.init(userID: user.id, at: now, passwordHash: hash, revokeTokens: true)))
            transaction.append(.tokenRevoked(.init(jti: auth.claims.jti, userID: user.id, expiresAt: auth.expiresAt)))
            if transaction.state.lockouts[stored.emailKey] != nil {
                transaction.append(.lockoutCleared(.init(emailKey: stored.emailKey)))
            }
            transaction.append(.sessionCreated(session))
            transaction.append(notice.passwordChanged(to: stored, now: now))
            return transaction.state.user(id: user.id) ?? user
        }
        mailQueued()
        event(
            caller.logger, .info, "password changed", event: "password.changed", userID: user.id,
            emailKey: user.emailKey, remote: caller.address)
        return try await signIn(user: updated, sessionID: session.id, refreshToken: refreshToken, now: now)
    }
}
