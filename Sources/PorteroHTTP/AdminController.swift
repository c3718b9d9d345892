public import Foundation
public import Hummingbird
public import Logging
import PorteroCore
public import PorteroStore

/// The admin API (SPEC §3), under `/admin/v1`: only over the Unix socket, and only for peers ``AdminAccess``
/// allows by their `SO_PEERCRED`. Everyone else gets 403 `forbidden`, whatever address they come from.
///
/// So far it serves `GET /admin/v1/stats`; users, sessions, snapshot and backup are still to come.
public struct AdminController<Store: RecordStore>: Sendable where Store.State == StoreState {
    let store: Store
    let access: AdminAccess
    let logger: Logger
    let now: @Sendable () -> Date

    public init(store: Store, access: AdminAccess, logger: Logger, now: @escaping @Sendable () -> Date = { Date() }) {
        self.store = store
        self.access = access
        self.logger = logger
        self.now = now
    }

    public var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.add(middleware: PeerCredentialsGuard(access: access, logger: logger))
        routes.get("stats") { _, _ in try await stats() }
        return routes
    }

    /// GET /admin/v1/stats → counts of what the store holds.
    func stats() async throws -> Response {
        let state = await store.state
        let now = now()
        let users = state.users.values
        let stats = Stats(
            users: users.count,
            verifiedUsers: users.filter(\.emailVerified).count,
            sessions: state.sessions.values.filter { $0.expiresAt > now }.count,
            lockedEmails: state.lockouts.values.filter { ($0.lockedUntil ?? .distantPast) > now }.count,
            revokedAccessTokens: state.revokedTokenIDs.count,
            queuedMail: state.outbox.count,
            store: .init(lastSeq: await store.lastSeq, writable: await store.failure == nil)
        )
        return try JSONResponse.make(stats)
    }

    struct Stats: Encodable {
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
            throw PorteroError(.forbidden, "The admin API is served on the Unix socket only.")
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
