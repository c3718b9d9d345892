import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import PorteroCore
import PorteroTestSupport
import Testing

/// Introspection and forward-auth through the router in process: decoding (form and JSON), the answers' shapes,
/// headers and error mapping.
@Suite("Local apps: router in process")
struct LocalAppRouterTests {
    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test func introspectionTakesAFormOrJSONAndAnswersRFC7662() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        try await RouterTests.application(harness).test(.router) { client in
            let form = try await client.execute(
                uri: "/api/v1/auth/introspect", method: .post, headers: Self.formHeaders,
                body: ByteBuffer(string: "token=\(signedIn.accessToken)&token_type_hint=access_token"))
            #expect(form.status == .ok)
            #expect(form.headers[.cacheControl] == "no-store")
            let body = try RouterTests.body(form)
            #expect(
                Set(body.keys) == [
                    "active", "sub", "exp", "iat", "jti", "email", "roles", "scope", "sid", "token_type", "iss", "aud",
                ])
            #expect(body["active"] as? Bool == true)
            #expect(body["sub"] as? String == signedIn.user.id.uuidString.lowercased())
            #expect(body["sid"] as? String == signedIn.sessionID.uuidString.lowercased())
            #expect(body["roles"] as? [String] == ["user"])
            #expect(body["token_type"] as? String == "Bearer")
            #expect((body["exp"] as? Int ?? 0) - (body["iat"] as? Int ?? 0) == 3600)

            let json = try await client.execute(
                uri: "/api/v1/auth/introspect", method: .post, headers: RouterTests.jsonHeaders,
                body: try RouterTests.json(["token": signedIn.accessToken]))
            #expect(json.status == .ok)
            #expect(try RouterTests.body(json)["jti"] as? String == body["jti"] as? String)

            for token in [signedIn.refreshToken, signedIn.idToken, "not.a.token"] {
                let inactive = try await client.execute(
                    uri: "/api/v1/auth/introspect", method: .post, headers: RouterTests.jsonHeaders,
                    body: try RouterTests.json(["token": token]))
                #expect(inactive.status == .ok)
                #expect(String(buffer: inactive.body) == #"{"active":false}"#)
            }
        }
    }

    @Test(arguments: [
        ("application/x-www-form-urlencoded", ""),
        ("application/x-www-form-urlencoded", "token="),
        ("application/x-www-form-urlencoded", "token=a&token=b"),
        ("application/x-www-form-urlencoded", "token=%zz"),
        ("application/json", "{}"),
        ("application/json", #"{"token": 5}"#),
        ("application/json", #"{"token": ""}"#),
    ])
    func introspectionWithoutATokenIs400(_ contentType: String, _ body: String) async throws {
        let harness = try await AuthHarness()
        try await RouterTests.application(harness).test(.router) { client in
            let response = try await client.execute(
                uri: "/api/v1/auth/introspect", method: .post, headers: [.contentType: contentType],
                body: ByteBuffer(string: body))
            #expect(response.status == .badRequest)
            #expect(try RouterTests.body(response)["error"] as? String == "validation_error")
        }
    }

    @Test func aFormIsTakenOnlyWhereAFormIsExpected() async throws {
        let harness = try await AuthHarness()
        try await RouterTests.application(harness).test(.router) { client in
            let response = try await client.execute(
                uri: "/api/v1/auth/login", method: .post, headers: Self.formHeaders,
                body: ByteBuffer(string: "email=ana%40example.com&password=x"))
            #expect(response.status == .unsupportedMediaType)
        }
    }

    @Test func verifyAnswersWithIdentityHeadersOr401Or403() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        try await RouterTests.application(harness).test(.router) { client in
            let bearer: HTTPFields = [.authorization: "Bearer \(signedIn.accessToken)"]
            let ok = try await client.execute(uri: "/api/v1/auth/verify", method: .get, headers: bearer)
            #expect(ok.status == .ok)
            #expect(ok.headers[HTTPField.Name("X-Auth-User-Id")!] == signedIn.user.id.uuidString.lowercased())
            #expect(ok.headers[HTTPField.Name("X-Auth-Email")!] == "ana@example.com")
            #expect(ok.headers[HTTPField.Name("X-Auth-Roles")!] == "user")

            let missing = try await client.execute(uri: "/api/v1/auth/verify", method: .get)
            #expect(missing.status == .unauthorized)
            #expect(try RouterTests.body(missing)["error"] as? String == "missing_token")
            #expect(missing.headers[.wwwAuthenticate] == #"Bearer realm="portero""#)

            let forged = try await client.execute(
                uri: "/api/v1/auth/verify", method: .get, headers: [.authorization: "Bearer \(signedIn.idToken)"])
            #expect(forged.status == .unauthorized)
            #expect(try RouterTests.body(forged)["error"] as? String == "invalid_token")

            let byQuery = try await client.execute(uri: "/api/v1/auth/verify?role=admin", method: .get, headers: bearer)
            #expect(byQuery.status == .forbidden)
            #expect(try RouterTests.body(byQuery)["error"] as? String == "insufficient_role")
            var byHeader = bearer
            byHeader[HTTPField.Name("X-Auth-Require-Role")!] = "admin"
            let refused = try await client.execute(uri: "/api/v1/auth/verify", method: .get, headers: byHeader)
            #expect(refused.status == .forbidden)
            let allowed = try await client.execute(uri: "/api/v1/auth/verify?role=user", method: .get, headers: bearer)
            #expect(allowed.status == .ok)

            // A proxy may pass on the original request's body; it is not read, whatever its type.
            var withBody = bearer
            withBody[.contentType] = "multipart/form-data; boundary=x"
            let passed = try await client.execute(
                uri: "/api/v1/auth/verify", method: .get, headers: withBody, body: ByteBuffer(string: "--x--"))
            #expect(passed.status == .ok)
        }
    }
}
