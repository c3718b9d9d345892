import Hummingbird
import HummingbirdCore
import Glibc
import HummingbirdTLS
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import PorteroHTTP
import ServiceLifecycle
import Synchronization

/// Serves the router on a listening socket that systemd passed in (socket activation), beside the `Application`s.
///
/// This path exists because Hummingbird's `BindAddress` can only bind a host and port or a Unix socket path; it has
/// no case for an already-open file descriptor. So the same `HTTP1Channel` an `Application` would build runs here on
/// NIO's `ServerBootstrap.bind(NIOBSDSocket.Handle)`, with the same responder and request context, and with the
/// graceful quiescing HummingbirdCore's `Server` does: on graceful shutdown the listener closes, every open
/// connection is told to finish its request and close (`ChannelShouldQuiesceEvent`), and `run()` returns once they
/// have.
///
/// - Important: The socket belongs to systemd: nothing here unlinks or chmods a Unix socket's path.
struct ActivatedSocketServer<Responder: HTTPResponder>: Service, CustomStringConvertible
where Responder.Context == AppRequestContext {
    /// The listening socket passed in `LISTEN_FDS`; closed when the service ends.
    let fd: Int32
    let responder: Responder
    let configuration: HTTP1Channel.Configuration
    /// When set, connections speak TLS first (the `http` socket with `tls.*` configured).
    let tls: TLSConfiguration?
    /// Called once the listener accepts connections, with the listening channel.
    let onServerRunning: @Sendable (any Channel) async -> Void
    let logger: Logger

    /// What service-lifecycle logs for this service.
    var description: String { "ActivatedSocketServer(fd: \(fd))" }

    func run() async throws {
        let logger = self.logger
        let responder = self.responder
        let http = HTTP1Channel(
            responder: { (request: Request, writer: consuming ResponseWriter, channel: any Channel) in
                let context = Responder.Context(source: .init(channel: channel, logger: logger))
                var response: Response
                do {
                    response = try await responder.respond(to: request, context: context)
                } catch let error as HTTPParserError {
                    // The channel handler answers a bare 400 and closes, as `Application` does.
                    throw error
                } catch {
                    logger.debug("unrecognised error", metadata: ["error.type": .string("\(type(of: error))")])
                    response = Response(status: .internalServerError)
                }
                // `Application` adds Date from its internal cache; RFC 9110 §6.6.1 wants it here too.
                response.headers[.date] = HTTPDate.now()
                do {
                    try await writer.write(response: response.head, body: response.body)
                } catch is HTTPParserError {
                    // Rethrowing a parser error here would make the channel handler write a second response.
                    throw ResponseAbandoned()
                }
            },
            configuration: configuration
        )
        if let tls {
            try await serve(TLSChannel(http, tlsConfiguration: tls))
        } else {
            try await serve(http)
        }
    }

    /// Accepts connections on the passed socket and runs `childChannel` on each until graceful shutdown.
    private func serve<ChildChannel: ServerChildChannel>(_ http: ChildChannel) async throws {
        let logger = self.logger
        let children = QuiescingChildren()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            .bind(NIOBSDSocket.Handle(fd), serverBackPressureStrategy: nil) { channel in
                children.add(channel)
                return http.setup(channel: channel, logger: logger)
            }
        await withGracefulShutdownHandler {
            await onServerRunning(server.channel)
            await withDiscardingTaskGroup { group in
                do {
                    try await server.executeThenClose { inbound in
                        for try await child in inbound {
                            group.addTask { await http.handle(value: child, logger: logger) }
                        }
                    }
                } catch {
                    logger.error("socket-activated listener failed", metadata: ["error": .string("\(error)")])
                }
            }
        } onGracefulShutdown: {
            children.quiesce(listener: server.channel)
        }
    }
}

/// Thrown to end a connection whose response could not be written.
private struct ResponseAbandoned: Error {}

/// The connections of one listener, so that graceful shutdown can ask each to finish and close.
private final class QuiescingChildren: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        var quiescing = false
    }

    private let state = Mutex(State())

    /// Tracks `channel` until it closes; a connection accepted after shutdown began is told to quiesce at once.
    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        let quiescing = state.withLock { state in
            if !state.quiescing { state.channels[id] = channel }
            return state.quiescing
        }
        if quiescing {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
            return
        }
        channel.closeFuture.whenComplete { [self] _ in
            state.withLock { $0.channels[id] = nil }
        }
    }

    /// Stops accepting, then asks every open connection to close once its current request is answered.
    func quiesce(listener: any Channel) {
        listener.close(promise: nil)
        let open = state.withLock { state in
            state.quiescing = true
            return Array(state.channels.values)
        }
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }
}
