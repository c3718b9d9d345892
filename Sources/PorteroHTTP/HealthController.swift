public import Hummingbird
import PorteroCore
public import PorteroStore

/// `GET /healthz` (200 while serving) and `GET /readyz` (200 once the store is loaded and writable).
public struct HealthController<Store: RecordStore>: Sendable {
    let store: Store

    public init(store: Store) {
        self.store = store
    }

    public var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get("healthz") { _, _ in
            JSONResponse.make(status: .ok, object: ["status": .string("ok")])
        }
        routes.get("readyz") { _, _ in
            if await store.failure != nil {
                throw PorteroError.unavailable()
            }
            return JSONResponse.make(status: .ok, object: ["status": .string("ready")])
        }
        return routes
    }
}
