import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import PorteroCore

/// Answers a request whose head NIO's HTTP parser refused with SPEC §3's JSON error, then ends the connection.
///
/// Without it, Hummingbird answers any parser error with a bare `400` and no body. Here a head over
/// ``HTTPListenerSettings/maximumHeadSize`` or with more than ``HTTPListenerSettings/maximumHeaderCount`` fields
/// (`HTTPParserError.headerOverflow`) is `431 request_header_fields_too_large`, and any other head the parser
/// refuses (`Content-Length` with `Transfer-Encoding`, a bad length, controls in a header value, garbage) is
/// `400 validation_error`; both carry `Connection: close` and an `X-Request-Id`.
///
/// It sits between the HTTP codec and Hummingbird's request handling, so it sees every request part going up and
/// every response part going down. A parser error that arrives while a request's body is still being read is
/// left to the responder (it surfaces as that request's 400). One that arrives between requests is answered here,
/// after the responses of earlier pipelined requests, in order; the output side is then shut and the connection
/// lingers (reading and dropping what the client still sends, for at most ``lingerTime``) so that the client reads
/// the answer instead of a reset.
///
/// - Important: One instance per connection: `additionalChannelHandlers` builds a new one for each channel.
final class RequestHeadErrorHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// How long a refused connection may keep sending before it is closed.
    static let lingerTime = TimeAmount.seconds(5)

    private enum State {
        /// Requests pass through.
        case open
        /// A head was refused while earlier requests were still being answered; answered after their last part.
        case answerPending(PorteroError)
        /// The refusal is written; the input is drained until the client closes or the linger time ends.
        case answered
    }

    private let logger: Logger
    private var state = State.open
    /// Between a request's head and its end: a parser error now is about that request's body.
    private var readingBody = false
    /// Requests whose response has not been written to its end yet.
    private var unanswered = 0
    private var linger: Scheduled<Void>?

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            readingBody = true
            unanswered += 1
        case .body:
            break
        case .end:
            readingBody = false
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let isEnd = if case .end = unwrapOutboundIn(data) { true } else { false }
        context.write(data, promise: promise)
        guard isEnd else { return }
        unanswered = max(0, unanswered - 1)
        if unanswered == 0, case .answerPending(let refusal) = state {
            answer(refusal, context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        switch state {
        case .open:
            guard let parserError = error as? HTTPParserError, !readingBody else {
                context.fireErrorCaught(error)
                return
            }
            let refusal = Self.refusal(for: parserError)
            if unanswered == 0 {
                answer(refusal, context: context)
            } else {
                state = .answerPending(refusal)
            }
        case .answerPending, .answered:
            // The decoder reports every later read as `dataReceivedInErrorState`: that is the draining.
            break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case .answered = state, let event = event as? ChannelEvent, event == .inputClosed {
            context.close(promise: nil)
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        linger?.cancel()
        linger = nil
        context.fireChannelInactive()
    }

    /// SPEC §3's error for a head the parser refused.
    static func refusal(for error: HTTPParserError) -> PorteroError {
        if error == .headerOverflow {
            return PorteroError(
                .headersTooLarge,
                "The request head is larger than \(HTTPListenerSettings.maximumHeadSize / 1024) KiB or has more than "
                    + "\(HTTPListenerSettings.maximumHeaderCount) header fields."
            )
        }
        return PorteroError(
            .validationError,
            "The request is not valid HTTP/1.1.",
            extra: .fields(["request": "is not valid HTTP/1.1"])
        )
    }

    private func answer(_ refusal: PorteroError, context: ChannelHandlerContext) {
        state = .answered
        let requestID = RequestIdentifier.make()
        logger.debug(
            "request head refused",
            metadata: [
                "request_id": .string(requestID),
                "error.code": .string(refusal.code.rawValue),
            ]
        )
        var (head, body) = ErrorResponder.responseParts(for: refusal)
        head.headerFields[.connection] = "close"
        head.headerFields[.xRequestID] = requestID
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        // The client sees the end of the answer; whatever it still sends is read and dropped until it closes.
        context.close(mode: .output, promise: nil)
        let channel = context.channel
        linger = context.eventLoop.scheduleTask(in: Self.lingerTime) { channel.close(promise: nil) }
    }
}
