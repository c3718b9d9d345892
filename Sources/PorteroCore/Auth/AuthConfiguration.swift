/// The settings of SPEC §2 that the auth use cases apply.
///
/// Keys: `refresh_ttl`, `session.max_age`, `registration.unverified_ttl`, `code_ttl`, `lockout.max_failures`, `lockout.duration`, `rate.login`, `rate.register`,
/// `rate.verify`, `rate.resend`, `rate.forgot`. PorteroServer reads them (`init(reader:)` there).
public struct AuthConfiguration: Sendable, Equatable {
    /// How long a refresh session lives after its last rotation.
    public var refreshTTL: TimeSpan
    /// How long a session lives after its login, whatever its rotations; 0 = no limit.
    public var sessionMaxAge: TimeSpan
    /// How long an account may stay unverified before it is removed.
    public var unverifiedTTL: TimeSpan
    /// How long a one-time code lives.
    public var codeTTL: TimeSpan
    /// Failed logins (per email) that lock it; 0 turns the lockout off.
    public var lockoutMaxFailures: Int
    /// How long a lock lasts.
    public var lockoutDuration: TimeSpan
    /// A code dies after this many wrong tries.
    public var codeMaxAttempts: Int
    /// `rate.*`: per client address for login, register and verify-email; per email for resend and forgot.
    public var rates: RateLimits

    public init(
        refreshTTL: TimeSpan = .init(seconds: 30 * 86400),
        sessionMaxAge: TimeSpan = .init(seconds: 90 * 86400),
        unverifiedTTL: TimeSpan = .init(seconds: 7 * 86400),
        codeTTL: TimeSpan = .init(seconds: 15 * 60),
        lockoutMaxFailures: Int = 5,
        lockoutDuration: TimeSpan = .init(seconds: 86400),
        codeMaxAttempts: Int = 5,
        rates: RateLimits = .off
    ) {
        self.refreshTTL = refreshTTL
        self.sessionMaxAge = sessionMaxAge
        self.unverifiedTTL = unverifiedTTL
        self.codeTTL = codeTTL
        self.lockoutMaxFailures = lockoutMaxFailures
        self.lockoutDuration = lockoutDuration
        self.codeMaxAttempts = codeMaxAttempts
        self.rates = rates
    }
}

/// SPEC §2's `rate.*` settings.
public struct RateLimits: Sendable, Equatable {
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
