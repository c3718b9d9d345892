public import HummingbirdCore
public import Logging
public import NIOCore

/// The HTTP/1 settings every listener uses: the TCP and Unix-socket `Application`s and the socket-activated
/// listener all build their channel pipelines from the one ``HTTP1Channel/Configuration`` made here.
public enum HTTPListenerSettings {
    /// The most bytes of request target, header names and values one request head may have (431 beyond).
    public static let maximumHeadSize = 32 * 1024
    /// The most header fields one request may have (431 beyond).
    public static let maximumHeaderCount = 100

    /// The channel configuration: the head limits above; `idleTimeout` for a silent connection (Hummingbird's);
    /// the same time for a request body to arrive in full (``RequestBodyDeadlineHandler``, since every trickled
    /// byte restarts the idle timeout); and a ``RequestHeadErrorHandler`` so that a refused head is answered in
    /// SPEC §3's shape.
    public static func channelConfiguration(idleTimeout: TimeAmount, logger: Logger) -> HTTP1Channel.Configuration {
        HTTP1Channel.Configuration(
            additionalChannelHandlers: [
                RequestHeadErrorHandler(logger: logger),
                RequestBodyDeadlineHandler(deadline: idleTimeout, logger: logger),
            ],
            idleTimeout: idleTimeout,
            httpDecoderConfiguration: .init(
                maxHeaderFieldSize: maximumHeadSize,
                maxHeaderListSize: maximumHeadSize,
                maxHeaderFieldCount: maximumHeaderCount
            )
        )
    }
}
