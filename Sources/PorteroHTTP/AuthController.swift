import Foundation
public import Hummingbird
import Logging
import PorteroCore
public import PorteroStore

/// SPEC §3's routes under `/api/v1/auth`, from `/register` to `/sessions/{id}`.
public struct AuthController<Store: RecordStore>: Sendable where Store.State == StoreState {
    let services: AuthServices<Store>

    public init(services: AuthServices<Store>) {
        self.services = services
    }

    public var endpoints: RouteCollection<AppRequestContext> {
        let routes = RouteCollection(context: AppRequestContext.self)
        let limiters = services.limiters
        routes.post("register") { request, context in
            try await limited(limiters.register, route: "register", request, context) {
                try await register(request, context, limit: &$0)
            }
        }
        routes.post("verify-email") { request, context in
            try await limited(limiters.verify, route: "verify-email", request, context) {
                try await verifyEmail(request, context, limit: &$0)
            }
        }
        routes.post("resend-verification") { request, context in
            try await limited(limiters.resend, route: "resend-verification", request, context) {
                try await resendVerification(request, context, limit: &$0)
            }
        }
        routes.get("verification-status") { request, context in try await verificationStatus(request, context) }
        routes.post("login") { request, context in
            try await limited(limiters.login, route: "login", request, context) {
                try await login(request, context, limit: &$0)
            }
        }
        routes.post("refresh") { request, context in try await refresh(request, context) }
        routes.post("logout") { request, context in try await logout(request, context) }
        routes.post("logout-all") { request, context in try await logoutAll(request, context) }
        routes.get("profile") { request, context in try await profile(request, context) }
        routes.patch("profile") { request, context in try await updateProfile(request, context) }
        routes.post("password/change") { request, context in try await changePassword(request, context) }
        routes.post("password/forgot") { request, context in
            try await limited(limiters.forgot, route: "password/forgot", request, context) {
                try await forgotPassword(request, context, limit: &$0)
            }
        }
        routes.post("password/reset") { request, context in try await resetPassword(request, context) }
        routes.get("sessions") { request, context in try await listSessions(request, context) }
        routes.delete("sessions/:id") { request, context in try await deleteSession(request, context) }
        return routes
    }

    /// The client's address as recorded with logins and sessions and logged (`trusted_proxies` applied).
    func clientAddress(_ context: AppRequestContext) -> String {
        client(context).description
    }

    /// The `User-Agent`, shortened and without control characters (it is shown back in `/sessions`).
    func userAgent(_ request: Request) -> String? {
        guard let agent = request.headers[.userAgent] else { return nil }
        let clean = String(
            String.UnicodeScalarView(agent.unicodeScalars.filter { !JSONBody.isControl($0) }).prefix(256))
        return clean.isEmpty ? nil : clean
    }

    var logger: Logger { services.logger }

    /// Name and phone fields shared by register and profile updates.
    static func readProfileFields(_ body: inout JSONBody) -> (name: String?, phone: String?) {
        let name = body.string("name", aliases: ["nombre", "full_name"], required: false)
            .map { $0.trimmedSpaces() }
        if let name, name.unicodeScalars.count > 200 { body.problem("name", "must be at most 200 characters") }
        let phone = body.string("phone", aliases: ["telefono"], required: false).map { $0.trimmedSpaces() }
        if let phone, !phone.isEmpty {
            let allowed = phone.unicodeScalars.allSatisfy { scalar in
                (scalar.value >= 0x30 && scalar.value <= 0x39) || " +-().".unicodeScalars.contains(scalar)
            }
            if !allowed || phone.count > 32 {
                body.problem("phone", "must be a phone number (digits, spaces, + - ( ) .), at most 32 characters")
            }
        }
        return (name, phone)
    }

    /// Validates a new password against the policy; returns its NFKC form.
    func validatePassword(_ raw: String?, field: String, body: inout JSONBody) -> String? {
        guard let raw else { return nil }
        do {
            return try services.policy.validate(raw, algorithm: services.hasher.configuration.algorithm)
        } catch {
            body.problem(field, error.reason)
            return nil
        }
    }
}
