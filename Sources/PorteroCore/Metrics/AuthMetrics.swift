import Metrics

/// What the use cases count, through swift-metrics: the daemon chooses the backend (Prometheus, for `GET /metrics`);
/// without one every call is a no-op. Labels take values from closed sets only (an outcome, an error code, the kind
/// of check), never an email address, a token, a user id or anything a client typed.
enum AuthMetrics {
    /// The kinds of token check a client can ask for.
    enum TokenCheck: String {
        /// `GET /verify` (forward-auth), by Bearer token or session cookie.
        case verify
        /// `POST /introspect` (RFC 7662).
        case introspect
        /// `GET /profile`.
        case profile
    }

    /// `portero_logins_total{outcome}`: `success`, or the error code the login answered (`invalid_credentials` for
    /// an unknown email and a wrong password alike, so the metric tells no more than the answer did;
    /// `account_not_verified`, `account_locked`, `rate_limited`, `unavailable`, …).
    static func login(_ outcome: String) {
        Counter(label: "portero_logins_total", dimensions: [("outcome", outcome)]).increment()
    }

    /// `portero_token_checks_total{check, outcome}`: `active` or the error code answered (`missing_token`,
    /// `invalid_token`, `token_expired`, `token_revoked`, `insufficient_role`, …); introspection answers `active` or
    /// `inactive` only, as it does to the client.
    static func tokenCheck(_ check: TokenCheck, _ outcome: String) {
        Counter(label: "portero_token_checks_total", dimensions: [("check", check.rawValue), ("outcome", outcome)])
            .increment()
    }

    /// `portero_hash_pool_rejections_total`: password work refused because the hashing pool's queue was full (503).
    static func hashPoolRejected() {
        Counter(label: "portero_hash_pool_rejections_total").increment()
    }

    /// The label of a failure: a ``PorteroError``'s code, or `error` for anything else.
    static func outcome(of error: any Error) -> String {
        (error as? PorteroError)?.code.rawValue ?? "error"
    }
}

extension AuthService {
    /// Runs a token check and counts its outcome: `active` when it passes, the error's code when it does not.
    func measured<T>(_ check: AuthMetrics.TokenCheck, _ body: () async throws -> T) async throws -> T {
        do {
            let result = try await body()
            AuthMetrics.tokenCheck(check, "active")
            return result
        } catch {
            AuthMetrics.tokenCheck(check, AuthMetrics.outcome(of: error))
            throw error
        }
    }
}
