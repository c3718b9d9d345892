public import Hummingbird
public import PorteroStore

/// Builds the one router every listener serves.
public enum PorteroRouter {
    /// SPEC §3's base path of the auth API.
    public static let authBasePath = "/api/v1/auth"
    /// The admin API's base path (Unix socket, `SO_PEERCRED`).
    public static let adminBasePath = "/admin/v1"

    /// The router with SPEC §3's middleware chain: request id + error shape outermost, then the client address
    /// (`trusted_proxies`), then the body limit.
    public static func build<Store: RecordStore>(services: AuthServices<Store>, adminAccess: AdminAccess)
        -> Router<AppRequestContext>
    where Store.State == StoreState {
        // The routes are listed once first, so that a wrong method on a known path is told from an unknown path.
        let listing = Router(context: AppRequestContext.self)
        addRoutes(to: listing, services: services, adminAccess: adminAccess)
        let router = Router(context: AppRequestContext.self)
        router.middlewares.add(RequestIDMiddleware())
        router.middlewares.add(MethodNotAllowedMiddleware(routes: listing.routes.map { ($0.path, $0.method) }))
        router.middlewares.add(ClientAddressMiddleware(trustedProxies: services.settings.trustedProxies))
        router.middlewares.add(BodyLimitMiddleware<AppRequestContext>())
        addRoutes(to: router, services: services, adminAccess: adminAccess)
        return router
    }

    private static func addRoutes<Store: RecordStore>(
        to router: Router<AppRequestContext>,
        services: AuthServices<Store>,
        adminAccess: AdminAccess
    ) where Store.State == StoreState {
        router.addRoutes(HealthController(store: services.store).endpoints)
        router.addRoutes(JWKSController(tokens: services.tokens).endpoints)
        router.addRoutes(AuthController(services: services).endpoints, atPath: RouterPath(authBasePath))
        router.addRoutes(
            AdminController(store: services.store, access: adminAccess, logger: services.logger).endpoints,
            atPath: RouterPath(adminBasePath)
        )
    }
}
