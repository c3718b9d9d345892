import Foundation
import Hummingbird
public import Logging
import NIOCore
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
        let store = try await FileStore<StoreState>.open(
            directory: configuration.dataDirectory,
            configuration: FileStoreConfiguration(
                snapshotEveryRecords: configuration.snapshotEveryRecords,
                snapshotInterval: configuration.snapshotEvery.duration
            ),
            logger: logger
        )
        do {
            try await serve(store: store)
        } catch {
            await store.close(snapshot: false)
            throw error
        }
    }

    private func serve(store: FileStore<StoreState>) async throws {
        let environment = ProcessInfo.processInfo.environment
        let keys = try KeyMaterial.load(configuration: configuration, environment: environment)
        logger.info("signing key loaded", metadata: ["source": .string(keys.jwtSecretSource)])
        let tokens = TokenServiceHolder(
            await TokenService(
                signingKeys: SigningKeys.hs256(secret: keys.jwtSecret),
                issuer: configuration.issuer,
                audience: configuration.audience,
                accessTTL: configuration.accessTTL.duration,
                verificationTTL: configuration.codeTTL.duration
            )
        )
        let pool = BlockingWorkPool(queueCapacity: 64, name: "portero-hash")
        defer { pool.shutdown() }
        let hasher = try PasswordHasher(
            configuration: .init(algorithm: configuration.passwordAlgorithm == .bcrypt ? .bcrypt : .argon2id)
        )
        guard let policy = PasswordPolicy(
            minLength: configuration.passwordMinLength,
            maxLength: configuration.passwordMaxLength
        ) else {
            throw DaemonError("password.min_length must not exceed password.max_length")
        }
        let (wakeups, wake) = MailOutboxService.makeWakeups()
        let codeTTL = configuration.codeTTL
        let authServices = AuthServices(
            store: store,
            tokens: { await tokens.current },
            hasher: hasher,
            policy: policy,
            pool: pool,
            codeKey: keys.codeKey,
            settings: .init(
                refreshTTL: configuration.refreshTTL,
                codeTTL: configuration.codeTTL,
                lockoutMaxFailures: configuration.lockoutMaxFailures,
                lockoutDuration: configuration.lockoutDuration,
                rates: .init(
                    login: configuration.rateLogin,
                    register: configuration.rateRegister,
                    verify: configuration.rateVerify,
                    resend: configuration.rateResend,
                    forgot: configuration.rateForgot
                ),
                trustedProxies: TrustedProxies(configuration.trustedProxies)
            ),
            composeMail: { purpose, code, to in
                let mail = purpose == .verifyEmail
                    ? MailTemplates.verification(code: code, ttl: HumanDuration.describe(codeTTL), to: to)
                    : MailTemplates.passwordReset(code: code, ttl: HumanDuration.describe(codeTTL), to: to)
                return .init(subject: mail.subject, text: mail.text)
            },
            mailQueued: { wake.yield() },
            logger: logger
        )
        let router = PorteroRouter.build(services: authServices)
        let responder = router.buildResponder()
        let notifier = Notifier()

        var listenerNames: [String] = []
        if let listen = configuration.listen { listenerNames.append(listen.description) }
        if let socket = configuration.socketPath { listenerNames.append(socket) }
        guard !listenerNames.isEmpty else {
            throw DaemonError("nothing to serve: both listen and socket are empty")
        }
        let readiness = Readiness(expected: listenerNames.count)

        var services: [any Service] = [
            StoreService(store: store, checkInterval: .seconds(min(10, max(1, configuration.snapshotEvery.seconds)))),
            MailOutboxService(
                store: store,
                mailer: try MailTransport.make(configuration: configuration, logger: logger),
                wakeups: wakeups,
                wake: wake,
                logger: logger
            ),
        ]
        if let listen = configuration.listen {
            services.append(
                Application(
                    responder: responder,
                    configuration: .init(address: .hostname(listen.host, port: listen.port), serverName: nil),
                    onServerRunning: { channel in
                        logger.info(
                            "listening",
                            metadata: ["address": .string(channel.localAddress?.description ?? listen.description)]
                        )
                        await readiness.listenerRunning("tcp")
                    },
                    logger: logger
                )
            )
        }
        if let socketPath = configuration.socketPath {
            try UnixSocketPath.prepare(socketPath)
            let mode = configuration.socketMode
            services.append(
                Application(
                    responder: responder,
                    configuration: .init(address: .unixDomainSocket(path: socketPath), serverName: nil),
                    onServerRunning: { _ in
                        // NIO creates the socket with the process umask; set the configured mode ourselves.
                        chmod(socketPath, mode_t(mode))
                        logger.info("listening", metadata: ["socket": .string(socketPath)])
                        await readiness.listenerRunning("unix")
                    },
                    logger: logger
                )
            )
        }
        services.append(
            WatchdogService(notifier: notifier, logger: logger) {
                // The store actor answering proves the cooperative pool is alive.
                _ = await store.lastSeq
                return true
            }
        )
        services.append(
            LifecycleService(
                readiness: readiness,
                notifier: notifier,
                store: store,
                listeners: listenerNames,
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
        if let socketPath = configuration.socketPath {
            unlink(socketPath)
        }
    }
}

/// A start-up problem, said in one line.
public struct DaemonError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The Unix socket's path: its directory exists, and a stale socket left by a dead daemon is removed.
enum UnixSocketPath {
    /// - Important: call only while holding the data directory's lock.
    static func prepare(_ path: String) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty && !FileManager.default.fileExists(atPath: directory) {
            do {
                try FileManager.default.createDirectory(
                    atPath: directory,
                    withIntermediateDirectories: true,
                    attributes: [.posixPermissions: 0o755]
                )
            } catch {
                throw DaemonError("cannot create the socket directory \(directory)")
            }
        }
        var info = Glibc.stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else {
            throw DaemonError("\(path) exists and is not a socket; refusing to replace it")
        }
        guard unlink(path) == 0 else {
            throw DaemonError("cannot remove the stale socket \(path): \(String(cString: strerror(errno)))")
        }
    }
}
