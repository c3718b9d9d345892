internal import CoreFoundation
import Foundation
import Hummingbird
public import Logging
import NIOCore
import NIOPosix
import PorteroCore
import PorteroHTTP
import PorteroMail
import PorteroStore
import ServiceLifecycle
import Systemd
import UnixSignals

/// `portero serve`: opens the store, serves one router on TCP and on the Unix socket, and runs every part in
/// one `ServiceGroup` until SIGTERM/SIGINT.
public struct PorteroDaemon: Sendable {
    public let configuration: PorteroConfiguration
    public let logger: Logger

    public init(configuration: PorteroConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
    }

    /// Runs until a graceful shutdown completes.
    ///
    /// - Important: the store lock is taken before anything touches the Unix socket path, so a second daemon on
    ///   the same data directory fails before it can unlink the first one's socket.
    public func run() async throws {
        umask(0o077)
        // Bootstraps swift-metrics before the store or anything else makes a metric.
        _ = PrometheusMetrics.registry
        // Taken first, so that nothing started later (sendmail) inherits the activation environment.
        let passed = ListenFDs.take(logger: logger)
        // Before the store: a certificate that does not load is a configuration error (exit 78), not a crash later.
        let tls = try configuration.listeners.tlsCertificate.flatMap { certificate in
            try configuration.listeners.tlsKey.map { try TLSCertificates(certificate: certificate, key: $0) }
        }
        // Before the store too: a template that does not parse is a configuration error naming its file and line.
        let templates = LiveTemplates(try LiveTemplates.load(configuration.mail, appName: appName))
        let store = try await FileStore<AuthState>.open(
            directory: configuration.dataDirectory,
            configuration: configuration.snapshots.fileStore,
            logger: logger
        )
        do {
            try await serve(store: store, passed: passed, tls: tls, templates: templates)
        } catch {
            await store.close(snapshot: false)
            throw error
        }
    }

    /// The use cases, the router on every listener, the background workers and the systemd plumbing, in one group.
    private func serve(
        store: FileStore<AuthState>, passed: [ListenedSocket], tls: TLSCertificates?, templates: LiveTemplates
    ) async throws {
        LiveTemplates.log(templates.loaded, directory: configuration.mail.templates, logger: logger)
        let environment = ProcessInfo.processInfo.environment
        let keys = try KeyMaterial.load(configuration: configuration, environment: environment)
        let tokens = TokenServiceHolder(
            await Self.tokenService(configuration: configuration, keys: keys, logger: logger))
        let pool = BlockingWorkPool(queueCapacity: 64, name: "portero-hash", niceness: 10)
        defer { pool.shutdown() }
        let (wakeups, wake) = OutboxWorker.makeWakeups()
        let auth = try makeAuthService(
            store: store, tokens: tokens, pool: pool, codeKey: keys.codeKey, templates: templates, wake: wake)
        let mailer = try configuration.mail.makeMailer(logger: logger, environment: environment)
        let mailStatus = MailStatus()
        let admin = AdminService(
            store: store, backups: DataDirectoryBackup(dataDirectory: configuration.dataDirectory))
        let router = PorteroRouter.build(
            auth: auth,
            admin: admin,
            adminAccess: AdminAccess(
                daemonUID: getuid(),
                groupID: try configuration.listeners.adminGroup.map { try AdminGroup.id(named: $0) }
            ),
            trustedProxies: TrustedProxies(configuration.listeners.trustedProxies),
            tokens: { tokens.current },
            mail: mailStatus,
            logger: logger,
            browser: BrowserSessionSettings(
                cookieEnabled: configuration.browser.cookieEnabled, cookieDomain: configuration.browser.cookieDomain,
                cookieSecure: configuration.browser.cookieSecure,
                redirectHosts: Set(configuration.browser.redirectHosts)),
            signInPage: SignInPage(override: { templates.signIn }),
            metrics: PrometheusMetrics.endpoint(overTCP: configuration.metrics.tcp, admin: admin, pool: pool)
        )
        let listeners = try Listeners(passed: passed, configuration: configuration.listeners, logger: logger)
        // Every listener, the SIGHUP trap of ``ReloadService`` and the first mail check.
        let readiness = Readiness(expected: listeners.count + 2)
        let notifier = Notifier()

        let snapshotCheck = Duration.seconds(min(10, max(1, configuration.snapshots.every.seconds)))
        var services: [any Service] = [
            StoreService(store: store, checkInterval: snapshotCheck),
            PasswordResetWorker(service: auth),
            OutboxWorker(
                store: store,
                mailer: mailer,
                wakeups: wakeups,
                logger: logger,
                policy: configuration.mail.outboxPolicy(codeTTL: configuration.auth.codeTTL)
            ),
        ]
        services += try listeners.services(responder: router.buildResponder(), tls: tls, readiness: readiness)
        services += [
            WatchdogService(notifier: notifier, logger: logger) { await Self.probe(store: store) },
            ReloadService(
                initial: configuration,
                tokens: tokens,
                tls: tls,
                templates: templates,
                appName: appName,
                makeTokenService: { [logger] configuration in
                    let keys = try KeyMaterial.load(configuration: configuration, environment: environment)
                    return await Self.tokenService(configuration: configuration, keys: keys, logger: logger)
                },
                notifier: notifier,
                readiness: readiness,
                logger: logger
            ),
            MailCheckService(
                mailer: mailer, transport: configuration.mail.transport.rawValue, status: mailStatus,
                readiness: readiness, notifier: notifier, logger: logger),
            LifecycleService(readiness: readiness, notifier: notifier, store: store, mail: mailStatus, logger: logger),
        ]
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        listeners.removeBoundSocket()
    }

    /// What `{{app_name}}` says in mail: the display name of `mail.from`, else "Portero" (as started: a reload
    /// keeps it, like the `From` header).
    var appName: String { MailTemplates.appName(from: configuration.mail.from) }

    /// The token service a configuration describes, signing with the current key of `keys`; says which keys
    /// are in use (kids only, never a secret).
    static func tokenService(configuration: PorteroConfiguration, keys: KeyMaterial, logger: Logger) async
        -> TokenService
    {
        logger.info(
            "signing keys loaded",
            metadata: [
                "event": "keys.loaded",
                "source": .string(keys.signingSource),
                "algorithm": .string(keys.signing.current.algorithm.rawValue),
                "kid": .string(keys.signing.current.kid),
                "verifying_kids": .string(keys.signing.live.dropFirst().map(\.kid).joined(separator: ",")),
                "removed_kids": .string(keys.removed.map(\.kid).joined(separator: ",")),
            ]
        )
        return await TokenService(
            signingKeys: SigningKeys.make(keys.signing),
            issuer: configuration.tokens.issuer,
            audience: configuration.tokens.audience,
            accessTTL: configuration.tokens.accessTTL.duration,
            verificationTTL: configuration.auth.codeTTL.duration
        )
    }

    /// The watchdog's health probe: the store actor, the store's I/O queue (a hung `fdatasync` blocks it) and
    /// every event loop must answer.
    static func probe(store: FileStore<AuthState>) async -> Bool {
        // The store actor answering proves the cooperative pool is alive.
        _ = await store.lastSeq
        guard await ProbeCallback.answered({ store.ping(answered: $0) }) else { return false }
        for loop in MultiThreadedEventLoopGroup.singleton.makeIterator() {
            guard await ProbeCallback.answered({ loop.execute($0) }) else { return false }
        }
        return true
    }
}
