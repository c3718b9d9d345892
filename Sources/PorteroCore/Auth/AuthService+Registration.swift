public import Foundation
import Logging

/// Who a verification request is about: the subject of a verification token, or a typed address.
public enum VerificationSubject: Sendable {
    case token(String)
    case email(Email)
}

/// What registering gave: the new account and a verification token for it.
public struct Registered: Sendable {
    public var user: User
    public var verificationToken: String
}

extension AuthService {
    /// Registers an account and mails it a 6-digit code. 409 `user_exists` only when a verified account holds the
    /// address.
    ///
    /// An address whose account is still unverified is registered over (account pre-hijacking, SPEC §3): the
    /// pending account is deleted with its codes and its verification tokens' subject, and a new one takes the new
    /// password and profile, so whoever registered first without reading the mail keeps nothing. The answer is the
    /// same 201 as for a new address. An unverified account is gone after `registration.unverified_ttl`.
    ///
    /// - Parameters:
    ///   - locale: the language the account's mail is written in, when the request named one.
    ///   - accepted: the browser's `Accept-Language` tags, best first: without `locale`, the first the mail
    ///     templates speak (else the first) becomes the account's language.
    public func register(
        email: Email,
        password: NewPassword,
        profile: ProfileFields,
        locale: LanguageTag? = nil,
        accepted: [LanguageTag] = [],
        caller: Caller,
        budget: inout RateBudget
    ) async throws -> Registered {
        try await spendAddress(&budget, caller)
        let exists = PorteroError(.userExists, "An account with this email already exists.")
        if let existing = await store.state.user(emailKey: email.key), existing.emailVerified { throw exists }
        let hasher = self.hasher
        let hash = try await hashing { try hasher.hash(password.normalized) }
        let now = clock.now()
        let (codes, mail) = (self.codes, self.mail)
        let unverifiedUntil = now.addingTimeInterval(TimeInterval(configuration.unverifiedTTL.seconds))
        let language = mail.language(requested: locale, accepted: accepted)
        let (user, replaced) = try await write(caller.logger) { transaction -> (User, UUID?) in
            var replaced: UUID?
            if let pending = transaction.state.user(emailKey: email.key) {
                guard !pending.emailVerified else { throw exists }
                transaction.append(.userDeleted(.init(userID: pending.id, at: now)))
                replaced = pending.id
            }
            var user = User(
                id: UUID(), email: email, name: profile.nameForNewUser, phone: profile.phoneForNewUser,
                passwordHash: hash, createdAt: now)
            user.unverifiedUntil = unverifiedUntil
            user.locale = language?.value
            transaction.append(.userRegistered(user))
            for record in codes.issue(for: user, purpose: .verifyEmail, now: now, mail: mail) {
                transaction.append(record)
            }
            return (user, replaced)
        }
        mailQueued()
        if let replaced {
            event(
                caller.logger, .notice, "unverified registration started over", event: "registration.restarted",
                userID: user.id, emailKey: user.emailKey, remote: caller.address,
                ["replaced_user_id": .string(replaced.uuidString.lowercased())])
        } else {
            event(
                caller.logger, .info, "user registered", event: "user.registered", userID: user.id,
                emailKey: user.emailKey, remote: caller.address)
        }
        let token = try await tokens().issueVerificationToken(userID: user.id, email: user.email, now: now)
        return Registered(user: user, verificationToken: token)
    }

    /// Verifies the address with its code and signs the user in. 400 `invalid_code` for a wrong or expired code
    /// (each wrong try counts; the code dies at the last), 409 `already_verified`, 404 `user_not_found`, 423 while
    /// an admin has locked the account.
    public func verifyEmail(
        _ subject: VerificationSubject,
        code: String,
        caller: Caller,
        budget: inout RateBudget
    ) async throws -> SignedIn {
        var spent = budget
        defer { budget = spent }
        let account = try await resolve(subject) { _ in try await spendAddress(&spent, caller) }
        let now = clock.now()
        let codes = self.codes
        let service = self
        let outcome = try await write(caller.logger) { transaction -> VerifyOutcome in
            let user = try Self.unverifiedUser(account.id, in: transaction.state, now: now)
            // An admin's lock holds here too: verifying signs in, which a locked account may not.
            if let entry = transaction.state.lockouts[user.emailKey], entry.byAdmin == true,
                let until = entry.lockedUntil, until > now
            {
                throw Lockout.locked(until: until)
            }
            let check = codes.check(code, user: user, purpose: .verifyEmail, state: transaction.state, now: now)
            for record in check.records { transaction.append(record) }
            guard check.matched else { return .wrongCode }
            transaction.append(.userVerified(.init(userID: user.id, at: now)))
            transaction.append(.userLoggedIn(.init(userID: user.id, at: now, ip: caller.address)))
            let verified = transaction.state.user(id: user.id) ?? user
            let (session, refreshToken) = service.newSession(for: verified, caller: caller, now: now)
            transaction.append(.sessionCreated(session))
            return .verified(verified, session.id, refreshToken)
        }
        switch outcome {
        case .wrongCode:
            event(
                caller.logger, .notice, "wrong verification code", event: "verification.failed", userID: account.id,
                emailKey: account.emailKey, remote: caller.address)
            throw Self.wrongCode
        case .verified(let user, let sessionID, let refreshToken):
            event(
                caller.logger, .info, "email verified", event: "user.verified", userID: user.id,
                emailKey: user.emailKey, remote: caller.address)
            return try await signIn(user: user, sessionID: sessionID, refreshToken: refreshToken, now: now)
        }
    }

    /// Mails a new verification code; the previous one dies. Returns the account. Counted per email
    /// (`rate.resend`) and per client address (`rate.verify`).
    public func resendVerification(
        _ subject: VerificationSubject,
        caller: Caller,
        budget: inout RateBudget
    ) async throws -> User {
        try await spendClientAddress(.resend, caller)
        var spent = budget
        defer { budget = spent }
        let account = try await resolve(subject) { emailKey in
            try await spendEmail(&spent, emailKey: emailKey, caller)
        }
        let now = clock.now()
        let (codes, mail) = (self.codes, self.mail)
        let user = try await write(caller.logger) { transaction -> User in
            let user = try Self.unverifiedUser(account.id, in: transaction.state, now: now)
            for record in codes.issue(for: user, purpose: .verifyEmail, now: now, mail: mail) {
                transaction.append(record)
            }
            return user
        }
        mailQueued()
        event(
            caller.logger, .info, "verification code resent", event: "verification.resent", userID: user.id,
            emailKey: user.emailKey, remote: caller.address)
        return user
    }

    /// Whether the account of `email` is verified. 404 `user_not_found` (SPEC: this route may tell). The budget
    /// (`rate.verify`) counts per client address, so the route cannot be used to sweep a list of addresses.
    public func verificationStatus(_ email: Email, caller: Caller, budget: inout RateBudget) async throws -> User {
        try await spendAddress(&budget, caller)
        guard let user = await store.state.user(emailKey: email.key), !user.isExpiredUnverified(at: clock.now())
        else {
            throw PorteroError(.userNotFound, "No account with this email.")
        }
        return user
    }

    /// The account a verification request is about.
    /// - Parameter spend: called with the email's key (typed, or the token's user's) before the account is looked
    ///   up by address, so a per-email rate limit counts unknown addresses too.
    private func resolve(_ subject: VerificationSubject, spend: (String) async throws -> Void) async throws -> User {
        switch subject {
        case .token(let token):
            let claims = try await tokens().verifyVerificationToken(token, now: clock.now())
            guard let id = UUID(uuidString: claims.sub), let user = await store.state.user(id: id) else {
                throw PorteroError(.userNotFound, "No account matches this verification token.")
            }
            try await spend(user.emailKey)
            return user
        case .email(let email):
            try await spend(email.key)
            guard let user = await store.state.user(emailKey: email.key) else {
                throw PorteroError(.userNotFound, "No account with this email.")
            }
            return user
        }
    }

    /// The account, still unverified and within `registration.unverified_ttl`.
    private static func unverifiedUser(_ id: UUID, in state: AuthState, now: Date) throws -> User {
        guard let user = state.user(id: id), !user.isExpiredUnverified(at: now) else {
            throw PorteroError(.userNotFound, "No account with this email.")
        }
        guard !user.emailVerified else {
            throw PorteroError(.alreadyVerified, "This email address is already verified.")
        }
        return user
    }

    static var wrongCode: PorteroError { PorteroError(.invalidCode, "The code is wrong or has expired.") }
}

/// What a verify-email transaction decided.
private enum VerifyOutcome: Sendable {
    case verified(User, UUID, String)
    case wrongCode
}
