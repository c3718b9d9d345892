public import Hummingbird
public import PorteroCore

/// `GET /healthz` (200 while serving) and `GET /readyz` (200 once the store is loaded and writable).
public struct HealthController: Sendable {
    let auth: AuthService

    public init(auth: AuthService) {
        self.auth = auth
    }

    public var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("healthz") { _, _ in
            JSONResponse.make(status: .ok, object: ["status": .string("ok")])
        }
        routes.get("readyz") { _, _ in
            if await !auth.isWritable() {
                throw PorteroError.unavailable()
            }
            return JSONResponse.make(status: .ok, object: ["status": .string("ready")])
        }
        return routes
    }
}
