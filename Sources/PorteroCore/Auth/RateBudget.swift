public import Foundation
public import Logging

/// The routes with a rate limit, and what each counts against.
public enum LimitedRoute: String, Sendable, CaseIterable {
    /// Per client address (`rate.login`, `rate.register`, `rate.verify`).
    case login, register, verify = "verify-email"
    /// Per email address (`rate.resend`, `rate.forgot`); also per client address, by `rate.verify`.
    case resend = "resend-verification", forgot = "password/forgot"
    /// Per client address, by `rate.verify`: routes that answer about an address or take a code.
    case reset = "password/reset", status = "verification-status"
    /// Per user, by `rate.login`: a password change proves the current password like a login.
    case passwordChange = "password/change"
}

/// One request's rate-limit budget: the use case spends it once it knows the key and the request is valid (at
/// once for per-address limits, after reading the email for per-email limits). The adapter reads ``decision``
/// afterwards, whatever the outcome, to tell the client its budget.
public struct RateBudget: Sendable {
    public let limiter: RateLimiter?
    public let route: LimitedRoute
    let now: Date
    /// What the limiter said, once the budget was spent.
    public private(set) var decision: RateLimiter.Decision?

    public init(limiter: RateLimiter?, route: LimitedRoute, now: Date) {
        self.limiter = limiter
        self.route = route
        self.now = now
    }

    /// A budget that never runs out (for callers no limit applies to).
    public static func unlimited(_ route: LimitedRoute) -> RateBudget {
        RateBudget(limiter: nil, route: route, now: Date())
    }

    /// Counts this request against `key`; throws 429 `rate_limited` when the window is full.
    mutating func spend(_ key: String, logger: Logger, metadata: Logger.Metadata) async throws {
        guard let limiter, decision == nil else { return }
        let decision = await limiter.acquire(key, now: now)
        self.decision = decision
        guard decision.allowed else {
            if decision.reportFull {
                logger.warning(
                    "rate limiter full: refusing new clients until a window runs out",
                    metadata: [
                        "event": "rate.limiter_full", "route": .string(route.rawValue),
                        "max_keys": .stringConvertible(limiter.maximumKeys),
                    ])
            } else if !decision.tableFull {
                logger.notice(
                    "rate limited",
                    metadata: metadata.merging(["event": "rate.limited", "route": .string(route.rawValue)]) { $1 }
                )
            }
            throw PorteroError(
                .rateLimited,
                "Too many requests; try again in \(decision.reset) seconds.",
                extra: .retryAfter(decision.reset)
            )
        }
    }
}

/// One limiter per limited route; nil where the limit is off. Shared by every copy of the services.
struct RateLimiters: Sendable {
    private let limiters: [LimitedRoute: RateLimiter]
    /// The per-client-address limits of the per-email routes (resend, forgot), beside their per-email ones.
    private let byClientAddress: [LimitedRoute: RateLimiter]

    init(_ rates: RateLimits) {
        var limiters: [LimitedRoute: RateLimiter] = [:]
        for (route, limit) in [
            (LimitedRoute.login, rates.login), (.register, rates.register), (.verify, rates.verify),
            (.resend, rates.resend), (.forgot, rates.forgot), (.reset, rates.verify), (.status, rates.verify),
            (.passwordChange, rates.login),
        ] where !limit.isOff {
            limiters[route] = RateLimiter(limit: limit)
        }
        self.limiters = limiters
        var byClientAddress: [LimitedRoute: RateLimiter] = [:]
        if !rates.verify.isOff {
            byClientAddress[.resend] = RateLimiter(limit: rates.verify)
            byClientAddress[.forgot] = RateLimiter(limit: rates.verify)
        }
        self.byClientAddress = byClientAddress
    }

    subscript(route: LimitedRoute) -> RateLimiter? { limiters[route] }

    /// The per-client-address limiter of a per-email route.
    func clientAddress(_ route: LimitedRoute) -> RateLimiter? { byClientAddress[route] }
}
