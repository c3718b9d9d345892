import Metrics

/// What the outbox counts, through swift-metrics (a no-op until the daemon bootstraps a backend). The queue's depth
/// is read from the state when `/metrics` is scraped; these count what happened since the daemon started.
enum MailMetrics {
    /// `portero_mail_attempts_total`: every delivery attempt, whatever its end.
    private static let attempts = Counter(label: "portero_mail_attempts_total")
    /// `portero_mail_deliveries_total`: messages a transport accepted.
    private static let deliveries = Counter(label: "portero_mail_deliveries_total")
    /// `portero_mail_failures_total{stage}`: `attempt` for a failed attempt that will be retried, `dead` for a
    /// message given up because its code expired.
    private static let failedAttempts = Counter(
        label: "portero_mail_failures_total", dimensions: [("stage", "attempt")])
    private static let dead = Counter(label: "portero_mail_failures_total", dimensions: [("stage", "dead")])

    static func attempted() { attempts.increment() }
    static func delivered() { deliveries.increment() }
    static func attemptFailed() { failedAttempts.increment() }
    static func gaveUp() { dead.increment() }
}
