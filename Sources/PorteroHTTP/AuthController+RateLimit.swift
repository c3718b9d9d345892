import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PorteroCore
import PorteroStore

/// A limited route's budget while its handler runs: the handler spends it once it knows the key (at once for
/// per-address limits, after reading the email for per-email limits).
struct RateLimitCheck {
    let limiter: RateLimiter?
    let route: String
    let now: Date
    /// What the limiter said, once the budget was spent.
    private(set) var decision: RateLimiter.Decision?

    init(limiter: RateLimiter?, route: String, now: Date) {
        self.limiter = limiter
        self.route = route
        self.now = now
    }

    /// Counts this request against `key`; throws 429 `rate_limited` when the window is full.
    mutating func spend(_ key: String, logger: Logger, metadata: Logger.Metadata) async throws {
        guard let limiter, decision == nil else { return }
        let decision = await limiter.acquire(key, now: now)
        self.decision = decision
        guard decision.allowed else {
            var metadata = metadata.merging(["event": "rate.limited", "route": .string(route)]) { $1 }
            if let requestID = RequestIdentifier.current { metadata["request_id"] = .string(requestID) }
            logger.notice("rate limited", metadata: metadata)
            throw PorteroError(
                .rateLimited,
                "Too many requests; try again in \(decision.reset) seconds.",
                extra: .retryAfter(decision.reset)
            )
        }
    }

    /// SPEC §3: `X-RateLimit-Limit`, `-Remaining`, `-Reset` on every answer of a limited route. An answer that
    /// spent nothing (a request refused by validation) shows the whole budget.
    func apply(to headers: inout HTTPFields) {
        guard let limiter else { return }
        let limit = decision?.limit ?? limiter.limit.count
        headers[.xRateLimitLimit] = String(limit)
        headers[.xRateLimitRemaining] = String(decision?.remaining ?? limit)
        headers[.xRateLimitReset] = String(decision?.reset ?? 0)
    }
}

extension AuthController {
    /// The client's address after `trusted_proxies`.
    func client(_ context: AppRequestContext) -> ClientAddress {
        if let address = context.clientAddress { return address }
        guard !context.isUnixSocket, let peer = context.peerIPAddress else { return .unixSocket }
        return .ip(peer)
    }

    /// Runs a limited route: `handler` spends the budget through its `RateLimitCheck` once the request is valid
    /// (see ``spendAddress(_:_:)`` and ``spend(_:emailKey:_:)``); whatever it answers, error or not, carries the
    /// rate-limit headers.
    func limited(
        _ limiter: RateLimiter?,
        route: String,
        _ request: Request,
        _ context: AppRequestContext,
        _ handler: (inout RateLimitCheck) async throws -> Response
    ) async throws -> Response {
        var check = RateLimitCheck(limiter: limiter, route: route, now: services.now())
        guard limiter != nil else { return try await handler(&check) }
        var response: Response
        do {
            response = try await handler(&check)
        } catch {
            response = ErrorResponder.response(for: error, request: request, context: context)
        }
        check.apply(to: &response.headers)
        return response
    }

    /// Spends a per-address budget (login, register, verify-email).
    func spendAddress(_ check: inout RateLimitCheck, _ context: AppRequestContext) async throws {
        let client = client(context)
        try await check.spend(
            client.rateLimitKey,
            logger: logger,
            metadata: ["remote_addr": .string(client.description)]
        )
    }

    /// Spends a per-email budget (resend, forgot).
    func spend(_ check: inout RateLimitCheck, emailKey: String, _ context: AppRequestContext) async throws {
        try await check.spend(
            emailKey,
            logger: logger,
            metadata: services.identity(userID: nil, emailKey: emailKey).merging(
                ["remote_addr": .string(clientAddress(context))]
            ) { $1 }
        )
    }
}

extension HTTPField.Name {
    static let xRateLimitLimit = Self("X-RateLimit-Limit")!
    static let xRateLimitRemaining = Self("X-RateLimit-Remaining")!
    static let xRateLimitReset = Self("X-RateLimit-Reset")!
}
