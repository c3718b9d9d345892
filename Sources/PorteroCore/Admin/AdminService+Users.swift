public import Foundation
public import Logging

/// The process that asked for an admin action, as the kernel told the adapter (`SO_PEERCRED`), and the request's
/// logger. Every action is logged and recorded with it.
public struct AdminPeer: Sendable {
    public var uid: UInt32
    public var pid: Int32
    /// The uid's name in the user database, if it has one.
    public var userName: String?
    public var logger: Logger

    public init(uid: UInt32, pid: Int32, userName: String?, logger: Logger) {
        self.uid = uid
        self.pid = pid
        self.userName = userName
        self.logger = logger
    }
}

/// How an admin names a user: by id, or by email address (compared as logins compare it).
public enum UserReference: Sendable, Equatable {
    case id(UUID)
    case email(Email)

    /// A UUID is an id; anything else must be an email address (400 `validation_error` naming `user` otherwise).
    public init(parsing text: String) throws(PorteroError) {
        if let id = UUID(uuidString: text) {
            self = .id(id)
            return
        }
        do {
            self = .email(try Email(validating: text))
        } catch {
            throw PorteroError.validation(["user": "must be a user id or an email address"])
        }
    }
}

/// A user as an admin sees it: the account and whether it is locked now.
public struct AdminUser: Sendable, Equatable {
    public var user: User
    /// The end of the lock in force; `Date.distantFuture` for an admin's lock.
    public var lockedUntil: Date?
    /// Whether the lock is an admin's (ended only by an admin's unlock).
    public var lockedByAdmin: Bool
    /// Live refresh sessions.
    public var sessions: Int
}

/// A session as an admin sees it: the refresh session and whose it is.
public struct AdminSession: Sendable, Equatable {
    public var session: RefreshSession
    public var email: String
}

/// Which users to list, and where a page starts.
public struct UserQuery: Sendable, Equatable {
    /// Addresses starting with this (compared as logins compare addresses).
    public var emailPrefix: String?
    public var verified: Bool?
    public var locked: Bool?
    public var role: String?
    public var limit: Int
    /// The `next_cursor` of the page before.
    public var cursor: String?

    public static let defaultLimit = 50
    public static let maximumLimit = 500

    public init(
        emailPrefix: String? = nil, verified: Bool? = nil, locked: Bool? = nil, role: String? = nil,
        limit: Int = UserQuery.defaultLimit, cursor: String? = nil
    ) {
        self.emailPrefix = emailPrefix
        self.verified = verified
        self.locked = locked
        self.role = role
        self.limit = limit
        self.cursor = cursor
    }
}

/// One page of users, oldest account first; `nextCursor` is nil on the last page.
public struct UserPage: Sendable, Equatable {
    public var users: [AdminUser]
    public var nextCursor: String?
}

extension AdminService {
    /// Users matching `query`, ordered by creation (then id), `query.limit` at a time. The cursor names the last
    /// user of the page before by its position, so a user deleted in between does not break paging.
    public func users(_ query: UserQuery) async throws(PorteroError) -> UserPage {
        guard (1...UserQuery.maximumLimit).contains(query.limit) else {
            throw PorteroError.validation(["limit": "must be between 1 and \(UserQuery.maximumLimit)"])
        }
        let after = try query.cursor.map { cursor throws(PorteroError) in try Self.position(cursor) }
        let state = await store.state
        let now = clock.now()
        let prefix = query.emailPrefix.map { Email.key(for: $0.trimmingCharacters(in: .whitespaces)) }
        var matching = state.users.values.filter { user in
            guard !user.isExpiredUnverified(at: now) else { return false }
            if let prefix, !user.emailKey.hasPrefix(prefix) { return false }
            if let verified = query.verified, user.emailVerified != verified { return false }
            if let role = query.role, !user.roles.contains(role) { return false }
            if let locked = query.locked, (Self.lock(of: user, in: state, now: now) != nil) != locked { return false }
            if let after, !Self.isOrdered(after, Self.position(of: user)) { return false }
            return true
        }
        matching.sort { Self.isOrdered(Self.position(of: $0), Self.position(of: $1)) }
        let page = matching.prefix(query.limit)
        let next = matching.count > query.limit ? page.last.map { Self.cursor(Self.position(of: $0)) } : nil
        return UserPage(users: page.map { Self.view($0, state: state, now: now) }, nextCursor: next)
    }

    /// One user; 404 `user_not_found`.
    public func user(_ reference: UserReference) async throws(PorteroError) -> AdminUser {
        let state = await store.state
        let now = clock.now()
        return Self.view(try Self.find(reference, in: state, now: now), state: state, now: now)
    }

    /// Marks the address verified, as a verify-email would (the pending code dies); 409 `already_verified`.
    public func verify(_ reference: UserReference, peer: AdminPeer) async throws -> AdminUser {
        try changed(
            await act("user_verified", "user verified by an admin", reference, peer) { transaction, user, now in
                guard !user.emailVerified else {
                    throw PorteroError(.alreadyVerified, "This email address is already verified.")
                }
                transaction.append(.userVerified(.init(userID: user.id, at: now)))
                if transaction.state.code(userID: user.id, purpose: .verifyEmail) != nil {
                    transaction.append(.codeConsumed(.init(userID: user.id, purpose: .verifyEmail)))
                }
            })
    }

    /// Locks the account until an admin unlocks it: logins answer 423 without checking the password, a password
    /// reset does not end it, and every session and access token of the user is revoked at once.
    public func lock(_ reference: UserReference, peer: AdminPeer) async throws -> AdminUser {
        try changed(
            await act("user_locked", "user locked by an admin", reference, peer) { transaction, user, now in
                transaction.append(.userLocked(.init(userID: user.id, emailKey: user.emailKey, at: now)))
                transaction.append(.userTokensRevoked(.init(userID: user.id, at: now)))
            })
    }

    /// Ends any lock of the account — an admin's, or one of failed logins — and its failure count.
    public func unlock(_ reference: UserReference, peer: AdminPeer) async throws -> AdminUser {
        try changed(
            await act("user_unlocked", "user unlocked by an admin", reference, peer) { transaction, user, _ in
                transaction.append(.lockoutCleared(.init(emailKey: user.emailKey, byAdmin: true)))
            })
    }

    /// Replaces the user's roles. Access tokens already issued keep the roles they were signed with until they
    /// expire (`access_ttl`); revoking the user's sessions ends them at once.
    public func setRoles(_ reference: UserReference, roles: [String], peer: AdminPeer) async throws -> AdminUser {
        let roles = try Self.validRoles(roles)
        return try changed(
            await act(
                "roles_set", "roles set by an admin", reference, peer, ["roles": .string(roles.joined(separator: ","))]
            ) {
                transaction, user, now in
                transaction.append(.userUpdated(.init(userID: user.id, at: now, roles: roles)))
            })
    }

    /// Deletes the account with its sessions, codes, lock and queued mail; the address can register again.
    /// Its access tokens stop verifying with their sessions.
    public func delete(_ reference: UserReference, peer: AdminPeer) async throws {
        _ = try await act("user_deleted", "user deleted by an admin", reference, peer) { transaction, user, now in
            let queued = transaction.state.outbox.values.filter { $0.userID == user.id }.map(\.id)
            transaction.append(.userDeleted(.init(userID: user.id, at: now)))
            if transaction.state.lockouts[user.emailKey] != nil {
                transaction.append(.lockoutCleared(.init(emailKey: user.emailKey, byAdmin: true)))
            }
            for id in queued.sorted(by: { $0.uuidString < $1.uuidString }) {
                transaction.append(.mailDone(.init(id: id, delivered: false)))
            }
        }
    }

    /// Live sessions, of one user or of everyone, oldest first.
    public func sessions(of reference: UserReference?) async throws(PorteroError) -> [AdminSession] {
        let state = await store.state
        let now = clock.now()
        let sessions: [RefreshSession]
        if let reference {
            sessions = state.sessions(userID: try Self.find(reference, in: state, now: now).id)
        } else {
            sessions = state.sessions.values.sorted {
                ($0.createdAt, $0.id.uuidString) < ($1.createdAt, $1.id.uuidString)
            }
        }
        return sessions.filter { $0.expiresAt > now }.compactMap { session in
            state.user(id: session.userID).map { AdminSession(session: session, email: $0.email) }
        }
    }

    /// Revokes one session (its refresh token and its access tokens); 404 `session_not_found`.
    public func revokeSession(id: UUID, peer: AdminPeer) async throws {
        let now = clock.now()
        let userID = try await write(peer.logger) { transaction -> UUID in
            guard let session = transaction.state.sessions[id], session.expiresAt > now else {
                throw PorteroError(.sessionNotFound, "No such session.")
            }
            transaction.append(.sessionRevoked(.init(sessionID: id, reason: "admin")))
            transaction.append(.adminAction(Self.audit("session_revoked", session.userID, id, peer, now)))
            return session.userID
        }
        Self.event(
            peer, "session_revoked", "session revoked by an admin", userID: userID,
            ["session_id": .string(id.uuidString.lowercased())])
    }

    /// Revokes every session and access token of the user; returns how many sessions there were.
    @discardableResult
    public func revokeSessions(of reference: UserReference, peer: AdminPeer) async throws -> Int {
        try await act("sessions_revoked", "all sessions of a user revoked by an admin", reference, peer) {
            transaction, user, now in
            let count = transaction.state.sessions(userID: user.id).filter { $0.expiresAt > now }.count
            transaction.append(.userTokensRevoked(.init(userID: user.id, at: now)))
            return count
        }.result
    }

    // MARK: Helpers

    /// Runs one action on one user in one transaction with its audit record, then logs its event; returns what
    /// `change` returned and the user after it (nil once deleted).
    private func act<T: Sendable>(
        _ action: String, _ message: Logger.Message, _ reference: UserReference, _ peer: AdminPeer,
        _ extra: Logger.Metadata = [:],
        _ change: @escaping @Sendable (inout Transaction<AuthState>, User, Date) throws -> T
    ) async throws -> (result: T, user: AdminUser?) {
        let now = clock.now()
        let (userID, result, view) = try await write(peer.logger) { transaction -> (UUID, T, AdminUser?) in
            let user = try Self.find(reference, in: transaction.state, now: now)
            let result = try change(&transaction, user, now)
            transaction.append(.adminAction(Self.audit(action, user.id, nil, peer, now)))
            let after = transaction.state.user(id: user.id).map { Self.view($0, state: transaction.state, now: now) }
            return (user.id, result, after)
        }
        Self.event(peer, action, message, userID: userID, extra)
        return (result, view)
    }

    /// The user an action left in place.
    private func changed<T>(_ outcome: (result: T, user: AdminUser?)) throws -> AdminUser {
        guard let user = outcome.user else { throw PorteroError(.userNotFound, "No such user.") }
        return user
    }

    /// Writes one transaction; a ``PorteroError`` from `body` passes through, anything else is the store refusing
    /// the write (503).
    func write<T: Sendable>(
        _ logger: Logger, _ body: @Sendable (inout Transaction<AuthState>) throws -> T
    ) async throws -> T {
        do {
            return try await store.write(body)
        } catch let error as PorteroError {
            throw error
        } catch {
            logger.error("store write refused", metadata: ["event": "store.unavailable", "error": "\(error)"])
            throw PorteroError.unavailable()
        }
    }

    static func audit(_ action: String, _ userID: UUID, _ sessionID: UUID?, _ peer: AdminPeer, _ now: Date)
        -> AuthRecord.AdminAudit
    {
        .init(
            action: action, userID: userID, sessionID: sessionID, peerUID: peer.uid, peerPID: peer.pid,
            peerUser: peer.userName, at: now)
    }

    /// `PORTERO_EVENT=admin.<action>` at notice with the peer and the target user.
    static func event(
        _ peer: AdminPeer, _ action: String, _ message: Logger.Message, userID: UUID?, _ extra: Logger.Metadata = [:]
    ) {
        var metadata: Logger.Metadata = [
            "event": .string("admin." + action), "peer_uid": .stringConvertible(peer.uid),
            "peer_pid": .stringConvertible(peer.pid),
        ]
        if let userID { metadata["user_id"] = .string(userID.uuidString.lowercased()) }
        if let name = peer.userName { metadata["peer_user"] = .string(name) }
        peer.logger.notice(message, metadata: metadata.merging(extra) { $1 })
    }

    static func find(_ reference: UserReference, in state: AuthState, now: Date) throws(PorteroError) -> User {
        let user: User? =
            switch reference {
            case .id(let id): state.user(id: id)
            case .email(let email): state.user(emailKey: email.key)
            }
        guard let user, !user.isExpiredUnverified(at: now) else {
            throw PorteroError(.userNotFound, "No such user.")
        }
        return user
    }

    static func view(_ user: User, state: AuthState, now: Date) -> AdminUser {
        let entry = state.lockouts[user.emailKey]
        let until = lock(of: user, in: state, now: now)
        return AdminUser(
            user: user, lockedUntil: until, lockedByAdmin: until != nil && entry?.byAdmin == true,
            sessions: state.sessions(userID: user.id).filter { $0.expiresAt > now }.count)
    }

    static func lock(of user: User, in state: AuthState, now: Date) -> Date? {
        guard let until = state.lockouts[user.emailKey]?.lockedUntil, until > now else { return nil }
        return until
    }

    /// Roles: 1–64 characters of `a-z A-Z 0-9 _ . : -` each, at most 32, duplicates dropped (order kept).
    static func validRoles(_ roles: [String]) throws(PorteroError) -> [String] {
        guard roles.count <= 32 else { throw PorteroError.validation(["roles": "at most 32 roles"]) }
        var seen: Set<String> = []
        var result: [String] = []
        for role in roles {
            let valid =
                (1...64).contains(role.utf8.count)
                && role.utf8.allSatisfy { byte in
                    (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
                        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") || byte == UInt8(ascii: ":")
                        || byte == UInt8(ascii: "-")
                }
            guard valid else {
                throw PorteroError.validation(["roles": "each role is 1-64 characters of letters, digits, _ . : -"])
            }
            if seen.insert(role).inserted { result.append(role) }
        }
        return result
    }

    // MARK: Cursor

    typealias Position = (milliseconds: Int64, id: String)

    static func position(of user: User) -> Position {
        (Int64((user.createdAt.timeIntervalSince1970 * 1000).rounded(.down)), user.id.uuidString.lowercased())
    }

    static func isOrdered(_ lhs: Position, _ rhs: Position) -> Bool {
        (lhs.milliseconds, lhs.id) < (rhs.milliseconds, rhs.id)
    }

    static func cursor(_ position: Position) -> String { "\(position.milliseconds)_\(position.id)" }

    static func position(_ cursor: String) throws(PorteroError) -> Position {
        let parts = cursor.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2, let milliseconds = Int64(parts[0]), let id = UUID(uuidString: String(parts[1]))
        else { throw PorteroError.validation(["cursor": "is not a cursor this server gave"]) }
        return (milliseconds, id.uuidString.lowercased())
    }
}
