public import Hummingbird
public import Logging
public import PorteroCore

/// Builds the one router every listener serves.
public enum PorteroRouter {
    /// SPEC §3's base path of the auth API.
    public static let authBasePath = "/api/v1/auth"
    /// The admin API's base path (Unix socket, `SO_PEERCRED`).
    public static let adminBasePath = "/admin/v1"

    /// The router with SPEC §3's middleware chain: metrics outermost, request id + error shape, then the client
    /// address (`trusted_proxies`), then the body limit. With `metrics`, `GET /metrics` is served (on TCP only when
    /// ``MetricsEndpoint/overTCP``).
    public static func build(
        auth: AuthService, admin: AdminService, adminAccess: AdminAccess, trustedProxies: TrustedProxies,
        tokens: @escaping @Sendable () async -> TokenService, mail: MailStatus = MailStatus(), logger: Logger,
        browser: BrowserSessionSettings = .disabled, signInPage: SignInPage = SignInPage(),
        metrics: MetricsEndpoint? = nil
    ) -> Router<AppRequestContext> {
        let addRoutes = { (router: Router<AppRequestContext>) in
            router.addRoutes(HealthController(auth: auth, mail: mail).endpoints)
            router.addRoutes(JWKSController(tokens: tokens).endpoints)
            if let metrics {
                router.addRoutes(MetricsController(endpoint: metrics).endpoints)
            }
            router.addRoutes(
                AuthController(auth: auth, browser: browser).endpoints, atPath: RouterPath(authBasePath))
            router.addRoutes(
                LocalAppController(auth: auth, browser: browser).endpoints, atPath: RouterPath(authBasePath))
            if browser.cookieEnabled {
                router.addRoutes(SignInController(auth: auth, settings: browser, page: signInPage).endpoints)
            }
            router.addRoutes(
                AdminController(admin: admin, auth: auth, access: adminAccess, logger: logger).endpoints,
                atPath: RouterPath(adminBasePath))
        }
        // The routes are listed once first, so that a wrong method on a known path is told from an unknown path.
        let listing = Router(context: AppRequestContext.self)
        addRoutes(listing)
        let router = Router(context: AppRequestContext.self)
        // Outermost, so that it counts the answer every other middleware settled on, errors included.
        router.middlewares.add(HTTPMetricsMiddleware())
        router.middlewares.add(RequestIDMiddleware())
        router.middlewares.add(AdminOverTCPMiddleware(hidesMetrics: !(metrics?.overTCP ?? false)))
        router.middlewares.add(MethodNotAllowedMiddleware(routes: listing.routes.map { ($0.path, $0.method) }))
        router.middlewares.add(ClientAddressMiddleware(trustedProxies: trustedProxies))
        router.middlewares.add(
            BodyLimitMiddleware<AppRequestContext>(
                formPaths: SignInController.formPaths.union([LocalAppController.introspectPath]),
                ignoredBodyPaths: [LocalAppController.verifyPath]))
        addRoutes(router)
        return router
    }
}
