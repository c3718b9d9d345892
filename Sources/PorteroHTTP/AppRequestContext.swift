public import Hummingbird
public import NIOCore
import PorteroCore

/// The one request context of Portero: the child channel (for the peer's address and, on the Unix socket, its
/// `SO_PEERCRED`), the request id, and the JSON body once ``BodyLimitMiddleware`` has read it.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The connection the request came on.
    public let channel: any Channel
    /// Sent back as `X-Request-Id` and logged as `REQUEST_ID`.
    public var requestID: String
    /// The client's address after `trusted_proxies` (set by ``ClientAddressMiddleware``); nil before it ran.
    public var clientAddress: ClientAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
        self.requestID = RequestIdentifier.make()
    }

    /// Bodies are capped by ``BodyLimitMiddleware`` at 64 KiB.
    public var maxUploadSize: Int { BodyLimitMiddleware<Self>.maximumBodySize }

    /// True when the request came over the Unix socket.
    public var isUnixSocket: Bool {
        if case .unixDomainSocket = channel.localAddress { return true }
        return false
    }

    /// The TCP peer's address, or nil on the Unix socket (or when the peer's address cannot be read).
    public var peerIPAddress: IPAddress? {
        switch channel.remoteAddress {
        case .v4, .v6: channel.remoteAddress?.ipAddress.flatMap { IPAddress($0) }
        default: nil
        }
    }

    /// The TCP peer's address (no port), or `unix` on the Unix socket.
    public var peerAddress: String {
        switch channel.remoteAddress {
        case .v4, .v6: channel.remoteAddress?.ipAddress ?? "unknown"
        case .unixDomainSocket: "unix"
        case .none: isUnixSocket ? "unix" : "unknown"
        }
    }
}

/// Request ids: 16 random bytes, hex; a well-formed `X-Request-Id` from the client is kept instead.
enum RequestIdentifier {
    static func make() -> String {
        Secrets.hex(Secrets.randomBytes(16))
    }

    /// A client-sent id is kept only if it is short and plain, so it can never smuggle anything into a log.
    static func isAcceptable(_ value: String) -> Bool {
        (1...64).contains(value.utf8.count)
            && value.utf8.allSatisfy { byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
            }
    }
}
