public import Hummingbird
public import PorteroCore

/// `GET /healthz` (200 while serving) and `GET /readyz` (200 once the store is loaded and writable; with a `mail`
/// field naming the problem while the mail transport's check fails, which does not make the daemon unready: logins
/// and tokens work without mail).
public struct HealthController: Sendable {
    let auth: AuthService
    let mail: MailStatus

    public init(auth: AuthService, mail: MailStatus = MailStatus()) {
        self.auth = auth
        self.mail = mail
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
            if let problem = await mail.problem {
                return JSONResponse.make(status: .ok, object: ["status": .string("ready"), "mail": .string(problem)])
            }
            return JSONResponse.make(status: .ok, object: ["status": .string("ready")])
        }
        return routes
    }
}
