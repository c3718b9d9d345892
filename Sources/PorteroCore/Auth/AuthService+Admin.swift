import Foundation
import Logging

/// The admin actions that need what only the auth use cases hold — the password hasher and policy, one-time codes
/// and mail: `portero users create` and `portero users reset-password`. Audited like every admin action.
extension AuthService {
    /// Creates an account with a password (already checked by `newPassword(_:)`, the registration policy), hashed
    /// on the pool — or, with no password, an invitation: an unverified account no password opens, and a mail
    /// (kind `invitation`) with a reset code that lives `registration.unverified_ttl`; `/password/reset` with it
    /// sets the password and verifies the address. 409 `user_exists` when the address has a live account, verified
    /// or not. An account created unverified does not expire (`registration.unverified_ttl` is for sign-ups); its
    /// owner verifies with a code from `/resend-verification`. Roles default to `["user"]`.
    public func createUser(
        email: Email, password: NewPassword?, profile: ProfileFields, verified: Bool, roles: [String]?,
        peer: AdminPeer
    ) async throws -> AdminUser {
        let roles = try roles.map { roles throws(PorteroError) in try AdminService.validRoles(roles) } ?? ["user"]
        let exists = PorteroError(.userExists, "An account with this email already exists.")
        let now = clock.now()
        if let existing = await store.state.user(emailKey: email.key), !existing.isExpiredUnverified(at: now) {
            throw exists
        }
        let hasher = self.hasher
        let hash: String
        if let password {
            hash = try await hashing { try hasher.hash(password.normalized) }
        } else {
            hash = PasswordHasher.noPassword
        }
        let invite = password == nil
        let (codes, mail, invitationLifetime) = (self.codes, self.mail, configuration.unverifiedTTL)
        let view = try await write(peer.logger) { transaction -> AdminUser in
            if let existing = transaction.state.user(emailKey: email.key) {
                guard existing.isExpiredUnverified(at: now) else { throw exists }
                transaction.append(.userDeleted(.init(userID: existing.id, at: now)))
            }
            var user = User(
                id: UUID(), email: email, name: profile.nameForNewUser, phone: profile.phoneForNewUser,
                passwordHash: hash, roles: roles, createdAt: now)
            user.emailVerified = verified && !invite
            transaction.append(.userRegistered(user))
            if invite {
                let records = codes.issue(
                    for: user, purpose: .resetPassword, now: now, mail: mail, kind: .invitation,
                    lifetime: invitationLifetime)
                for record in records { transaction.append(record) }
            }
            transaction.append(
                .adminAction(AdminService.audit(invite ? "user_invited" : "user_created", user.id, nil, peer, now)))
            return AdminService.view(user, state: transaction.state, now: now)
        }
        if invite {
            mailQueued()
            AdminService.event(peer, "user_invited", "user invited by an admin", userID: view.user.id)
        } else {
            AdminService.event(peer, "user_created", "user created by an admin", userID: view.user.id)
        }
        return view
    }

    /// Mails the user a password-reset code, as `/password/forgot` does for a known address (the previous reset
    /// code dies); the current password keeps working until the code is used. 404 `user_not_found`.
    public func startPasswordReset(_ reference: UserReference, peer: AdminPeer) async throws -> AdminUser {
        let now = clock.now()
        let (codes, mail) = (self.codes, self.mail)
        let view = try await write(peer.logger) { transaction -> AdminUser in
            let user = try AdminService.find(reference, in: transaction.state, now: now)
            for record in codes.issue(for: user, purpose: .resetPassword, now: now, mail: mail) {
                transaction.append(record)
            }
            transaction.append(.adminAction(AdminService.audit("password_reset_started", user.id, nil, peer, now)))
            return AdminService.view(user, state: transaction.state, now: now)
        }
        mailQueued()
        AdminService.event(
            peer, "password_reset_started", "password reset started by an admin", userID: view.user.id)
        return view
    }
}
