import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import PorteroHTTP
import ServiceLifecycle
import Systemd

/// The daemon's listeners: sockets passed by systemd replace the configured listener of the same kind (`http`,
/// `unix`); the others are bound from `listen` and `socket`. One responder serves them all.
struct Listeners {
    let passedTCP: ListenedSocket?
    let passedUnix: ListenedSocket?
    let bindTCP: ListenAddress?
    let bindUnix: String?
    let configuration: ListenerConfiguration
    let logger: Logger

    /// Sorts out the passed sockets (closing any that is neither `http` nor `unix`, with a warning).
    init(passed: [ListenedSocket], configuration: ListenerConfiguration, logger: Logger) throws {
        passedTCP = passed.socket(named: "http")
        passedUnix = passed.socket(named: "unix")
        for unused in passed where unused != passedTCP && unused != passedUnix {
            logger.warning(
                "ignoring a passed socket that is neither http nor unix",
                metadata: ["event": "systemd.listen_fd_unused", "fd_name": .string(unused.name)]
            )
            close(unused.fd)
        }
        bindTCP = passedTCP == nil ? configuration.listen : nil
        bindUnix = passedUnix == nil ? configuration.socketPath : nil
        self.configuration = configuration
        self.logger = logger
        guard count > 0 else { throw DaemonError("nothing to serve: both listen and socket are empty") }
    }

    /// How many listeners will report to ``Readiness``.
    var count: Int {
        [passedTCP != nil, passedUnix != nil, bindTCP != nil, bindUnix != nil].filter { $0 }.count
    }

    /// How long a connection may stay silent (no request, or a request that stops arriving) before it is closed.
    static let idleTimeout = TimeAmount.seconds(30)

    /// One server per listener; TLS only on TCP (the Unix socket is local and never speaks it).
    func services(
        responder: some HTTPResponder<AppRequestContext>,
        tls: TLSCertificates?,
        readiness: Readiness
    ) throws -> [any Service] {
        // One configuration for every listener (bound or passed): idle timeout, head limits, SPEC-shaped 431/400.
        let http1 = HTTPListenerSettings.channelConfiguration(idleTimeout: Self.idleTimeout, logger: logger)
        let logger = logger
        var services: [any Service] = []
        for socket in [passedTCP, passedUnix].compactMap({ $0 }) {
            services.append(
                ActivatedSocketServer(
                    fd: socket.fd,
                    responder: responder,
                    configuration: http1,
                    tls: socket == passedTCP ? tls?.serverConfiguration : nil,
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
            let server: HTTPServerBuilder =
                try tls.map { try .tls(.http1(configuration: http1), tlsConfiguration: $0.serverConfiguration) }
                ?? .http1(configuration: http1)
            services.append(
                Application(
                    responder: responder,
                    server: server,
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
        return services
    }

    /// Removes the socket file this daemon bound (a passed socket belongs to systemd).
    func removeBoundSocket() {
        if let bindUnix { unlink(bindUnix) }
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
