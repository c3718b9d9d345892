import Logging
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request body has not arrived in full `deadline` after its head.
///
/// Hummingbird's idle timeout restarts with every request part, so a client that trickles a body a byte at a time
/// would hold its connection for as long as it likes (a "slow POST"); bodies are at most 64 KiB, so a body that
/// takes longer than this is an attack or a dead link. Nothing is answered: the request never completed, as when
/// the idle timeout fires.
final class RequestBodyDeadlineHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let deadline: TimeAmount
    private let logger: Logger
    private var timer: Scheduled<Void>?

    init(deadline: TimeAmount, logger: Logger) {
        self.deadline = deadline
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            timer?.cancel()
            let channel = context.channel
            let logger = logger
            timer = context.eventLoop.scheduleTask(in: deadline) {
                logger.debug("request body too slow; closing the connection")
                channel.close(promise: nil)
            }
        case .body:
            break
        case .end:
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }
}
