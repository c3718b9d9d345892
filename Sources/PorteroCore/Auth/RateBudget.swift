public import Foundation
public import Logging

/// The routes with a rate limit, and what each counts against.
public enum LimitedRoute: String, Sendable, CaseIterable {
    /// Per client address.
    case login, register, verify = "verify-email"
    /// Per email address.
    case resend = "resend-verification", forgot = "password/forgot"
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
            logger.notice(
                "rate limited",
                metadata: metadata.merging(["event": "rate.limited", "route": .string(route.rawValue)]) { $1 }
            )
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

    init(_ rates: RateLimits) {
        var limiters: [LimitedRoute: RateLimiter] = [:]
        for (route, limit) in [
            (LimitedRoute.login, rates.login), (.register, rates.register), (.verify, rates.verify),
            (.resend, rates.resend), (.forgot, rates.forgot),
        ] where !limit.isOff {
            limiters[route] = RateLimiter(limit: limit)
        }
        self.limiters = limiters
    }

    subscript(route: LimitedRoute) -> RateLimiter? { limiters[route] }
}
