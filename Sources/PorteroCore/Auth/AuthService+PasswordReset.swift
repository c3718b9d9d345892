public import Foundation
import Logging

extension AuthService {
    /// Starts a password reset: always the same answer and the same time, known address or not (no enumeration).
    /// The code is issued by the ``PasswordResetWorker`` (issuing is a durable write; an unknown address has
    /// nothing to write), or inline when the service has no queue.
    /// Counted per email (`rate.forgot`) and per client address (`rate.verify`).
    public func forgotPassword(_ email: Email, caller: Caller, budget: inout RateBudget) async throws {
        try await spendClientAddress(.forgot, caller)
        try await spendEmail(&budget, emailKey: email.key, caller)
        if let resets {
            if !resets.enqueue(email) {
                event(
                    caller.logger, .warning, "password reset queue full; request dropped",
                    event: "password.reset_dropped")
            }
        } else {
            try await issueResetCode(for: email)
        }
        event(
            caller.logger, .info, "password reset requested", event: "password.reset_requested", emailKey: email.key,
            remote: caller.address)
    }

    /// A reset code and its mail for `email`, if it has an account.
    func issueResetCode(for email: Email) async throws {
        let now = clock.now()
        let (codes, mail) = (self.codes, self.mail)
        let user = try await write(logger) { transaction -> User? in
            guard let user = transaction.state.user(emailKey: email.key) else { return nil }
            for record in codes.issue(for: user, purpose: .resetPassword, now: now, mail: mail) {
                transaction.append(record)
            }
            return user
        }
        if user != nil { mailQueued() }
    }

    /// Sets a new password with a reset code: every session is revoked, the lockout cleared and a notice mailed. The
    /// code came by mail, so an unverified address is verified too (how an invitation is accepted).
    /// An unknown email answers like a wrong code (400 `invalid_code`); a wrong code costs no password hash. The
    /// budget (`rate.verify`) counts per client address, before the email is looked at.
    public func resetPassword(
        email: Email, code: String, new password: NewPassword, caller: Caller, budget: inout RateBudget
    ) async throws {
        try await spendAddress(&budget, caller)
        let now = clock.now()
        let codes = self.codes
        // Check first without spending the code, so a wrong code costs no password hash.
        let (account, matched) = store.withCurrentState { state -> (User?, Bool) in
            guard let user = state.user(emailKey: email.key) else { return (nil, false) }
            return (user, codes.check(code, user: user, purpose: .resetPassword, state: state, now: now).matched)
        }
        guard let user = account else { throw Self.wrongCode }
        guard matched else {
            try await write(caller.logger) { transaction in
                let check = codes.check(code, user: user, purpose: .resetPassword, state: transaction.state, now: now)
                for record in check.records where !check.matched { transaction.append(record) }
            }
            event(
                caller.logger, .notice, "wrong reset code", event: "password.reset_failed", userID: user.id,
                emailKey: user.emailKey, remote: caller.address)
            throw Self.wrongCode
        }
        let hasher = self.hasher
        let hash = try await hashing { try hasher.hash(password.normalized) }
        let notices = self.notices
        try await write(caller.logger) { transaction in
            let check = codes.check(code, user: user, purpose: .resetPassword, state: transaction.state, now: now)
            guard check.matched, transaction.state.user(id: user.id) != nil else { throw Self.wrongCode }
            for record in check.records { transaction.append(record) }
            transaction.append(
                .userPasswordChanged(.init(userID: user.id, at: now, passwordHash: hash, revokeTokens: true)))
            transaction.append(.lockoutCleared(.init(emailKey: user.emailKey)))
            if transaction.state.user(id: user.id)?.emailVerified == false {
                transaction.append(.userVerified(.init(userID: user.id, at: now)))
            }
            transaction.append(notices.passwordChanged(to: user, now: now))
        }
        mailQueued()
        event(
            caller.logger, .info, "password reset", event: "password.reset", userID: user.id, emailKey: user.emailKey,
            remote: caller.address)
    }
}
