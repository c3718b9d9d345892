import Foundation
import HTTPTypes
public import Hummingbird
public import PorteroCore

/// The sign-in page for browsers a reverse proxy sends (`GET /signin?rd=`, `POST /signin`, `POST /signout`),
/// served only when `cookie.enabled`. Signing in is ``AuthService/login(email:password:caller:budget:)`` with all
/// its rules (rate limit, lockout, one answer for an unknown email and a wrong password, unverified accounts); the
/// answer sets `portero_session` and sends the browser back to `rd` (303) when its host is in
/// `forward_auth.redirect_hosts`.
///
/// Both POSTs refuse (403) what another site made the browser send (`Sec-Fetch-Site: cross-site`, or an `Origin`
/// that is neither this host nor an allowed one), and sign-out also needs the session's CSRF token from the
/// signed-in page, so a form on another site can neither sign a browser in nor out.
public struct SignInController: Sendable {
    let auth: AuthService
    let settings: BrowserSessionSettings
    let page: SignInPage

    public init(auth: AuthService, settings: BrowserSessionSettings, page: SignInPage = SignInPage()) {
        self.auth = auth
        self.settings = settings
        self.page = page
    }

    /// The paths whose body is a form.
    public static let formPaths: Set<String> = ["/signin", "/signout"]

    public var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("signin") { request, _ in try await page(request) }
        routes.post("signin") { request, context in
            try await AuthController(auth: auth).limited(.login, request, context, signIn)
        }
        routes.post("signout") { request, context in try await signOut(request, context) }
        return routes
    }

    /// GET /signin?rd= → the form, or the signed-in page (with sign-out) when the cookie is good; 400 for an `rd`
    /// that is not allowed.
    func page(_ request: Request) async throws -> Response {
        let rd = request.uri.queryParameters["rd"].map(String.init)
        let target = settings.allowedRedirect(rd)
        if rd != nil && target == nil { return refusedRedirect() }
        if let session = try? await auth.authenticate(sessionCookie: settings.cookie(in: request.headers)) {
            return html(
                .ok, "Signed in",
                .signedIn(
                    email: session.user.email, csrf: auth.csrfToken(for: session.sessionID), continueTo: target))
        }
        return html(.ok, "Sign in", .form(message: nil, email: nil, rd: target?.absoluteString))
    }

    /// POST /signin (form: email, password, rd?) → 303 to `rd` (or to /signin) with the cookie set; the form again
    /// with a message otherwise (400, 401, 403, 423, 429, 503).
    func signIn(_ request: Request, _ context: AppRequestContext, budget: inout RateBudget) async throws -> Response {
        if isCrossSite(request) { return crossSite() }
        let form: FormBody
        do {
            form = try await Self.form(request)
        } catch let error as PorteroError {
            return failed(error, email: nil, rd: nil)
        }
        let rd = form.fields["rd"].flatMap { $0.isEmpty ? nil : $0 }
        let target = settings.allowedRedirect(rd)
        if rd != nil && target == nil { return refusedRedirect() }
        let typed = form.fields["email"]
        guard let typed, let email = try? Email(validating: typed), let password = form.fields["password"],
            !password.isEmpty
        else {
            return failed(PorteroError.validation(["email": "is required"]), email: typed, rd: target?.absoluteString)
        }
        let signedIn: SignedIn
        do {
            signedIn = try await auth.login(
                email: email, password: password, caller: AuthController(auth: auth).caller(request, context),
                budget: &budget)
        } catch let error as PorteroError {
            return failed(error, email: typed, rd: target?.absoluteString)
        }
        var headers = HTTPFields()
        headers[.setCookie] = settings.setCookie(
            auth.sessionCookie(for: signedIn.sessionID), maxAge: auth.configuration.refreshTTL.seconds)
        headers[.location] = target?.absoluteString ?? "/signin"
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    /// POST /signout (form: csrf) → the cookie's session ended, the cookie cleared, 303 to /signin; 403 without the
    /// session's CSRF token. A browser whose cookie is already dead is just sent on.
    func signOut(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        if isCrossSite(request) { return crossSite() }
        let form = try? await Self.form(request)
        var headers = HTTPFields()
        headers[.setCookie] = settings.setCookie(nil)
        headers[.location] = "/signin"
        headers[.cacheControl] = "no-store"
        guard let session = try? await auth.authenticate(sessionCookie: settings.cookie(in: request.headers)) else {
            return Response(status: .seeOther, headers: headers)
        }
        guard auth.checkCSRF(form?.fields["csrf"], sessionID: session.sessionID) else {
            return html(
                .forbidden, "Not signed out",
                .notice(heading: "Not signed out", message: "This sign-out form is not valid."))
        }
        do {
            try await auth.signOut(session, caller: AuthController(auth: auth).caller(request, context))
        } catch let error as PorteroError {
            return failed(error, email: nil, rd: nil)
        }
        return Response(status: .seeOther, headers: headers)
    }

    /// The form body; any other body (JSON) counts as an empty form.
    static func form(_ request: Request) async throws -> FormBody {
        guard FormBody.isForm(request.headers[.contentType]) else { return FormBody(fields: [:]) }
        return try await FormBody.parse(request)
    }

    /// A POST another site made the browser send: `Sec-Fetch-Site: cross-site`, an opaque `Origin` (`null`), or an
    /// `Origin` whose host is neither the request's own host nor one of `forward_auth.redirect_hosts`.
    func isCrossSite(_ request: Request) -> Bool {
        if request.headers[Self.secFetchSite]?.lowercased() == "cross-site" { return true }
        guard let origin = request.headers[.origin] else { return false }
        guard origin != "null", let url = URLComponents(string: origin), let host = url.host?.lowercased() else {
            return true
        }
        if settings.redirectHosts.contains(host) { return false }
        let authority = (request.head.authority ?? request.headers[Self.host] ?? "").lowercased()
        let ownHost = URLComponents(string: "http://" + authority)?.host?.lowercased()
        return host != ownHost
    }

    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let host = HTTPField.Name("Host")!

    /// The form again with what went wrong, in words that do not tell an unknown email from a wrong password.
    func failed(_ error: PorteroError, email: String?, rd: String?) -> Response {
        let message: String
        var headers = HTTPFields()
        switch error.code {
        case .validationError: message = "Enter your email address and your password."
        case .invalidCredentials: message = "The email address or the password is wrong."
        case .accountNotVerified: message = "Verify your email address first: we sent you a code."
        case .accountLocked: message = "Too many failed sign-ins for this address; try again later."
        case .rateLimited:
            message = "Too many attempts; wait a moment and try again."
            if case .retryAfter(let seconds)? = error.extra { headers[.retryAfter] = String(seconds) }
        case .unavailable: message = "The service is busy or cannot store changes right now; try again later."
        default: message = "Something went wrong; try again."
        }
        return html(
            ErrorResponder.status(of: error.code), "Sign in",
            .form(message: message, email: email, rd: rd), headers: headers)
    }

    func refusedRedirect() -> Response {
        html(
            .badRequest, "Sign in",
            .notice(
                heading: "Cannot sign in here",
                message: "This sign-in link would send you to a site that is not allowed."))
    }

    func crossSite() -> Response {
        html(
            .forbidden, "Sign in",
            .notice(heading: "Cannot sign in here", message: "This form was sent from another site."))
    }

    func html(_ status: HTTPResponse.Status, _ title: String, _ view: SignInPage.View, headers: HTTPFields = [:])
        -> Response
    {
        page.response(
            status: status, title: title, view: view,
            formTargets: settings.redirectHosts.sorted().flatMap { ["https://\($0):*", "http://\($0):*"] },
            headers: headers)
    }
}
