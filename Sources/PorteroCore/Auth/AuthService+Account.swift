public import Foundation
import Logging

extension AuthService {
    /// The signed-in user; 404 `user_not_found` when the account was deleted.
    public func profile(_ auth: Authenticated) throws -> User {
        guard let user = auth.user else { throw PorteroError(.userNotFound, "The account no longer exists.") }
        return user
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

    /// Changes the password after checking the current one: every session and access token is revoked, and a new
    /// session is signed in. 401 `invalid_credentials` for a wrong current password.
    public func changePassword(
        _ auth: Authenticated, current: String, new password: NewPassword, caller: Caller
    ) async throws -> SignedIn {
        guard let user = auth.user else { throw PorteroError(.invalidToken, "The access token is invalid.") }
        let hasher = self.hasher
        let normalized = PasswordPolicy.normalize(current)
        let matched = try await hashing { hasher.verify(normalized, against: user.passwordHash) }
        guard matched else { throw PorteroError(.invalidCredentials, "The current password is wrong.") }
        let hash = try await hashing { try hasher.hash(password.normalized) }
        let now = clock.now()
        let (session, refreshToken) = newSession(for: user, caller: caller, now: now)
        let updated = try await write(caller.logger) { transaction -> User in
            guard transaction.state.user(id: user.id) != nil else {
                throw PorteroError(.userNotFound, "The account no longer exists.")
            }
            transaction.append(
                .userPasswordChanged(.init(userID: user.id, at: now, passwordHash: hash, revokeTokens: true)))
            transaction.append(.tokenRevoked(.init(jti: auth.claims.jti, userID: user.id, expiresAt: auth.expiresAt)))
            transaction.append(.sessionCreated(session))
            return transaction.state.user(id: user.id) ?? user
        }
        event(
            caller.logger, .info, "password changed", event: "password.changed", userID: user.id,
            emailKey: user.emailKey, remote: caller.address)
        return try await signIn(user: updated, sessionID: session.id, refreshToken: refreshToken, now: now)
    }
}
