public import Foundation
public import Logging
public import PorteroCore
public import PorteroStore

/// What the auth routes need, passed in by the server (so tests can pass their own clock and mail hook).
public struct AuthServices<Store: RecordStore>: Sendable where Store.State == StoreState {
    /// Settings of SPEC §2 the routes apply.
    public struct Settings: Sendable {
        public var refreshTTL: TimeSpan
        public var codeTTL: TimeSpan
        public var lockoutMaxFailures: Int
        public var lockoutDuration: TimeSpan
        /// A code dies after this many wrong tries.
        public var codeMaxAttempts: Int = 5
        /// `rate.*`: per client address for login, register, verify-email; per email for resend and forgot.
        public var rates: RateLimits
        /// `trusted_proxies`.
        public var trustedProxies: TrustedProxies

        public init(
            refreshTTL: TimeSpan,
            codeTTL: TimeSpan,
            lockoutMaxFailures: Int,
            lockoutDuration: TimeSpan,
            rates: RateLimits = .off,
            trustedProxies: TrustedProxies = .none
        ) {
            self.refreshTTL = refreshTTL
            self.codeTTL = codeTTL
            self.lockoutMaxFailures = lockoutMaxFailures
            self.lockoutDuration = lockoutDuration
            self.rates = rates
            self.trustedProxies = trustedProxies
        }
    }

    /// Subject and text of a code mail.
    public struct ComposedMail: Sendable {
        public var subject: String
        public var text: String
        public init(subject: String, text: String) {
            self.subject = subject
            self.text = text
        }
    }

    public var store: Store
    /// Current signing keys and claims settings; replaced on SIGHUP.
    public var tokens: @Sendable () async -> TokenService
    public var hasher: PasswordHasher
    public var policy: PasswordPolicy
    /// Where password hashing runs: never an event loop.
    public var pool: BlockingWorkPool
    /// HMAC key for one-time codes (never logged).
    public var codeKey: [UInt8]
    public var settings: Settings
    /// Builds the mail for a code (`verify_email` / `reset_password`).
    public var composeMail: @Sendable (_ purpose: CodePurpose, _ code: String, _ to: String) -> ComposedMail
    /// Called after mail was queued durably, so delivery starts at once.
    public var mailQueued: @Sendable () -> Void
    public var now: @Sendable () -> Date
    public var logger: Logger
    /// Where `/password/forgot` hands its work (see ``PasswordResetQueue``); nil = inline (tests).
    public var resetQueue: PasswordResetQueue?
    /// The rate limiters of `settings.rates` (state shared by every copy of these services).
    let limiters: RateLimiters
    /// Counts login attempts in flight per email, so parallel attempts cannot outrun the lockout.
    let loginGate = LoginAttemptGate()

    public init(
        store: Store,
        tokens: @escaping @Sendable () async -> TokenService,
        hasher: PasswordHasher,
        policy: PasswordPolicy,
        pool: BlockingWorkPool,
        codeKey: [UInt8],
        settings: Settings,
        composeMail: @escaping @Sendable (CodePurpose, String, String) -> ComposedMail,
        mailQueued: @escaping @Sendable () -> Void,
        now: @escaping @Sendable () -> Date = AuthServices.wholeMilliseconds,
        logger: Logger,
        resetQueue: PasswordResetQueue? = nil
    ) {
        self.store = store
        self.tokens = tokens
        self.hasher = hasher
        self.policy = policy
        self.pool = pool
        self.codeKey = codeKey
        self.settings = settings
        self.composeMail = composeMail
        self.mailQueued = mailQueued
        self.now = now
        self.logger = logger
        self.resetQueue = resetQueue
        self.limiters = RateLimiters(settings.rates)
    }

    /// The current time cut to whole milliseconds: what the log stores, so a recovered state equals the one
    /// the running daemon had.
    public static func wholeMilliseconds() -> Date {
        Date(timeIntervalSince1970: (Date().timeIntervalSince1970 * 1000).rounded(.down) / 1000)
    }

    // MARK: Helpers shared by the routes

    /// Runs password work on the bounded pool; a full queue is 503, never an unbounded backlog.
    func hashing<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        do {
            return try await pool.run(work)
        } catch is BlockingWorkPool.Busy {
            throw PorteroError(.unavailable, "The server is busy; try again shortly.")
        } catch is BlockingWorkPool.ShutDown {
            throw PorteroError(.unavailable, "The server is shutting down; try again shortly.")
        }
    }

    /// Writes, mapping a store that cannot write to 503. The store logs its failure at `critical` once, when it
    /// happens; each refused request is an `error`, so a failed store says `crit` once, not once per request.
    func write<T: Sendable>(_ body: @Sendable (inout Transaction<StoreState>) throws -> T) async throws -> T {
        do {
            return try await store.write(body)
        } catch let error as StoreError {
            logger.error("store write refused", metadata: ["event": "store.unavailable", "error": "\(error)"])
            throw PorteroError.unavailable()
        }
    }

    /// The keyed hash a code is stored as, bound to its user and purpose.
    func codeDigest(_ code: String, userID: UUID, purpose: CodePurpose) -> String {
        Secrets.hmacHex(key: codeKey, "\(userID.uuidString.lowercased())/\(purpose.rawValue)/\(code)")
    }

    /// A new code for `user`: the records to append and the plain code (which only goes into the queued mail).
    func issueCode(for user: User, purpose: CodePurpose, now: Date) -> [Record] {
        let code = Secrets.makeCode()
        let issued = OneTimeCode(
            userID: user.id,
            purpose: purpose,
            digest: codeDigest(code, userID: user.id, purpose: purpose),
            issuedAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(settings.codeTTL.seconds))
        )
        let mail = composeMail(purpose, code, user.email)
        let queued = OutboxMail(
            id: UUID(),
            to: user.email,
            subject: mail.subject,
            text: mail.text,
            kind: purpose.rawValue,
            code: code,
            userID: user.id,
            queuedAt: now
        )
        return [.codeIssued(issued), .mailQueued(queued)]
    }

    /// Checks a code in constant time; returns the records of the outcome and whether it matched.
    func checkCode(_ code: String, user: User, purpose: CodePurpose, state: StoreState, now: Date)
        -> (matched: Bool, records: [Record])
    {
        guard let stored = state.code(userID: user.id, purpose: purpose) else { return (false, []) }
        guard stored.expiresAt > now else {
            return (false, [.codeConsumed(.init(userID: user.id, purpose: purpose))])
        }
        let matched = Secrets.constantTimeEquals(stored.digest, codeDigest(code, userID: user.id, purpose: purpose))
        if matched { return (true, [.codeConsumed(.init(userID: user.id, purpose: purpose))]) }
        return (
            false,
            [.codeFailed(.init(userID: user.id, purpose: purpose, maxAttempts: settings.codeMaxAttempts))]
        )
    }

    /// Starts a session and signs its tokens.
    func newSession(for user: User, ip: String?, userAgent: String?, now: Date) -> (RefreshSession, String) {
        let refreshToken = Secrets.makeRefreshToken()
        let session = RefreshSession(
            id: UUID(),
            userID: user.id,
            tokenDigest: Secrets.sha256Hex(refreshToken),
            createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(settings.refreshTTL.seconds)),
            ip: ip,
            userAgent: userAgent
        )
        return (session, refreshToken)
    }

    /// The token response for a session that is already durable.
    func tokenResponse(
        user: User, sessionID: UUID, refreshToken: String, now: Date, message: String?, includeUser: Bool
    )
        async throws -> TokenResponse
    {
        let service = await tokens()
        let access = try await service.issueAccessToken(
            userID: user.id,
            sessionID: sessionID,
            email: user.email,
            emailVerified: user.emailVerified,
            roles: user.roles,
            now: now
        )
        let idToken = try await service.issueIDToken(
            userID: user.id,
            email: user.email,
            emailVerified: user.emailVerified,
            name: user.name,
            phone: user.phone,
            now: now
        )
        return TokenResponse(
            message: message,
            user: includeUser ? UserDTO(user) : nil,
            accessToken: access.token,
            expiresIn: access.expiresIn,
            refreshToken: refreshToken,
            idToken: idToken
        )
    }

    /// Logs a security event of SPEC §5 once: `PORTERO_EVENT`, the user as `PORTERO_USER_ID` and
    /// `PORTERO_EMAIL_HASH` (never the address), `REMOTE_ADDR`, and any extra metadata. Never pass a secret.
    func event(
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
        var metadata = identity(userID: userID, emailKey: emailKey).merging(extra) { $1 }
        metadata["event"] = .string(event)
        if let remote { metadata["remote_addr"] = .string(remote) }
        if let requestID = RequestIdentifier.current { metadata["request_id"] = .string(requestID) }
        logger.log(level: level, message, metadata: metadata, file: file, function: function, line: line)
    }

    /// Log metadata naming a user without their address: `PORTERO_USER_ID` and `PORTERO_EMAIL_HASH`.
    func identity(userID: UUID?, emailKey: String?) -> Logger.Metadata {
        var metadata: Logger.Metadata = [:]
        if let userID { metadata["user_id"] = .string(userID.uuidString.lowercased()) }
        if let emailKey { metadata["email_hash"] = .string(Secrets.sha256Hex(emailKey)) }
        return metadata
    }
}

/// SPEC §2's `rate.*` settings.
public struct RateLimits: Sendable {
    public var login: RateLimit
    public var register: RateLimit
    public var verify: RateLimit
    public var resend: RateLimit
    public var forgot: RateLimit

    public init(login: RateLimit, register: RateLimit, verify: RateLimit, resend: RateLimit, forgot: RateLimit) {
        self.login = login
        self.register = register
        self.verify = verify
        self.resend = resend
        self.forgot = forgot
    }

    /// Every limit off.
    public static let off = RateLimits(login: .off, register: .off, verify: .off, resend: .off, forgot: .off)
}

/// One limiter per limited route; nil where the limit is off.
struct RateLimiters: Sendable {
    let login: RateLimiter?
    let register: RateLimiter?
    let verify: RateLimiter?
    let resend: RateLimiter?
    let forgot: RateLimiter?

    init(_ rates: RateLimits) {
        func make(_ limit: RateLimit) -> RateLimiter? { limit.isOff ? nil : RateLimiter(limit: limit) }
        login = make(rates.login)
        register = make(rates.register)
        verify = make(rates.verify)
        resend = make(rates.resend)
        forgot = make(rates.forgot)
    }
}

extension AuthServices: CustomStringConvertible, CustomDebugStringConvertible {
    /// Never the default reflection: it would print the code key and the dummy hash.
    public var description: String { "AuthServices" }
    public var debugDescription: String { description }
}
