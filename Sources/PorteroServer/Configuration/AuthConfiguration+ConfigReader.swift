public import Configuration
public import PorteroCore

extension AuthConfiguration {
    public static let keys = [
        "refresh_ttl", "session.max_age", "registration.unverified_ttl", "code_ttl", "lockout.max_failures",
        "lockout.duration", "rate.login", "rate.register",
        "rate.verify", "rate.resend", "rate.forgot",
    ]

    /// Reads `refresh_ttl` (default 30d), `session.max_age` (90d; 0 = none), `registration.unverified_ttl` (7d),
    /// `code_ttl` (15m), `lockout.max_failures` (5; 0 = off),
    /// `lockout.duration` (24h) and `rate.login` (5/15m), `rate.register` (10/1h), `rate.verify` (10/15m),
    /// `rate.resend` (3/1h), `rate.forgot` (3/1h); a rate of `0` is off.
    public init(reader: ConfigReader) throws(ConfigurationError) {
        let parser = ConfigParser(reader)
        self.init(
            refreshTTL: try parser.timeSpan("refresh_ttl", default: "30d"),
            sessionMaxAge: try parser.timeSpan("session.max_age", default: "90d", zeroIsOff: true),
            unverifiedTTL: try parser.timeSpan("registration.unverified_ttl", default: "7d"),
            codeTTL: try parser.timeSpan("code_ttl", default: "15m"),
            lockoutMaxFailures: try parser.int("lockout.max_failures", default: 5, range: 0...1_000_000),
            lockoutDuration: try parser.timeSpan("lockout.duration", default: "24h"),
            rates: RateLimits(
                login: try parser.rate("rate.login", default: "5/15m"),
                register: try parser.rate("rate.register", default: "10/1h"),
                verify: try parser.rate("rate.verify", default: "10/15m"),
                resend: try parser.rate("rate.resend", default: "3/1h"),
                forgot: try parser.rate("rate.forgot", default: "3/1h")
            )
        )
    }

    func changedKeys(since old: Self) -> [String] {
        var changes = KeyChanges()
        changes.compare("refresh_ttl", old.refreshTTL, refreshTTL)
        changes.compare("session.max_age", old.sessionMaxAge, sessionMaxAge)
        changes.compare("registration.unverified_ttl", old.unverifiedTTL, unverifiedTTL)
        changes.compare("code_ttl", old.codeTTL, codeTTL)
        changes.compare("lockout.max_failures", old.lockoutMaxFailures, lockoutMaxFailures)
        changes.compare("lockout.duration", old.lockoutDuration, lockoutDuration)
        changes.compare("rate.login", old.rates.login, rates.login)
        changes.compare("rate.register", old.rates.register, rates.register)
        changes.compare("rate.verify", old.rates.verify, rates.verify)
        changes.compare("rate.resend", old.rates.resend, rates.resend)
        changes.compare("rate.forgot", old.rates.forgot, rates.forgot)
        return changes.keys
    }
}
