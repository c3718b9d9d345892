internal import CoreFoundation
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
import NIOCore
import NIOPosix
import PorteroCore
import PorteroHTTP
import PorteroMail
import PorteroStore
import ServiceLifecycle
import UnixSignals
import Systemd

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
        // Taken first, so that nothing started later (sendmail) inherits the activation environment.
        let activated = ListenFDs.take(logger: logger)
        // Before the store: a certificate that does not load is a configuration error (exit 78), not a crash later.
        let tls = try configuration.tlsCertificate.flatMap { certificate in
            try configuration.tlsKey.map { try TLSCertificates(certificate: certificate, key: $0) }
        }
        let store = try await FileStore<AuthState>.open(
            directory: configuration.dataDirectory,
            configuration: FileStoreConfiguration(
                snapshotEveryRecords: configuration.snapshotEveryRecords,
                snapshotInterval: configuration.snapshotEvery.duration
            ),
            logger: logger
        )
        do {
            try await serve(store: store, activated: activated, tls: tls)
        } catch {
            await store.close(snapshot: false)
            throw error
        }
    }

    private func serve(store: FileStore<AuthState>, activated: [ListenedSocket], tls: TLSCertificates?) async throws {
        let environment = ProcessInfo.processInfo.environment
        let keys = try KeyMaterial.load(configuration: configuration, environment: environment)
        let tokens = TokenServiceHolder(
            await Self.tokenService(configuration: configuration, keys: keys, logger: logger)
        )
        let pool = BlockingWorkPool(queueCapacity: 64, name: "portero-hash")
        defer { pool.shutdown() }
        let (wakeups, wake) = OutboxWorker.makeWakeups()
        let auth = try makeAuthService(store: store, tokens: tokens, pool: pool, codeKey: keys.codeKey, wake: wake)
        let adminAccess = AdminAccess(
            daemonUID: getuid(),
            groupID: try configuration.adminGroup.map { try AdminGroup.id(named: $0) }
        )
        let router = PorteroRouter.build(
            auth: auth,
            admin: AdminService(store: store),
            adminAccess: adminAccess,
            trustedProxies: TrustedProxies(configuration.trustedProxies),
            tokens: { await tokens.current },
            logger: logger
        )
        let responder = router.buildResponder()
        let notifier = Notifier()

        // Sockets passed by systemd replace the configured listener of the same kind; the others are bound.
        let httpSocket = activated.socket(named: "http")
        let unixSocket = activated.socket(named: "unix")
        for unused in activated where unused != httpSocket && unused != unixSocket {
            logger.warning(
                "ignoring a passed socket that is neither http nor unix",
                metadata: ["event": "systemd.listen_fd_unused", "fd_name": .string(unused.name)]
            )
            close(unused.fd)
        }
        let bindTCP = httpSocket == nil ? configuration.listen : nil
        let bindUnix = unixSocket == nil ? configuration.socketPath : nil
        let listenerCount = [httpSocket != nil, unixSocket != nil, bindTCP != nil, bindUnix != nil].filter { $0 }.count
        guard listenerCount > 0 else {
            throw DaemonError("nothing to serve: both listen and socket are empty")
        }
        // Every listener, and the SIGHUP trap of ``ReloadService``.
        let readiness = Readiness(expected: listenerCount + 1)
        // One configuration for every listener (bound or passed): idle timeout, head limits, SPEC-shaped 431/400.
        let http1 = HTTPListenerSettings.channelConfiguration(idleTimeout: Self.idleTimeout, logger: logger)

        var services: [any Service] = [
            StoreService(store: store, checkInterval: .seconds(min(10, max(1, configuration.snapshotEvery.seconds)))),
            PasswordResetWorker(service: auth),
            OutboxWorker(
                store: store,
                mailer: try configuration.makeMailer(logger: logger),
                wakeups: wakeups,
                wake: wake,
                logger: logger
            ),
        ]
        for socket in [httpSocket, unixSocket].compactMap({ $0 }) {
            services.append(
                ActivatedSocketServer(
                    fd: socket.fd,
                    responder: responder,
                    configuration: http1,
                    // TLS on the TCP listener only; the Unix socket is local and never speaks it.
                    tls: socket == httpSocket ? tls?.serverConfiguration : nil,
                    onServerRunning: { channel in
                        let address = Self.describe(channel.localAddress) ?? socket.name
                        logger.info(
                            "listening on a socket passed by systemd",
                            metadata: ["address": .string(address), "fd_name": .string(socket.name)]
                        )
                        await readiness.listenerRunning(address)
                    },
                    logger: logger
                )
            )
        }
        if let listen = bindTCP {
            services.append(
                Application(
                    responder: responder,
                    server: try tls.map {
                        try .tls(.http1(configuration: http1), tlsConfiguration: $0.serverConfiguration)
                    }
                        ?? .http1(configuration: http1),
                    configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: nil),
                    onServerRunning: { channel in
                        let address = Self.describe(channel.localAddress) ?? listen.description
                        logger.info(
                            "listening",
                            metadata: ["address": .string(address), "tls": .stringConvertible(tls != nil)]
                        )
                        await readiness.listenerRunning(address)
                    },
                    logger: logger
                )
            )
        }
        if let socketPath = bindUnix {
            try UnixSocketPath.prepare(socketPath)
            let mode = configuration.socketMode
            services.append(
                Application(
                    responder: responder,
                    server: .http1(configuration: http1),
                    configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: nil),
                    onServerRunning: { _ in
                        // NIO creates the socket with the process umask; set the configured mode ourselves.
                        chmod(socketPath, mode_t(mode))
                        logger.info("listening", metadata: ["socket": .string(socketPath)])
                        await readiness.listenerRunning(socketPath)
                    },
                    logger: logger
                )
            )
        }
        services.append(
            WatchdogService(notifier: notifier, logger: logger) {
                await Self.probe(store: store)
            }
        )
        services.append(
            ReloadService(
                initial: configuration,
                tokens: tokens,
                tls: tls,
                makeTokenService: { configuration in
                    let keys = try KeyMaterial.load(configuration: configuration, environment: environment)
                    return await Self.tokenService(configuration: configuration, keys: keys, logger: logger)
                },
                notifier: notifier,
                readiness: readiness,
                logger: logger
            )
        )
        services.append(
            LifecycleService(
                readiness: readiness,
                notifier: notifier,
                store: store,
                logger: logger
            )
        )
        let group = ServiceGroup(
            configuration: .init(
                services: services.map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        try await group.run()
        if let socketPath = bindUnix {
            unlink(socketPath)
        }
    }

    /// How long a connection may stay silent (no request, or a request that stops arriving) before it is closed.
    static let idleTimeout = TimeAmount.seconds(30)

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
            issuer: configuration.issuer,
            audience: configuration.audience,
            accessTTL: configuration.accessTTL.duration,
            verificationTTL: configuration.codeTTL.duration
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

    /// `127.0.0.1:5500`, `[::1]:5500` or a Unix socket's path, as STATUS= and the log say a listener.
    static func describe(_ address: SocketAddress?) -> String? {
        guard let address else { return nil }
        switch address {
        case .v4(let inet): return "\(inet.host):\(address.port ?? 0)"
        case .v6(let inet): return "[\(inet.host)]:\(address.port ?? 0)"
        case .unixDomainSocket: return address.pathname
        }
    }
}
