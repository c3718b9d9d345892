public import Foundation
public import Logging

/// The auth use cases of SPEC §3 — register, verify email, resend, login, refresh, logout, logout-all, profile,
/// password change, forgot and reset, sessions — as plain methods. Every rule lives here once: lockout, refresh
/// rotation and reuse detection, code attempts and TTLs, enumeration-safe answers, rehash on login.
///
/// Adapters (the HTTP controllers, the admin CLI through them) decode a request, call one method and encode what
/// it returns; errors are ``PorteroError``s a client may be told. A value type: copies share the store, the pool,
/// the rate limiters and the login gate.
public struct AuthService: Sendable {
    /// Where records go; the only way state changes.
    public let store: any RecordStore<AuthState>
    /// The current signing keys and claim settings; replaced on SIGHUP.
    let tokens: @Sendable () async -> TokenService
    let hasher: PasswordHasher
    let policy: PasswordPolicy
    /// Where password hashing runs: never an event loop.
    let pool: BlockingWorkPool
    let codes: OneTimeCodes
    let lockout: Lockout
    let mail: MailComposer
    /// Called after mail was queued durably, so delivery starts at once.
    let mailQueued: @Sendable () -> Void
    public let configuration: AuthConfiguration
    public let clock: TimeSource
    /// For events that no request carries (the password-reset worker).
    let logger: Logger
    let limiters: RateLimiters
    /// Counts login attempts in flight per email, so parallel attempts cannot outrun the lockout.
    let loginGate = LoginAttemptGate()
    /// Where `forgotPassword` hands its work; nil = inline (tests that want the code at once).
    let resets: PasswordResetQueue?

    /// - Parameters:
    ///   - codeKey: HMAC key of stored one-time codes (never logged).
    ///   - resets: the queue a ``PasswordResetWorker`` works through; nil issues reset codes inline.
    public init(
        store: any RecordStore<AuthState>,
        tokens: @escaping @Sendable () async -> TokenService,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        pool: BlockingWorkPool,
        codeKey: [UInt8],
        configuration: AuthConfiguration,
        mail: MailComposer,
        mailQueued: @escaping @Sendable () -> Void = {},
        clock: TimeSource = .system,
        logger: Logger,
        resets: PasswordResetQueue? = nil
    ) {
        self.store = store
        self.tokens = tokens
        self.hasher = hasher
        self.policy = policy
        self.pool = pool
        self.codes = OneTimeCodes(
            key: codeKey, ttl: configuration.codeTTL, maxAttempts: configuration.codeMaxAttempts)
        self.lockout = Lockout(
            maxFailures: configuration.lockoutMaxFailures, duration: configuration.lockoutDuration,
            addressKey: codeKey)
        self.mail = mail
        self.mailQueued = mailQueued
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.limiters = RateLimiters(configuration.rates)
        self.resets = resets
    }

    /// A fresh budget for one request to a limited route.
    public func budget(_ route: LimitedRoute) -> RateBudget {
        RateBudget(limiter: limiters[route], route: route, now: clock.now())
    }

    /// Checks a new password against the policy; returns its NFKC form, ready to hash.
    public func newPassword(_ raw: String) throws(PasswordPolicyFailure) -> NewPassword {
        NewPassword(normalized: try policy.validate(raw, algorithm: hasher.configuration.algorithm))
    }

    /// The token service in use now (keys and claim settings).
    public func currentTokens() async -> TokenService {
        await tokens()
    }

    /// Whether the store accepts writes (`/readyz`).
    public func isWritable() async -> Bool {
        await store.failure == nil
    }

    // MARK: Helpers of the use cases

    /// Runs password work on the bounded pool; a full queue is 503, never an unbounded backlog.
    func hashing<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await pool.run(work)
        } catch is BlockingWorkPool.Busy {
            AuthMetrics.hashPoolRejected()
            throw PorteroError(.unavailable, "The server is busy; try again shortly.")
        } catch is BlockingWorkPool.ShutDown {
            throw PorteroError(.unavailable, "The server is shutting down; try again shortly.")
        }
    }

    /// Writes one transaction. A ``PorteroError`` thrown by `body` passes through (nothing written); anything else
    /// is the store refusing the write, which is 503. The store logs its failure at `critical` once, when it
    /// happens; each refused request is an `error`, so a failed store says `crit` once, not once per request.
    func write<T: Sendable>(
        _ logger: Logger,
        _ body: @Sendable (inout Transaction<AuthState>) throws -> T
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

    /// A new session (one refresh-token family) for `user`, and its refresh token.
    func newSession(for user: User, caller: Caller, now: Date) -> (RefreshSession, String) {
        let refreshToken = Secrets.makeRefreshToken()
        let session = RefreshSession(
            id: UUID(),
            userID: user.id,
            tokenDigest: Secrets.sha256Hex(refreshToken),
            createdAt: now,
            expiresAt: sessionExpiry(loggedInAt: now, now: now),
            ip: caller.address,
            userAgent: caller.userAgent
        )
        return (session, refreshToken)
    }

    /// When a session used at `now` expires: `refresh_ttl` later, but never past `session.max_age` after its login.
    func sessionExpiry(loggedInAt login: Date, now: Date) -> Date {
        let sliding = now.addingTimeInterval(TimeInterval(configuration.refreshTTL.seconds))
        guard configuration.sessionMaxAge.seconds > 0 else { return sliding }
        return min(sliding, login.addingTimeInterval(TimeInterval(configuration.sessionMaxAge.seconds)))
    }

    /// Signs the tokens of a session that is already durable.
    func signIn(user: User, sessionID: UUID, refreshToken: String, now: Date) async throws -> SignedIn {
        let service = await tokens()
        let access = try service.issueAccessToken(
            userID: user.id,
            sessionID: sessionID,
            email: user.email,
            emailVerified: user.emailVerified,
            roles: user.roles,
            now: now
        )
        let idToken = try service.issueIDToken(
            userID: user.id,
            email: user.email,
            emailVerified: user.emailVerified,
            name: user.name,
            phone: user.phone,
            now: now
        )
        return SignedIn(
            user: user, sessionID: sessionID, accessToken: access.token, expiresIn: access.expiresIn,
            refreshToken: refreshToken, idToken: idToken)
    }

    /// Logs a security event of SPEC §5 once: `PORTERO_EVENT`, the user as `PORTERO_USER_ID` and
    /// `PORTERO_EMAIL_HASH` (never the address), `REMOTE_ADDR`, and any extra metadata. Never pass a secret.
    func event(
        _ logger: Logger,
        _ level: Logger.Level,
        _ message: Logger.Message,
        event: String,
        userID: UUID? = nil,
        emailKey: String? = nil,
        remote: String? = nil,
        _ extra: Logger.Metadata = [:],
        file: String = #fileID,
        function: String = #function,
        line: UInt = #line
    ) {
        var metadata = Self.identity(userID: userID, emailKey: emailKey).merging(extra) { $1 }
        metadata["event"] = .string(event)
        if let remote { metadata["remote_addr"] = .string(remote) }
        logger.log(level: level, message, metadata: metadata, file: file, function: function, line: line)
    }

    /// Log metadata naming a user without their address: `PORTERO_USER_ID` and `PORTERO_EMAIL_HASH`.
    static func identity(userID: UUID?, emailKey: String?) -> Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        if let userID { metadata["user_id"] = .string(userID.uuidString.lowercased()) }
        if let emailKey { metadata["email_hash"] = .string(Secrets.sha256Hex(emailKey)) }
        return metadata
    }

    /// Spends a per-address budget (login, register, verify-email).
    func spendAddress(_ budget: inout RateBudget, _ caller: Caller) async throws {
        try await budget.spend(
            caller.addressKey, logger: caller.logger, metadata: ["remote_addr": .string(caller.address)])
    }

    /// Spends the per-client-address budget of a per-email route (resend, forgot): 429 when it is out. Its
    /// headers are not shown (the route's own per-email budget is).
    func spendClientAddress(_ route: LimitedRoute, _ caller: Caller) async throws {
        var budget = RateBudget(limiter: limiters.clientAddress(route), route: route, now: clock.now())
        try await spendAddress(&budget, caller)
    }

    /// Spends a per-email budget (resend, forgot).
    func spendEmail(_ budget: inout RateBudget, emailKey: String, _ caller: Caller) async throws {
        try await budget.spend(
            emailKey,
            logger: caller.logger,
            metadata: Self.identity(userID: nil, emailKey: emailKey).merging(
                ["remote_addr": .string(caller.address)]) { $1 }
        )
    }
}

extension AuthService: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never the default reflection: it would print the code key and the dummy hash.
    public var description: String { "AuthService" }
    public var debugDescription: String { description }
}

/// A password that passed the policy, in its NFKC form.
public struct NewPassword: Sendable {
    let normalized: String
}

/// What a successful sign-in (login, verify-email, refresh, password change) hands back: a durable session and
/// its signed tokens.
public struct SignedIn: Sendable {
    public var user: User
    public var sessionID: UUID
    public var accessToken: String
    /// Seconds.
    public var expiresIn: Int
    public var refreshToken: String
    public var idToken: String
}
