import Metrics
import PorteroCore
import PorteroHTTP
import Prometheus

/// The process's swift-metrics backend (swift-prometheus) and the exposition `GET /metrics` answers.
///
/// Core, the store, the outbox and the HTTP adapter record through swift-metrics only; this is the one place that
/// knows the backend is Prometheus.
enum PrometheusMetrics {
    /// The registry every metric of the process lives in. The first use bootstraps swift-metrics with it (once per
    /// process, as swift-metrics requires).
    ///
    /// - Important: touch it before anything records a metric (``PorteroDaemon/run()`` does so first), so that no
    ///   metric object is made against swift-metrics' no-op default.
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        // Requests and syncs take microseconds to milliseconds; the defaults start at 5 ms.
        factory.durationHistogramBuckets = [
            "portero_http_request_duration_seconds": [
                .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5),
            ],
            "portero_store_fsync_seconds": [
                .microseconds(50), .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1),
                .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                .milliseconds(100), .milliseconds(250), .seconds(1),
            ],
        ]
        factory.valueHistogramBuckets = [
            "portero_store_commit_batch_size": [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    /// `GET /metrics`: brings the gauges read from the state (users, sessions, queued mail) and the hashing pool
    /// up to date, then renders the whole registry.
    static func endpoint(overTCP: Bool, admin: AdminService, pool: BlockingWorkPool) -> MetricsEndpoint {
        let registry = self.registry
        func gauge(_ name: String, _ help: String) -> Prometheus.Gauge {
            registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, helpText: help))
        }
        let users = gauge("portero_users", "Accounts in the store (verified or not).")
        let verifiedUsers = gauge("portero_users_verified", "Accounts whose email address is verified.")
        let sessions = gauge("portero_sessions", "Refresh sessions that have not expired.")
        let mailQueue = gauge("portero_mail_queue_depth", "Mail waiting to be delivered (queued or retrying).")
        let hashQueue = gauge(
            "portero_hash_pool_queue_depth", "Password hashing jobs waiting for a thread of the bounded pool.")
        return MetricsEndpoint(overTCP: overTCP) {
            let stats = await admin.stats()
            users.set(Int64(stats.users))
            verifiedUsers.set(Int64(stats.verifiedUsers))
            sessions.set(Int64(stats.sessions))
            mailQueue.set(Int64(stats.queuedMail))
            hashQueue.set(Int64(pool.waitingCount))
            return registry.emitToBuffer()
        }
    }
}
