import Foundation
import HTTPTypes
public import Hummingbird
public import PorteroCore

/// SPEC §3's routes under `/api/v1/auth`, from `/register` to `/sessions/{id}`: each decodes the request, calls one
/// use case of ``AuthService`` and encodes its answer.
public struct AuthController: Sendable {
    let auth: AuthService
    /// Whether login and verify-email also set the `portero_session` cookie.
    let browser: BrowserSessionSettings

    public init(auth: AuthService, browser: BrowserSessionSettings = .disabled) {
        self.auth = auth
        self.browser = browser
    }

    /// The answer of a sign-in, with `Set-Cookie: portero_session` when cookies are on.
    func signedIn(_ signedIn: SignedIn, message: String) throws -> Response {
        var headers = HTTPFields()
        if browser.cookieEnabled {
            headers[.setCookie] = browser.setCookie(
                auth.sessionCookie(for: signedIn.sessionID), maxAge: auth.configuration.refreshTTL.seconds)
        }
        return try JSONResponse.make(
            TokenResponse(signedIn, message: message, includeUser: true), headers: headers)
    }

    public var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("register") { try await limited(.register, $0, $1, register) }
        routes.post("verify-email") { try await limited(.verify, $0, $1, verifyEmail) }
        routes.post("resend-verification") { try await limited(.resend, $0, $1, resendVerification) }
        routes.get("verification-status") { try await limited(.status, $0, $1, verificationStatus) }
        routes.post("login") { try await limited(.login, $0, $1, login) }
        routes.post("refresh") { request, context in try await refresh(request, context) }
        routes.post("logout") { request, context in try await logout(request, context) }
        routes.post("logout-all") { request, context in try await logoutAll(request, context) }
        routes.get("profile") { request, _ in try await profile(request) }
        routes.patch("profile") { request, context in try await updateProfile(request, context) }
        routes.post("password/change") { try await limited(.passwordChange, $0, $1, changePassword) }
        routes.post("password/forgot") { try await limited(.forgot, $0, $1, forgotPassword) }
        routes.post("password/reset") { try await limited(.reset, $0, $1, resetPassword) }
        routes.get("sessions") { request, _ in try await listSessions(request) }
        routes.delete("sessions/:id") { request, context in try await deleteSession(request, context) }
        return routes
    }

    /// POST /register → 201 with the user and a verification token; a 6-digit code is mailed.
    func register(_ request: Request, _ context: AppRequestContext, budget: inout RateBudget) async throws -> Response {
        var body = try await JSONBody.parse(request)
        let email = body.email()
        let password = newPassword(body.string("password", required: true), field: "password", &body)
        let profile = profileFields(&body)
        let locale = languageTag(&body)
        try body.finish()
        guard let email, let password else { throw PorteroError.validation([:]) }
        let registered = try await auth.register(
            email: email, password: password, profile: profile, locale: locale,
            accepted: AcceptLanguage.tags(request.headers[.acceptLanguage]), caller: caller(request, context),
            budget: &budget)
        return try JSONResponse.make(
            status: .created,
            RegisterResponse(
                message: "Registered. We sent a 6-digit code to \(registered.user.email); verify it to log in.",
                user: UserDTO(registered.user),
                verificationRequired: true,
                verificationToken: registered.verificationToken
            )
        )
    }

    /// POST /verify-email `{email, code}` or `{code}` + Bearer verification token → 200 with tokens.
    func verifyEmail(_ request: Request, _ context: AppRequestContext, budget: inout RateBudget) async throws
        -> Response
    {
        var body = try await JSONBody.parse(request)
        let code = body.code()
        let subject = try verificationSubject(request, &body)
        guard let code else { throw PorteroError.validation(["code": "is required"]) }
        let signedIn = try await auth.verifyEmail(
            subject, code: code, caller: caller(request, context), budget: &budget)
        return try self.signedIn(signedIn, message: "Email verified.")
    }

    /// POST /resend-verification `{email}` (or a Bearer verification token) → 200; the previous code dies.
    func resendVerification(_ request: Request, _ context: AppRequestContext, budget: inout RateBudget) async throws
        -> Response
    {
        var body = try await JSONBody.parse(request)
        let subject = try verificationSubject(request, &body)
        let user = try await auth.resendVerification(subject, caller: caller(request, context), budget: &budget)
        return try JSONResponse.make(ResendResponse(message: "A new code is on its way.", email: user.email))
    }

    /// GET /verification-status?email= → `{email, verified}`.
    func verificationStatus(_ request: Request, _ context: AppRequestContext, budget: inout RateBudget) async throws
        -> Response
    {
        guard let raw = request.uri.queryParameters["email"].map(String.init), !raw.isEmpty else {
            throw PorteroError.validation(["email": "is required"])
        }
        let email: Email
        do {
            email = try Email(validating: raw)
        } catch {
            throw PorteroError.validation(["email": error.reason])
        }
        let user = try await auth.verificationStatus(email, caller: caller(request, context), budget: &budget)
        return try JSONResponse.make(VerificationStatusResponse(email: user.email, verified: user.emailVerified))
    }

    /// POST /login → 200 with tokens; 401 alike for an unknown email or a wrong password; 423 while locked.
    func login(_ request: Request, _ context: AppRequestContext, budget: inout RateBudget) async throws -> Response {
        var body = try await JSONBody.parse(request)
        let email = body.email()
        let password = body.string("password", required: true)
        try body.finish()
        guard let email, let password else { throw PorteroError.validation([:]) }
        let signedIn = try await auth.login(
            email: email, password: password, caller: caller(request, context), budget: &budget)
        return try self.signedIn(signedIn, message: "Logged in.")
    }

    /// POST /refresh → new tokens; a spent refresh token revokes its session (401 `refresh_token_reused`).
    func refresh(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        var body = try await JSONBody.parse(request)
        let token = body.string("refresh_token", required: true)
        try body.finish()
        guard let token else { throw PorteroError.validation(["refresh_token": "is required"]) }
        let signedIn = try await auth.refresh(refreshToken: token, caller: caller(request, context))
        return try JSONResponse.make(TokenResponse(signedIn, message: nil, includeUser: false))
    }

    /// POST /logout → 200; this access token and its session (and the given refresh token's) revoked.
    func logout(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let authenticated = try await authenticate(request)
        var body = try await JSONBody.parse(request)
        let refreshToken = body.string("refresh_token", required: false)
        try body.finish()
        try await auth.logout(authenticated, refreshToken: refreshToken, caller: caller(request, context))
        return try JSONResponse.make(MessageResponse(message: "Logged out."))
    }

    /// POST /logout-all → 200; every session and access token of the user revoked.
    func logoutAll(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let authenticated = try await authenticate(request)
        try await auth.logoutAll(authenticated, caller: caller(request, context))
        return try JSONResponse.make(MessageResponse(message: "Logged out of every session."))
    }

    /// GET /profile → `{user}`.
    func profile(_ request: Request) async throws -> Response {
        let user = try await auth.profile(accessToken: try Self.bearerToken(request))
        return JSONResponse.make(status: .ok, object: ["user": .object(UserDTO(user).jsonObject)])
    }

    /// PATCH /profile `{name?, phone?}` → `{user}`; an empty string clears a field.
    func updateProfile(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let authenticated = try await authenticate(request)
        var body = try await JSONBody.parse(request)
        let fields = profileFields(&body)
        try body.finish()
        let user = try await auth.updateProfile(authenticated, fields, caller: caller(request, context))
        return try JSONResponse.make(UserResponse(user: UserDTO(user)))
    }

    /// POST /password/change → 200 with new tokens; every other session and access token revoked.
    func changePassword(_ request: Request, _ context: AppRequestContext, budget: inout RateBudget) async throws
        -> Response
    {
        let authenticated = try await authenticate(request)
        var body = try await JSONBody.parse(request)
        let current = body.string("current_password", required: true)
        let new = newPassword(body.string("new_password", required: true), field: "new_password", &body)
        try body.finish()
        guard let current, let new else { throw PorteroError.validation([:]) }
        let signedIn = try await auth.changePassword(
            authenticated, current: current, new: new, caller: caller(request, context), budget: &budget)
        return try JSONResponse.make(
            TokenResponse(signedIn, message: "Password changed; other sessions were logged out.", includeUser: false))
    }

    /// POST /password/forgot → 202 always (no enumeration); a reset code is mailed if the account exists.
    func forgotPassword(_ request: Request, _ context: AppRequestContext, budget: inout RateBudget) async throws
        -> Response
    {
        var body = try await JSONBody.parse(request)
        let email = body.email()
        try body.finish()
        guard let email else { throw PorteroError.validation(["email": "is required"]) }
        try await auth.forgotPassword(email, caller: caller(request, context), budget: &budget)
        return try JSONResponse.make(
            status: .accepted,
            MessageResponse(message: "If an account exists for this address, a reset code is on its way.")
        )
    }

    /// POST /password/reset `{email, code, new_password}` → 200; all sessions revoked, lockout cleared.
    func resetPassword(_ request: Request, _ context: AppRequestContext, budget: inout RateBudget) async throws
        -> Response
    {
        var body = try await JSONBody.parse(request)
        let email = body.email()
        let code = body.code()
        let new = newPassword(body.string("new_password", required: true), field: "new_password", &body)
        try body.finish()
        guard let email, let code, let new else { throw PorteroError.validation([:]) }
        try await auth.resetPassword(
            email: email, code: code, new: new, caller: caller(request, context), budget: &budget)
        return try JSONResponse.make(MessageResponse(message: "Password reset; log in with the new password."))
    }

    /// GET /sessions → the user's refresh sessions, `current` marking this token's.
    func listSessions(_ request: Request) async throws -> Response {
        let authenticated = try await authenticate(request)
        let sessions = await auth.sessions(authenticated)
        return try JSONResponse.make(
            SessionsResponse(sessions: sessions.map { SessionDTO($0, current: $0.id == authenticated.sessionID) }))
    }

    /// DELETE /sessions/{id} → 204; 404 when the user has no such session.
    func deleteSession(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let authenticated = try await authenticate(request)
        let id = context.parameters.get("id").flatMap(UUID.init(uuidString:))
        try await auth.revokeSession(authenticated, id: id, caller: caller(request, context))
        return Response(status: .noContent)
    }
}
