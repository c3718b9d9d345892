import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import PorteroCore
import PorteroHTTP
import PorteroTestSupport
import Testing

/// The cookie and the sign-in page through the router in process: cookie attributes, `/verify` with the cookie,
/// the page's headers, hostile `rd` values, cross-site posts and the CSRF token of sign-out.
@Suite("Sign-in page and cookie: router in process")
struct SignInRouterTests {
    static let settings = BrowserSessionSettings(
        cookieEnabled: true, cookieDomain: nil, cookieSecure: true, redirectHosts: ["app.example.com"])
    static let form: HTTPFields = [
        .contentType: "application/x-www-form-urlencoded", HTTPField.Name("Host")!: "auth.example.com",
    ]

    static func application(_ harness: AuthHarness, _ settings: BrowserSessionSettings = settings)
        -> some ApplicationProtocol
    {
        Application(
            router: PorteroRouter.build(
                auth: harness.auth,
                admin: AdminService(store: harness.store, clock: harness.clock.source),
                adminAccess: AdminAccess(daemonUID: getuid(), groupID: nil),
                trustedProxies: .none,
                tokens: { await harness.auth.currentTokens() },
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                browser: settings))
    }

    static func encode(_ fields: [(String, String)]) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return ByteBuffer(
            string: fields.map { "\($0)=\($1.addingPercentEncoding(withAllowedCharacters: allowed)!)" }
                .joined(separator: "&"))
    }

    /// The cookie's value in a `Set-Cookie`.
    static func cookieValue(_ setCookie: String?) -> String? {
        guard let setCookie, setCookie.hasPrefix("portero_session=") else { return nil }
        return setCookie.dropFirst("portero_session=".count).split(separator: ";").first.map(String.init)
    }

    @Test func loginSetsTheCookieAndVerifyTakesIt() async throws {
        let harness = try await AuthHarness()
        _ = try await harness.verifiedUser("ana@example.com")
        try await Self.application(harness).test(.router) { client in
            let login = try await client.execute(
                uri: "/api/v1/auth/login", method: .post, headers: RouterTests.jsonHeaders,
                body: try RouterTests.json(["email": "ana@example.com", "password": "correct horse battery"]))
            #expect(login.status == .ok)
            let setCookie = try #require(login.headers[.setCookie])
            let attributes = Set(
                setCookie.split(separator: ";").dropFirst().map { $0.trimmingCharacters(in: .whitespaces) })
            #expect(attributes == ["Path=/", "Max-Age=\(30 * 86400)", "HttpOnly", "Secure", "SameSite=Lax"])
            let cookie = try #require(Self.cookieValue(setCookie))
            let token = try #require(try RouterTests.body(login)["access_token"] as? String)
            #expect(!cookie.contains(token))
            #expect(!cookie.hasPrefix("eyJ"))

            let verified = try await client.execute(
                uri: "/api/v1/auth/verify", method: .get, headers: [.cookie: "other=1; portero_session=\(cookie)"])
            #expect(verified.status == .ok)
            #expect(verified.headers[.init("X-Auth-Email")!] == "ana@example.com")
            let admin = try await client.execute(
                uri: "/api/v1/auth/verify?role=admin", method: .get, headers: [.cookie: "portero_session=\(cookie)"])
            #expect(admin.status == .forbidden)
            let forged = try await client.execute(
                uri: "/api/v1/auth/verify", method: .get,
                headers: [.cookie: "portero_session=\(cookie.dropLast())\(cookie.last == "0" ? "1" : "0")"])
            #expect(forged.status == .unauthorized)
            #expect(try RouterTests.body(forged)["error"] as? String == "invalid_token")

            // Bearer logout ends the cookie's session at once.
            let logout = try await client.execute(
                uri: "/api/v1/auth/logout", method: .post,
                headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                body: ByteBuffer(string: "{}"))
            #expect(logout.status == .ok)
            let after = try await client.execute(
                uri: "/api/v1/auth/verify", method: .get, headers: [.cookie: "portero_session=\(cookie)"])
            #expect(after.status == .unauthorized)
            #expect(try RouterTests.body(after)["error"] as? String == "token_revoked")
        }
    }

    @Test func verifyingTheEmailSetsTheCookieToo() async throws {
        let harness = try await AuthHarness()
        _ = try await harness.register("bo@example.com")
        let code = try #require(await harness.mailedCode(to: "bo@example.com", .verifyEmail))
        try await Self.application(harness).test(.router) { client in
            let verified = try await client.execute(
                uri: "/api/v1/auth/verify-email", method: .post, headers: RouterTests.jsonHeaders,
                body: try RouterTests.json(["email": "bo@example.com", "code": code]))
            #expect(verified.status == .ok)
            let cookie = try #require(Self.cookieValue(verified.headers[.setCookie]))
            let identity = try await client.execute(
                uri: "/api/v1/auth/verify", method: .get, headers: [.cookie: "portero_session=\(cookie)"])
            #expect(identity.status == .ok)
            #expect(identity.headers[.init("X-Auth-Email")!] == "bo@example.com")
        }
    }

    @Test func withCookiesOffNothingIsSetOrTakenAndThereIsNoPage() async throws {
        let harness = try await AuthHarness()
        let signedIn = try await harness.verifiedUser("ana@example.com")
        let cookie = harness.auth.sessionCookie(for: signedIn.sessionID)
        try await Self.application(harness, .disabled).test(.router) { client in
            let login = try await client.execute(
                uri: "/api/v1/auth/login", method: .post, headers: RouterTests.jsonHeaders,
                body: try RouterTests.json(["email": "ana@example.com", "password": "correct horse battery"]))
            #expect(login.status == .ok)
            #expect(login.headers[.setCookie] == nil)
            let verify = try await client.execute(
                uri: "/api/v1/auth/verify", method: .get, headers: [.cookie: "portero_session=\(cookie)"])
            #expect(verify.status == .unauthorized)
            #expect(try RouterTests.body(verify)["error"] as? String == "missing_token")
            let page = try await client.execute(uri: "/signin", method: .get)
            #expect(page.status == .notFound)
        }
    }

    @Test func theSignInPageIsASmallFormWithAStrictPolicy() async throws {
        let harness = try await AuthHarness()
        try await Self.application(harness).test(.router) { client in
            let page = try await client.execute(
                uri: "/signin?rd=https%3A%2F%2Fapp.example.com%2Fdash%3Fa%3D1", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType] == "text/html; charset=utf-8")
            let csp = try #require(page.headers[.init("Content-Security-Policy")!])
            #expect(csp.hasPrefix("default-src 'none'; style-src 'nonce-"))
            #expect(csp.contains("frame-ancestors 'none'"))
            #expect(csp.contains("form-action 'self' https://app.example.com:* http://app.example.com:*"))
            #expect(page.headers[.init("X-Frame-Options")!] == "DENY")
            #expect(page.headers[.cacheControl] == "no-store")
            let html = String(buffer: page.body)
            #expect(!html.contains("<script"))
            #expect(!html.contains("src=\"http"))
            #expect(html.contains(#"<label for="email">"#))
            #expect(html.contains(#"<label for="password">"#))
            #expect(html.contains(#"name="rd" value="https://app.example.com/dash?a=1""#))
            #expect(html.contains(#"<html lang="en">"#))
        }
    }

    @Test(arguments: [
        "https://evil.example/", "//evil.example/", "/relative", "https://app.example.com.evil.example/",
        "https://app.example.com@evil.example/", "https://evil.example\\@app.example.com/", "javascript:alert(1)",
        "https:app.example.com", "ftp://app.example.com/", "https://evil.example/?https://app.example.com/",
        "https://app.example.com%2f@evil.example/", "https://аpp.example.com/", "https://app.example.com\t/",
        "data:text/html,hi", "https://[::1]/",
    ])
    func aHostileReturnAddressIsRefused(_ rd: String) async throws {
        let harness = try await AuthHarness()
        _ = try await harness.verifiedUser("ana@example.com")
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        let query = rd.addingPercentEncoding(withAllowedCharacters: allowed)!
        try await Self.application(harness).test(.router) { client in
            let page = try await client.execute(uri: "/signin?rd=\(query)", method: .get)
            #expect(page.status == .badRequest)
            #expect(!String(buffer: page.body).contains("evil"))
            let post = try await client.execute(
                uri: "/signin", method: .post, headers: Self.form,
                body: Self.encode([("email", "ana@example.com"), ("password", "correct horse battery"), ("rd", rd)]))
            #expect(post.status == .badRequest)
            #expect(post.headers[.location] == nil)
            #expect(post.headers[.setCookie] == nil)
        }
    }

    @Test func signingInRedirectsToAnAllowedHostAndSigningOutNeedsTheCSRFToken() async throws {
        let harness = try await AuthHarness()
        _ = try await harness.verifiedUser("ana@example.com")
        try await Self.application(harness).test(.router) { client in
            let wrong = try await client.execute(
                uri: "/signin", method: .post, headers: Self.form,
                body: Self.encode([
                    ("email", "ana@example.com"), ("password", "wrong horse"), ("rd", "https://app.example.com/"),
                ]))
            #expect(wrong.status == .unauthorized)
            #expect(wrong.headers[.setCookie] == nil)
            let unknown = try await client.execute(
                uri: "/signin", method: .post, headers: Self.form,
                body: Self.encode([
                    ("email", "nobody@example.com"), ("password", "wrong horse"), ("rd", "https://app.example.com/"),
                ]))
            #expect(unknown.status == .unauthorized)
            #expect(
                String(buffer: unknown.body).replacingOccurrences(of: "nobody", with: "ana").split(separator: "\n")
                    .filter { !$0.contains("nonce") }
                    == String(buffer: wrong.body).split(separator: "\n").filter { !$0.contains("nonce") })

            let signedIn = try await client.execute(
                uri: "/signin", method: .post,
                headers: Self.form.merging([.init("Sec-Fetch-Site")!: "same-origin"]),
                body: Self.encode([
                    ("email", "Ana@Example.com"), ("password", "correct horse battery"),
                    ("rd", "https://app.example.com/x?y=1"),
                ]))
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "https://app.example.com/x?y=1")
            let cookie = try #require(Self.cookieValue(signedIn.headers[.setCookie]))

            let page = try await client.execute(
                uri: "/signin", method: .get, headers: [.cookie: "portero_session=\(cookie)"])
            let html = String(buffer: page.body)
            #expect(html.contains("Signed in"))
            let csrf = try #require(
                html.firstRange(of: #"name="csrf" value=""#).map { html[$0.upperBound...].prefix(64) })

            let noToken = try await client.execute(
                uri: "/signout", method: .post, headers: Self.form.merging([.cookie: "portero_session=\(cookie)"]),
                body: Self.encode([("csrf", (csrf.first == "0" ? "1" : "0") + csrf.dropFirst())]))
            #expect(noToken.status == .forbidden)
            let crossSite = try await client.execute(
                uri: "/signout", method: .post,
                headers: Self.form.merging([.cookie: "portero_session=\(cookie)", .origin: "https://evil.example"]),
                body: Self.encode([("csrf", String(csrf))]))
            #expect(crossSite.status == .forbidden)
            let stillIn = try await client.execute(
                uri: "/api/v1/auth/verify", method: .get, headers: [.cookie: "portero_session=\(cookie)"])
            #expect(stillIn.status == .ok)

            let out = try await client.execute(
                uri: "/signout", method: .post, headers: Self.form.merging([.cookie: "portero_session=\(cookie)"]),
                body: Self.encode([("csrf", String(csrf))]))
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/signin")
            #expect(out.headers[.setCookie]?.hasPrefix("portero_session=; Path=/; Max-Age=0") == true)
            let gone = try await client.execute(
                uri: "/api/v1/auth/verify", method: .get, headers: [.cookie: "portero_session=\(cookie)"])
            #expect(gone.status == .unauthorized)
        }
    }

    @Test(
        arguments: [
            [HTTPField.Name("Sec-Fetch-Site")!: "cross-site"], [.origin: "https://evil.example"], [.origin: "null"],
        ] as [HTTPFields])
    func aCrossSiteFormCannotSignIn(_ extra: HTTPFields) async throws {
        let harness = try await AuthHarness()
        _ = try await harness.verifiedUser("ana@example.com")
        try await Self.application(harness).test(.router) { client in
            let post = try await client.execute(
                uri: "/signin", method: .post, headers: Self.form.merging(extra),
                body: Self.encode([("email", "ana@example.com"), ("password", "correct horse battery")]))
            #expect(post.status == .forbidden)
            #expect(post.headers[.setCookie] == nil)
        }
    }

    @Test func anUnverifiedAccountGetsTheLoginRuleAndABadFormIs400() async throws {
        let harness = try await AuthHarness()
        _ = try await harness.register("bo@example.com")
        try await Self.application(harness).test(.router) { client in
            let unverified = try await client.execute(
                uri: "/signin", method: .post, headers: Self.form,
                body: Self.encode([("email", "bo@example.com"), ("password", "correct horse battery")]))
            #expect(unverified.status == .forbidden)
            #expect(String(buffer: unverified.body).contains("Verify your email address first"))
            let malformed = try await client.execute(
                uri: "/signin", method: .post, headers: Self.form, body: ByteBuffer(string: "email=%zz"))
            #expect(malformed.status == .badRequest)
            let empty = try await client.execute(uri: "/signin", method: .post, headers: Self.form)
            #expect(empty.status == .badRequest)
        }
    }
}

extension HTTPFields {
    func merging(_ other: HTTPFields) -> HTTPFields {
        var merged = self
        for field in other { merged[field.name] = field.value }
        return merged
    }
}
