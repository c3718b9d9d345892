import Foundation
import Hummingbird
import Logging
import PorteroCore
import PorteroStore

extension AuthController {
    /// POST /register → 201 with the user and a verification token; a 6-digit code is mailed.
    func register(_ request: Request, _ context: AppRequestContext, limit: inout RateLimitCheck) async throws
        -> Response
    {
        var body = try await JSONBody.parse(request)
        let email = body.email()
        let rawPassword = body.string("password", required: true)
        let (name, phone) = Self.readProfileFields(&body)
        let password = validatePassword(rawPassword, field: "password", body: &body)
        try body.finish()
        guard let email, let password else { throw PorteroError.validation([:]) }
        try await spendAddress(&limit, context)

        if await services.store.state.user(emailKey: email.key) != nil {
            throw PorteroError(.userExists, "An account with this email already exists.")
        }
        let hasher = services.hasher
        let hash = try await services.hashing { try hasher.hash(password) }
        let now = services.now()
        let user = try await services.write { transaction in
            guard transaction.state.user(emailKey: email.key) == nil else {
                throw PorteroError(.userExists, "An account with this email already exists.")
            }
            let user = User(
                id: UUID(),
                email: email,
                name: name.flatMap { $0.isEmpty ? nil : $0 },
                phone: phone.flatMap { $0.isEmpty ? nil : $0 },
                passwordHash: hash,
                createdAt: now
            )
            transaction.append(.userRegistered(user))
            for record in services.issueCode(for: user, purpose: .verifyEmail, now: now) {
                transaction.append(record)
            }
            return user
        }
        services.mailQueued()
        services.event(
            .info, "user registered", event: "user.registered", userID: user.id, emailKey: user.emailKey,
            remote: clientAddress(context))
        let token = try await services.tokens().issueVerificationToken(userID: user.id, email: user.email, now: now)
        return try JSONResponse.make(
            status: .created,
            RegisterResponse(
                message: "Registered. We sent a 6-digit code to \(user.email); verify it to log in.",
                user: UserDTO(user),
                verificationRequired: true,
                verificationToken: token
            )
        )
    }

    /// The user a verification request is about: the Bearer verification token's subject, else `email`.
    /// - Parameter spend: called with the email's key (typed, or the token's user's) before the account is looked
    ///   up, so a per-email rate limit counts unknown addresses too.
    private func verificationSubject(
        _ request: Request,
        body: inout JSONBody,
        spend: (String) async throws -> Void = { _ in }
    ) async throws -> User {
        if let token = try AuthServices<Store>.bearerToken(request) {
            let claims = try await services.tokens().verifyVerificationToken(token, now: services.now())
            guard let id = UUID(uuidString: claims.sub), let user = await services.store.state.user(id: id) else {
                throw PorteroError(.userNotFound, "No account matches this verification token.")
            }
            try await spend(user.emailKey)
            return user
        }
        let email = body.email()
        try body.finish()
        guard let email else { throw PorteroError.validation(["email": "is required"]) }
        try await spend(email.key)
        guard let user = await services.store.state.user(emailKey: email.key) else {
            throw PorteroError(.userNotFound, "No account with this email.")
        }
        return user
    }

    /// POST /verify-email `{email, code}` or `{code}` + Bearer verification token → 200 with tokens.
    func verifyEmail(_ request: Request, _ context: AppRequestContext, limit: inout RateLimitCheck) async throws
        -> Response
    {
        var body = try await JSONBody.parse(request)
        let code = body.code()
        var check = limit
        defer { limit = check }
        let subject = try await verificationSubject(request, body: &body) { _ in
            try await spendAddress(&check, context)
        }
        try body.finish()
        guard let code else { throw PorteroError.validation(["code": "is required"]) }
        let now = services.now()
        let ip = clientAddress(context)
        let agent = userAgent(request)
        let outcome = try await services.write { transaction -> VerifyOutcome in
            guard let user = transaction.state.user(id: subject.id) else {
                throw PorteroError(.userNotFound, "No account with this email.")
            }
            guard !user.emailVerified else {
                throw PorteroError(.alreadyVerified, "This email address is already verified.")
            }
            let check = services.checkCode(code, user: user, purpose: .verifyEmail, state: transaction.state, now: now)
            for record in check.records { transaction.append(record) }
            guard check.matched else { return .wrongCode }
            transaction.append(.userVerified(.init(userID: user.id, at: now)))
            transaction.append(.userLoggedIn(.init(userID: user.id, at: now, ip: ip)))
            let verified = transaction.state.user(id: user.id) ?? user
            let (session, refreshToken) = services.newSession(for: verified, ip: ip, userAgent: agent, now: now)
            transaction.append(.sessionCreated(session))
            return .verified(verified, session, refreshToken)
        }
        switch outcome {
        case .wrongCode:
            services.event(
                .notice, "wrong verification code", event: "verification.failed", userID: subject.id,
                emailKey: subject.emailKey, remote: ip)
            throw PorteroError(.invalidCode, "The code is wrong or has expired.")
        case .verified(let user, let session, let refreshToken):
            services.event(
                .info, "email verified", event: "user.verified", userID: user.id, emailKey: user.emailKey, remote: ip)
            let response = try await services.tokenResponse(
                user: user,
                sessionID: session.id,
                refreshToken: refreshToken,
                now: now,
                message: "Email verified.",
                includeUser: true
            )
            return try JSONResponse.make(response)
        }
    }

    /// POST /resend-verification `{email}` → 200; the previous code dies.
    func resendVerification(_ request: Request, _ context: AppRequestContext, limit: inout RateLimitCheck)
        async throws -> Response
    {
        var body = try await JSONBody.parse(request)
        var check = limit
        defer { limit = check }
        let subject = try await verificationSubject(request, body: &body) { emailKey in
            try await spend(&check, emailKey: emailKey, context)
        }
        let now = services.now()
        let user = try await services.write { transaction -> User in
            guard let user = transaction.state.user(id: subject.id) else {
                throw PorteroError(.userNotFound, "No account with this email.")
            }
            guard !user.emailVerified else {
                throw PorteroError(.alreadyVerified, "This email address is already verified.")
            }
            for record in services.issueCode(for: user, purpose: .verifyEmail, now: now) {
                transaction.append(record)
            }
            return user
        }
        services.mailQueued()
        services.event(
            .info, "verification code resent", event: "verification.resent", userID: user.id, emailKey: user.emailKey,
            remote: clientAddress(context))
        return try JSONResponse.make(ResendResponse(message: "A new code is on its way.", email: user.email))
    }

    /// GET /verification-status?email= → `{email, verified}`.
    func verificationStatus(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        guard let raw = request.uri.queryParameters["email"].map(String.init), !raw.isEmpty else {
            throw PorteroError.validation(["email": "is required"])
        }
        let email: Email
        do {
            email = try Email(validating: raw)
        } catch {
            throw PorteroError.validation(["email": error.reason])
        }
        guard let user = await services.store.state.user(emailKey: email.key) else {
            throw PorteroError(.userNotFound, "No account with this email.")
        }
        return try JSONResponse.make(VerificationStatusResponse(email: user.email, verified: user.emailVerified))
    }
}

/// What a verify-email transaction decided.
enum VerifyOutcome: Sendable {
    case verified(User, RefreshSession, String)
    case wrongCode
}
