public import Foundation
public import Hummingbird
import Logging
import PorteroCore

/// The admin API's users and sessions (SPEC §3 `/admin/v1`): each route decodes, calls one ``AdminService`` use
/// case with the peer that asked, and encodes. The peer guard of ``AdminController`` has already run.
extension AdminController {
    func addUserRoutes(to routes: RouteCollection<AppRequestContext>) {
        routes.get("users") { request, _ in try await listUsers(request) }
        routes.get("users/:user") { _, context in
            try JSONResponse.make(UserResponse(user: AdminUserDTO(try await admin.user(try reference(context)))))
        }
        routes.post("users/:user/verify") { _, context in
            try userAnswer(await admin.verify(try reference(context), peer: try await peer(context)))
        }
        routes.post("users/:user/lock") { _, context in
            try userAnswer(await admin.lock(try reference(context), peer: try await peer(context)))
        }
        routes.post("users/:user/unlock") { _, context in
            try userAnswer(await admin.unlock(try reference(context), peer: try await peer(context)))
        }
        routes.put("users/:user/roles") { request, context in try await setRoles(request, context) }
        routes.delete("users/:user") { _, context in
            try await admin.delete(try reference(context), peer: try await peer(context))
            return Response(status: .noContent)
        }
        routes.get("users/:user/sessions") { request, context in
            try await listSessions(request, of: try reference(context))
        }
        routes.delete("users/:user/sessions") { _, context in
            let count = try await admin.revokeSessions(of: try reference(context), peer: try await peer(context))
            return try JSONResponse.make(RevokedResponse(revoked: count))
        }
        routes.get("sessions") { request, _ in try await listSessions(request, of: nil) }
        routes.delete("sessions/:id") { _, context in
            guard let id = context.parameters.get("id").flatMap(UUID.init(uuidString:)) else {
                throw PorteroError(.sessionNotFound, "No such session.")
            }
            try await admin.revokeSession(id: id, peer: try await peer(context))
            return Response(status: .noContent)
        }
    }

    /// GET /users?email=&verified=&locked=&role=&limit=&cursor= → `{users, next_cursor}`.
    func listUsers(_ request: Request) async throws -> Response {
        let parameters = request.uri.queryParameters
        var problems: [String: String] = [:]
        func flag(_ name: String) -> Bool? {
            guard let value = parameters.get(name) else { return nil }
            switch value {
            case "true": return true
            case "false": return false
            default:
                problems[name] = "must be true or false"
                return nil
            }
        }
        var query = UserQuery(
            emailPrefix: parameters.get("email"), verified: flag("verified"), locked: flag("locked"),
            role: parameters.get("role"), cursor: parameters.get("cursor"))
        if let limit = parameters.get("limit") {
            if let value = Int(limit) { query.limit = value } else { problems["limit"] = "must be a number" }
        }
        if !problems.isEmpty { throw PorteroError.validation(problems) }
        let page = try await admin.users(query)
        return try JSONResponse.make(
            UsersResponse(users: page.users.map(AdminUserDTO.init), nextCursor: page.nextCursor))
    }

    /// GET /sessions or /users/{user}/sessions `?limit=&cursor=` → `{sessions, next_cursor}`.
    func listSessions(_ request: Request, of reference: UserReference?) async throws -> Response {
        let parameters = request.uri.queryParameters
        var limit = UserQuery.defaultLimit
        if let text = parameters.get("limit") {
            guard let value = Int(text) else { throw PorteroError.validation(["limit": "must be a number"]) }
            limit = value
        }
        let page = try await admin.sessions(of: reference, limit: limit, cursor: parameters.get("cursor"))
        return try JSONResponse.make(SessionsResponse(page.sessions, nextCursor: page.nextCursor))
    }

    /// PUT /users/{user}/roles `{roles: [..]}` → the user.
    func setRoles(_ request: Request, _ context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.parse(request)
        guard case .array(let items) = body.members["roles"] ?? .null else {
            throw PorteroError.validation(["roles": "must be an array of strings"])
        }
        var roles: [String] = []
        for item in items {
            guard case .string(let role) = item else {
                throw PorteroError.validation(["roles": "must be an array of strings"])
            }
            roles.append(role)
        }
        return try userAnswer(
            await admin.setRoles(try reference(context), roles: roles, peer: try await peer(context)))
    }

    func userAnswer(_ user: AdminUser) throws -> Response {
        try JSONResponse.make(UserResponse(user: AdminUserDTO(user)))
    }

    /// The `{user}` of the path: an id or an email address (percent-decoded).
    func reference(_ context: AppRequestContext) throws(PorteroError) -> UserReference {
        let raw = context.parameters.get("user") ?? ""
        return try UserReference(parsing: raw.removingPercentEncoding ?? raw)
    }

    /// The peer that asked, with its user name, for the audit trail.
    func peer(_ context: AppRequestContext) async throws -> AdminPeer {
        guard let credentials = await context.peerCredentials() else {
            throw PorteroError(.notFound, "No such route.")
        }
        return AdminPeer(
            uid: credentials.uid, pid: credentials.pid, userName: AdminAccess.userName(uid: credentials.uid),
            logger: context.logger)
    }

    struct UserResponse: Encodable { let user: AdminUserDTO }

    struct UsersResponse: Encodable {
        let users: [AdminUserDTO]
        let nextCursor: String?
        enum CodingKeys: String, CodingKey { case users, nextCursor }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(users, forKey: .users)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }

    struct RevokedResponse: Encodable { let revoked: Int }

    struct SessionsResponse: Encodable {
        let sessions: [AdminSessionDTO]
        let nextCursor: String?
        init(_ sessions: [AdminSession], nextCursor: String?) {
            self.sessions = sessions.map(AdminSessionDTO.init)
            self.nextCursor = nextCursor
        }
        enum CodingKeys: String, CodingKey { case sessions, nextCursor }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(sessions, forKey: .sessions)
            try container.encode(nextCursor, forKey: .nextCursor)
        }
    }
}

/// SPEC §3's user object and what an admin also sees: `locked`, `locked_until` (null for an admin's lock, which
/// lasts until an unlock), `locked_by_admin`, `sessions`, `last_login_ip`.
struct AdminUserDTO: Encodable {
    let user: UserDTO
    let view: AdminUser

    init(_ view: AdminUser) {
        self.user = UserDTO(view.user)
        self.view = view
    }

    enum CodingKeys: String, CodingKey { case locked, lockedUntil, lockedByAdmin, sessions, lastLoginIp }

    func encode(to encoder: any Encoder) throws {
        try user.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(view.lockedUntil != nil, forKey: .locked)
        try container.encode(view.lockedByAdmin ? nil : view.lockedUntil, forKey: .lockedUntil)
        try container.encode(view.lockedByAdmin, forKey: .lockedByAdmin)
        try container.encode(view.sessions, forKey: .sessions)
        try container.encode(view.user.lastLoginIP, forKey: .lastLoginIp)
    }
}

/// A session as an admin sees it: `{id, user_id, email, created_at, last_used_at, expires_at, ip, user_agent}`.
struct AdminSessionDTO: Encodable {
    let session: AdminSession

    enum CodingKeys: String, CodingKey { case id, userId, email, createdAt, lastUsedAt, expiresAt, ip, userAgent }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(session.session.id.uuidString.lowercased(), forKey: .id)
        try container.encode(session.session.userID.uuidString.lowercased(), forKey: .userId)
        try container.encode(session.email, forKey: .email)
        try container.encode(session.session.createdAt, forKey: .createdAt)
        try container.encode(session.session.lastUsedAt, forKey: .lastUsedAt)
        try container.encode(session.session.expiresAt, forKey: .expiresAt)
        try container.encode(session.session.ip, forKey: .ip)
        try container.encode(session.session.userAgent, forKey: .userAgent)
    }
}
