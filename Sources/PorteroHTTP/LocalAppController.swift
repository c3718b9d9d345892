import Foundation
import HTTPTypes
public import Hummingbird
public import PorteroCore

/// The routes for local apps and reverse proxies under `/api/v1/auth`: RFC 7662 introspection (`POST /introspect`)
/// and forward-auth (`GET /verify`) for nginx `auth_request`, Caddy `forward_auth` and Traefik `forwardAuth`.
public struct LocalAppController: Sendable {
    let auth: AuthService
    /// Whether `/verify` also takes the `portero_session` cookie.
    let browser: BrowserSessionSettings

    public init(auth: AuthService, browser: BrowserSessionSettings = .disabled) {
        self.auth = auth
        self.browser = browser
    }

    /// The path of introspection, whose body may be a form (RFC 7662 §2.1).
    public static let introspectPath = PorteroRouter.authBasePath + "/introspect"
    /// The path of forward-auth, whose body (a proxy may pass on the original request's) is never read.
    public static let verifyPath = PorteroRouter.authBasePath + "/verify"

    public var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.post("introspect") { request, _ in try await introspect(request) }
        routes.get("verify") { request, _ in try await verify(request) }
        return routes
    }

    /// POST /introspect, `token=…` form-encoded or `{token}` as JSON → 200 `{active: true, …claims}` or only
    /// `{active: false}`; no token is 400.
    func introspect(_ request: Request) async throws -> Response {
        let token: String?
        if FormBody.isForm(request.headers[.contentType]) {
            let form = try await FormBody.parse(request)
            token = form.fields["token"]
        } else {
            var body = try await JSONBody.parse(request)
            token = body.string("token", required: true)
            _ = body.string("token_type_hint", required: false)
            try body.finish()
        }
        guard let token, !token.isEmpty else { throw PorteroError.validation(["token": "is required"]) }
        guard let active = await auth.introspect(token: token) else {
            return JSONResponse.make(status: .ok, object: ["active": .bool(false)])
        }
        let claims = active.claims
        return JSONResponse.make(
            status: .ok,
            object: [
                "active": .bool(true),
                "sub": .string(claims.sub),
                "exp": .number(Double(claims.exp)),
                "iat": .number(Double(claims.iat)),
                "jti": .string(claims.jti),
                "email": .string(claims.email),
                "roles": .array(claims.roles.map { .string($0) }),
                "scope": .string(active.scope),
                "sid": claims.sid.map { .string($0) } ?? .null,
                "token_type": .string("Bearer"),
                "iss": .string(claims.iss),
                "aud": .string(claims.aud),
            ])
    }

    /// GET /verify with a Bearer access token (or, when `cookie.enabled` and no Authorization header is sent, the
    /// `portero_session` cookie) → 200 with `X-Auth-User-Id`, `X-Auth-Email`, `X-Auth-Roles`; 401 for
    /// a missing or refused token; `?role=` or `X-Auth-Require-Role` → 403 `insufficient_role` without that role.
    func verify(_ request: Request) async throws -> Response {
        let required = try Self.requiredRole(request)
        let bearer = try AuthController.bearerToken(request)
        let identity: ForwardedIdentity
        if bearer == nil, let cookie = browser.cookie(in: request.headers) {
            identity = try await auth.forwardAuth(sessionCookie: cookie, requiredRole: required)
        } else {
            identity = try await auth.forwardAuth(accessToken: bearer, requiredRole: required)
        }
        var headers = HTTPFields()
        headers[.xAuthUserID] = identity.userID.uuidString.lowercased()
        headers[.xAuthEmail] = identity.email
        headers[.xAuthRoles] = identity.roles.joined(separator: ",")
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers)
    }

    /// The role `?role=` or `X-Auth-Require-Role` asks for (the query wins); an empty one is 400.
    static func requiredRole(_ request: Request) throws(PorteroError) -> String? {
        let raw = request.uri.queryParameters["role"].map(String.init) ?? request.headers[.xAuthRequireRole]
        guard let raw else { return nil }
        let role = raw.trimmingCharacters(in: .whitespaces)
        guard !role.isEmpty, !role.unicodeScalars.contains(where: JSONBody.isControl) else {
            throw PorteroError.validation(["role": "must be a role name"])
        }
        return role
    }
}

extension HTTPField.Name {
    static let xAuthUserID = Self("X-Auth-User-Id")!
    static let xAuthEmail = Self("X-Auth-Email")!
    static let xAuthRoles = Self("X-Auth-Roles")!
    static let xAuthRequireRole = Self("X-Auth-Require-Role")!
}
