import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PorteroCore
import PorteroHTTP
import PorteroStore
import PorteroTestSupport
import Testing

/// The router in process (HummingbirdTesting): routing, decoding and the error → HTTP mapping over the use cases,
/// with a MemoryStore and a test clock behind them. The binary-level suites test the same over real sockets.
@Suite("Router in process")
struct RouterTests {
    static func application(_ harness: AuthHarness) -> some ApplicationProtocol {
        let router = PorteroRouter.build(
            auth: harness.auth,
            admin: AdminService(store: harness.store, clock: harness.clock.source),
            adminAccess: AdminAccess(daemonUID: getuid(), groupID: nil),
            trustedProxies: .none,
            tokens: { await harness.auth.currentTokens() },
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        )
        return Application(router: router)
    }

    static func json(_ object: [String: String]) throws -> ByteBuffer {
        ByteBuffer(bytes: Array(try JSONSerialization.data(withJSONObject: object)))
    }

    static let jsonHeaders: HTTPFields = [.contentType: "application/json"]

    static func body(_ response: HummingbirdTesting.TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])
    }

    @Test func registerVerifyAndReadTheProfile() async throws {
        let harness = try await AuthHarness()
        try await Self.application(harness).test(.router) { client in
            let registered = try await client.execute(
                uri: "/api/v1/auth/register", method: .post, headers: Self.jsonHeaders,
                body: try Self.json(["email": "ana@example.com", "password": "correct horse battery", "name": " Ana "]))
            #expect(registered.status == .created)
            let user = try #require(try Self.body(registered)["user"] as? [String: Any])
            #expect(user["name"] as? String == "Ana")
            #expect(user["email_verified"] as? Bool == false)
            let code = try #require(await harness.mailedCode(to: "ana@example.com", .verifyEmail))
            let verified = try await client.execute(
                uri: "/api/v1/auth/verify-email", method: .post, headers: Self.jsonHeaders,
                body: try Self.json(["email": "ana@example.com", "code": code]))
            #expect(verified.status == .ok)
            let token = try #require(try Self.body(verified)["access_token"] as? String)
            let profile = try await client.execute(
                uri: "/api/v1/auth/profile", method: .get, headers: [.authorization: "Bearer \(token)"])
            #expect(profile.status == .ok)
            #expect(profile.headers[.cacheControl] == "no-store")
            #expect(profile.headers[.contentType] == "application/json; charset=utf-8")
            // /profile writes the user object directly; it must be the object every other answer encodes
            // (the verify-email answer's, through JSONEncoder): the same keys, `null`s and whole-second times.
            let written = try #require(try Self.body(profile)["user"] as? [String: Any])
            let encoded = try #require(try Self.body(verified)["user"] as? [String: Any])
            #expect(Set(written.keys) == Set(encoded.keys))
            #expect(Set(written.keys).count == 10)  // with `locale`
            let canonical = { (object: [String: Any]) in
                try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            }
            #expect(try canonical(written) == canonical(encoded))
            #expect(written["phone"] is NSNull)
            #expect(written["name"] as? String == "Ana")
        }
    }

    @Test func everyProblemOfABodyIsNamedAtOnce() async throws {
        let harness = try await AuthHarness()
        try await Self.application(harness).test(.router) { client in
            let response = try await client.execute(
                uri: "/api/v1/auth/register", method: .post, headers: Self.jsonHeaders,
                body: try Self.json(["email": "not an email", "password": "short", "phone": "call me"]))
            #expect(response.status == .badRequest)
            let body = try Self.body(response)
            #expect(body["error"] as? String == "validation_error")
            let fields = try #require(body["fields"] as? [String: String])
            #expect(Set(fields.keys) == ["email", "password", "phone"])
            #expect(await harness.store.state.users.isEmpty)
        }
    }

    @Test func aBodyThatIsNotJSONIs400() async throws {
        let harness = try await AuthHarness()
        try await Self.application(harness).test(.router) { client in
            let response = try await client.execute(
                uri: "/api/v1/auth/login", method: .post, headers: Self.jsonHeaders, body: ByteBuffer(string: "{nope"))
            #expect(response.status == .badRequest)
            #expect(try Self.body(response)["error"] as? String == "validation_error")
        }
    }

    @Test func unknownRoutesAre404AndWrongMethods405WithAllow() async throws {
        let harness = try await AuthHarness()
        try await Self.application(harness).test(.router) { client in
            let missing = try await client.execute(uri: "/api/v1/auth/nothing", method: .get)
            #expect(missing.status == .notFound)
            #expect(try Self.body(missing)["error"] as? String == "not_found")
            let wrong = try await client.execute(uri: "/api/v1/auth/login", method: .get)
            #expect(wrong.status == .methodNotAllowed)
            #expect(wrong.headers[.allow]?.contains("POST") == true)
        }
    }

    @Test func errorsMapToSPECStatusesAndHeaders() async throws {
        let harness = try await AuthHarness()
        _ = try await harness.verifiedUser("ana@example.com")
        try await Self.application(harness).test(.router) { client in
            let noToken = try await client.execute(uri: "/api/v1/auth/profile", method: .get)
            #expect(noToken.status == .unauthorized)
            #expect(try Self.body(noToken)["error"] as? String == "missing_token")
            #expect(noToken.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true)

            let forged = try await client.execute(
                uri: "/api/v1/auth/profile", method: .get, headers: [.authorization: "Bearer not.a.token"])
            #expect(try Self.body(forged)["error"] as? String == "invalid_token")

            let wrong = try await client.execute(
                uri: "/api/v1/auth/login", method: .post, headers: Self.jsonHeaders,
                body: try Self.json(["email": "ana@example.com", "password": "wrong password!"]))
            #expect(wrong.status == .unauthorized)
            #expect(try Self.body(wrong)["error"] as? String == "invalid_credentials")

            let taken = try await client.execute(
                uri: "/api/v1/auth/register", method: .post, headers: Self.jsonHeaders,
                body: try Self.json(["email": "ana@example.com", "password": "correct horse battery"]))
            #expect(taken.status == .conflict)

            let forgot = try await client.execute(
                uri: "/api/v1/auth/password/forgot", method: .post, headers: Self.jsonHeaders,
                body: try Self.json(["email": "ghost@example.com"]))
            #expect(forgot.status == .accepted)
        }
    }

    @Test func aLockedEmailIs423WithLockedUntil() async throws {
        let harness = try await AuthHarness(configuration: .init(lockoutMaxFailures: 1))
        try await Self.application(harness).test(.router) { client in
            for expected in [HTTPResponse.Status.unauthorized, .init(code: 423)] {
                let response = try await client.execute(
                    uri: "/api/v1/auth/login", method: .post, headers: Self.jsonHeaders,
                    body: try Self.json(["email": "ghost@example.com", "password": "wrong password!"]))
                #expect(response.status == expected)
            }
            let locked = try await client.execute(
                uri: "/api/v1/auth/login", method: .post, headers: Self.jsonHeaders,
                body: try Self.json(["email": "ghost@example.com", "password": "wrong password!"]))
            #expect(try Self.body(locked)["locked_until"] is String)
        }
    }

    @Test func limitedRoutesCarryTheirBudgetOnEveryAnswer() async throws {
        let limit = RateLimit(count: 1, window: .init(seconds: 900))
        let harness = try await AuthHarness(
            configuration: .init(rates: .init(login: limit, register: .off, verify: .off, resend: .off, forgot: .off)))
        try await Self.application(harness).test(.router) { client in
            let first = try await client.execute(
                uri: "/api/v1/auth/login", method: .post, headers: Self.jsonHeaders,
                body: try Self.json(["email": "ghost@example.com", "password": "wrong password!"]))
            #expect(first.headers[HTTPField.Name("X-RateLimit-Limit")!] == "1")
            #expect(first.headers[HTTPField.Name("X-RateLimit-Remaining")!] == "0")
            let second = try await client.execute(
                uri: "/api/v1/auth/login", method: .post, headers: Self.jsonHeaders,
                body: try Self.json(["email": "ghost@example.com", "password": "wrong password!"]))
            #expect(second.status == .tooManyRequests)
            #expect(second.headers[.retryAfter] != nil)
        }
    }

    @Test func theAdminAPIRefusesAnythingButTheUnixSocket() async throws {
        let harness = try await AuthHarness()
        try await Self.application(harness).test(.router) { client in
            // Not over the Unix socket, the admin API does not exist: 404 for every path and method, never 405.
            for (uri, method) in [
                ("/admin/v1/stats", HTTPRequest.Method.get), ("/admin/v1/users", .get), ("/admin/v1/users/x", .put),
                ("/admin/v1/sessions/x", .delete),
            ] {
                let response = try await client.execute(uri: uri, method: method)
                #expect(response.status == .notFound, "\(method) \(uri)")
            }
        }
    }

    @Test func readyzFollowsTheStore() async throws {
        let harness = try await AuthHarness()
        try await Self.application(harness).test(.router) { client in
            let ready = try await client.execute(uri: "/readyz", method: .get)
            #expect(ready.status == .ok)
            await harness.store.fail(reason: "test")
            let failed = try await client.execute(uri: "/readyz", method: .get)
            #expect(failed.status == .serviceUnavailable)
        }
    }
}
