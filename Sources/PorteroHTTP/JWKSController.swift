public import Hummingbird
public import PorteroCore

/// `GET /.well-known/jwks.json`: the public keys that verify Portero's tokens (RFC 7517), `{"keys":[]}` under HS256.
///
/// Every live EdDSA key is listed, the signing one and older ones that still verify, so a relying party that meets
/// an unknown `kid` after `portero keys rotate` finds it here. Nothing secret is ever in it.
public struct JWKSController: Sendable {
    let tokens: @Sendable () async -> TokenService

    public init(tokens: @escaping @Sendable () async -> TokenService) {
        self.tokens = tokens
    }

    public var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        routes.get(".well-known/jwks.json") { _, _ in
            JSONResponse.make(status: .ok, object: await tokens().signingKeys.jwks)
        }
        return routes
    }
}
