import HTTPTypes
public import Hummingbird

/// Works out the client's address once per request (SPEC §2 `trusted_proxies`): the TCP peer, or the first
/// untrusted `X-Forwarded-For` hop behind trusted proxies. Rate limits, sessions, `last_login_ip` and logs use it.
public struct ClientAddressMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    let trustedProxies: TrustedProxies

    public init(trustedProxies: TrustedProxies) {
        self.trustedProxies = trustedProxies
    }

    public func handle(
        _ request: Request,
        context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        let peer = context.peerIPAddress
        if peer != nil || context.isUnixSocket {
            context.clientAddress = trustedProxies.clientAddress(
                peer: peer,
                forwardedFor: request.headers[values: .xForwardedFor]
            )
        }
        return try await next(request, context)
    }
}

extension HTTPField.Name {
    static let xForwardedFor = Self("X-Forwarded-For")!
}
