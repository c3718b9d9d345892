import Foundation
import HTTPTypes
import Hummingbird
import PorteroCore

extension AuthController {
    /// Who is asking: the client's address after `trusted_proxies`, its `User-Agent`, the request's logger.
    func caller(_ request: Request, _ context: AppRequestContext) -> Caller {
        let client = context.client
        return Caller(
            address: client.description, addressKey: client.rateLimitKey, userAgent: Self.userAgent(request),
            logger: context.logger)
    }

    /// The `User-Agent`, shortened and without control characters (it is shown back in `/sessions`).
    static func userAgent(_ request: Request) -> String? {
        guard let agent = request.headers[.userAgent] else { return nil }
        let clean = String(
            String.UnicodeScalarView(agent.unicodeScalars.filter { !JSONBody.isControl($0) }).prefix(256))
        return clean.isEmpty ? nil : clean
    }

    /// The token of `Authorization: Bearer <token>`; nil when none was sent.
    static func bearerToken(_ request: Request) throws(PorteroError) -> String? {
        guard let header = request.headers[.authorization] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = String(parts[1])
        // Bytes, not `String.contains(_: String)`, which goes through Foundation's locale-aware search.
        guard !token.isEmpty, !token.utf8.contains(UInt8(ascii: " ")) else { throw TokenService.invalid }
        return token
    }

    /// The Bearer access token, checked: 401 `missing_token`, `invalid_token`, `token_expired`, `token_revoked`.
    func authenticate(_ request: Request) async throws -> Authenticated {
        try await auth.authenticate(accessToken: try Self.bearerToken(request))
    }

    /// Who a verification request is about: the Bearer verification token, else the body's `email`.
    func verificationSubject(_ request: Request, _ body: inout JSONBody) throws -> VerificationSubject {
        if let token = try Self.bearerToken(request) {
            try body.finish()
            return .token(token)
        }
        let email = body.email()
        try body.finish()
        guard let email else { throw PorteroError.validation(["email": "is required"]) }
        return .email(email)
    }

    /// A new password checked against the policy; a refusal is recorded as a problem of `field`.
    func newPassword(_ raw: String?, field: String, _ body: inout JSONBody) -> NewPassword? {
        guard let raw else { return nil }
        do {
            return try auth.newPassword(raw)
        } catch {
            body.problem(field, error.reason)
            return nil
        }
    }

    /// The `name` (or `nombre`, `full_name`) and `phone` (or `telefono`) fields, checked.
    func profileFields(_ body: inout JSONBody) -> ProfileFields {
        let (fields, problems) = ProfileFields.validate(
            name: body.string("name", aliases: ["nombre", "full_name"], required: false),
            phone: body.string("phone", aliases: ["telefono"], required: false)
        )
        for (field, reason) in problems { body.problem(field, reason) }
        return fields
    }

    /// The optional `locale` field (a BCP 47 tag such as `es` or `pt-BR`), checked.
    func languageTag(_ body: inout JSONBody) -> LanguageTag? {
        guard let raw = body.string("locale", required: false) else { return nil }
        guard let tag = LanguageTag(raw) else {
            body.problem("locale", LanguageTag.problem)
            return nil
        }
        return tag
    }

    /// Runs a rate-limited route: the handler's use case spends the budget once the request is valid; whatever
    /// it answers, error or not, carries SPEC §3's `X-RateLimit-*` headers.
    func limited(
        _ route: LimitedRoute,
        _ request: Request,
        _ context: AppRequestContext,
        _ handler: (Request, AppRequestContext, inout RateBudget) async throws -> Response
    ) async throws -> Response {
        var budget = auth.budget(route)
        guard let limiter = budget.limiter else { return try await handler(request, context, &budget) }
        var response: Response
        do {
            response = try await handler(request, context, &budget)
        } catch {
            response = ErrorResponder.response(for: error, request: request, context: context)
        }
        // An answer that spent nothing (a request refused by validation) shows the whole budget.
        let limit = budget.decision?.limit ?? limiter.limit.count
        response.headers[.xRateLimitLimit] = String(limit)
        response.headers[.xRateLimitRemaining] = String(budget.decision?.remaining ?? limit)
        response.headers[.xRateLimitReset] = String(budget.decision?.reset ?? 0)
        return response
    }
}

extension AppRequestContext {
    /// The client's address after `trusted_proxies`.
    var client: ClientAddress {
        if let clientAddress { return clientAddress }
        guard !isUnixSocket, let peer = peerIPAddress else { return .unixSocket }
        return .ip(peer)
    }
}

extension HTTPField.Name {
    static let xRateLimitLimit = Self("X-RateLimit-Limit")!
    static let xRateLimitRemaining = Self("X-RateLimit-Remaining")!
    static let xRateLimitReset = Self("X-RateLimit-Reset")!
}
