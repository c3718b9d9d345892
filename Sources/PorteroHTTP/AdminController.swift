public import Foundation
public import Hummingbird
public import Logging
public import PorteroCore

/// The admin API (SPEC §3), under `/admin/v1`: only over the Unix socket, and only for peers ``AdminAccess``
/// allows by their `SO_PEERCRED`. A local peer without the right credentials gets 403 `forbidden`; over TCP the
/// admin API does not exist (404, see ``AdminOverTCPMiddleware``).
public struct AdminController: Sendable {
    let admin: AdminService
    /// For the admin actions that hash a password or mail a code (create, reset-password).
    let auth: AuthService
    let access: AdminAccess
    let logger: Logger

    public init(admin: AdminService, auth: AuthService, access: AdminAccess, logger: Logger) {
        self.admin = admin
        self.auth = auth
        self.access = access
        self.logger = logger
    }

    public var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.add(middleware: PeerCredentialsGuard(access: access, logger: logger))
        routes.get("stats") { _, _ in try JSONResponse.make(StatsResponse(await admin.stats())) }
        addUserRoutes(to: routes)
        addAccountRoutes(to: routes)
        addImportRoute(to: routes)
        addSnapshotRoute(to: routes)
        addBackupRoute(to: routes)
        addMailRoutes(to: routes)
        return routes
    }

    /// GET /admin/v1/stats → counts of what the store holds.
    struct StatsResponse: Encodable {
        struct Store: Encodable {
            let lastSeq: UInt64
            let writable: Bool
            enum CodingKeys: String, CodingKey {
                case lastSeq = "last_seq"
                case writable
            }
        }

        let users: Int
        let verifiedUsers: Int
        let sessions: Int
        let lockedEmails: Int
        let revokedAccessTokens: Int
        let queuedMail: Int
        let store: Store

        init(_ stats: AdminService.Stats) {
            users = stats.users
            verifiedUsers = stats.verifiedUsers
            sessions = stats.sessions
            lockedEmails = stats.lockedEmails
            revokedAccessTokens = stats.revokedAccessTokens
            queuedMail = stats.queuedMail
            store = Store(lastSeq: stats.lastSeq, writable: stats.writable)
        }

        enum CodingKeys: String, CodingKey {
            case users
            case verifiedUsers = "verified_users"
            case sessions
            case lockedEmails = "locked_emails"
            case revokedAccessTokens = "revoked_access_tokens"
            case queuedMail = "queued_mail"
            case store
        }
    }
}

/// Lets a request through only when it came over the Unix socket from a peer ``AdminAccess`` allows.
struct PeerCredentialsGuard: RouterMiddleware {
    typealias Context = AppRequestContext
    let access: AdminAccess
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        guard let peer = await context.peerCredentials() else {
            throw PorteroError(.notFound, "No such route.")
        }
        guard access.allows(peer) else {
            logger.warning(
                "admin API refused to a peer without the right credentials",
                metadata: [
                    "event": "admin.denied", "peer_uid": .stringConvertible(peer.uid),
                    "peer_pid": .stringConvertible(peer.pid), "request_id": .string(context.requestID),
                ]
            )
            throw PorteroError(.forbidden, "This user may not use the admin API; see admin_group.")
        }
        return try await next(request, context)
    }
}

/// Over TCP the admin API does not exist: every `/admin/…` path is 404 `not_found` whatever its method, before
/// routing, so a network client cannot even tell which admin routes there are. The same holds for `/metrics` unless
/// `metrics.tcp` is on.
struct AdminOverTCPMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    /// Whether `/metrics` is hidden over TCP too.
    var hidesMetrics = true

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        let path = request.uri.path
        if !context.isUnixSocket,
            path == "/admin" || path.hasPrefix("/admin/")
                || (hidesMetrics && (path == MetricsController.path || path.hasPrefix(MetricsController.path + "/")))
        {
            throw PorteroError(.notFound, "No such route.")
        }
        return try await next(request, context)
    }
}
