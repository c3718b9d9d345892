public import Foundation

/// The account lockout rule (SPEC §2 `lockout.*`): `maxFailures` consecutive failed logins for one email key —
/// known or not, so a 423 says nothing about existence — lock it for `duration`; while locked no password is
/// checked; a successful login, a password reset or an admin unlock clears it; after a lock expires the count
/// starts again. The count has a window of `duration` too: failures further apart than that do not add up, and an
/// entry leaves the state (at the next snapshot) when its window or its lock has run out.
///
/// The state keys an entry by the account's email key; an address without an account only by a keyed hash
/// (``stateKey(_:in:)``, SPEC §4), so the store never lists the addresses that someone tried.
public struct Lockout: Sendable {
    public let maxFailures: Int
    public let duration: TimeSpan
    /// The HMAC key of the entries of addresses without an account (never logged).
    private let addressKey: [UInt8]

    /// How a state key that is a keyed hash, not an email key, begins (an email key always holds an `@`).
    public static let hashedKeyPrefix = "hmac-sha256:"

    /// - Parameter addressKey: the HMAC key that hides addresses without an account (the daemon's code key; the
    ///   message is domain-separated).
    public init(maxFailures: Int, duration: TimeSpan, addressKey: [UInt8]) {
        self.maxFailures = maxFailures
        self.duration = duration
        self.addressKey = addressKey
    }

    /// The key of an address's entry in `state.lockouts`: its email key while an account holds it, else
    /// `hmac-sha256:` and the HMAC-SHA256 of `lockout/<email key>`, lowercase hex. An entry kept in plain for an
    /// account that is gone leaves at the next snapshot (``AuthState/compacted(now:)``).
    public func stateKey(_ emailKey: String, in state: AuthState) -> String {
        if state.user(emailKey: emailKey) != nil { return emailKey }
        return Self.hashedKeyPrefix + Secrets.hmacHex(key: addressKey, "lockout/" + emailKey)
    }

    /// Whether lockout is on.
    public var isEnabled: Bool { maxFailures > 0 }

    /// The end of the lock in force at `now`, if any.
    public func lockedUntil(_ entry: LockoutEntry?, now: Date) -> Date? {
        guard let until = entry?.lockedUntil, until > now else { return nil }
        return until
    }

    /// Failures that count towards the next lock at `now`: none after an expired lock or window.
    public func countedFailures(_ entry: LockoutEntry?, now: Date) -> Int {
        guard let entry, entry.lockedUntil == nil, !entry.isExpired(at: now) else { return 0 }
        return entry.failures
    }

    /// The record of one more failed login, and the lock it sets (or the lock a parallel attempt already set,
    /// which it keeps as it is).
    public func failure(emailKey: String, previous: LockoutEntry?, now: Date) -> (
        record: AuthRecord, lockedUntil: Date?
    ) {
        let inForce = self.lockedUntil(previous, now: now)
        let failures = (inForce != nil ? previous?.failures ?? 0 : countedFailures(previous, now: now)) + 1
        let lockedUntil =
            inForce ?? (failures >= maxFailures ? now.addingTimeInterval(TimeInterval(duration.seconds)) : nil)
        let record = AuthRecord.LoginFailure(
            emailKey: emailKey, at: now, failures: failures, lockedUntil: lockedUntil,
            expiresAt: lockedUntil ?? now.addingTimeInterval(TimeInterval(duration.seconds)))
        return (.loginFailed(record), lockedUntil)
    }

    /// The record that locks an email at once, for an attempt the gate refused; nil when a lock is already in force.
    public func refusal(emailKey: String, previous: LockoutEntry?, now: Date) -> (
        record: AuthRecord?, lockedUntil: Date
    ) {
        if let until = lockedUntil(previous, now: now) { return (nil, until) }
        let until = now.addingTimeInterval(TimeInterval(duration.seconds))
        let failures = max(countedFailures(previous, now: now) + 1, maxFailures)
        return (
            .loginFailed(.init(emailKey: emailKey, at: now, failures: failures, lockedUntil: until, expiresAt: until)),
            until
        )
    }

    /// The 423 a locked email answers.
    public static func locked(until: Date) -> PorteroError {
        PorteroError(
            .accountLocked,
            "Too many failed logins; try again later or reset your password.",
            extra: .lockedUntil(until)
        )
    }
}
