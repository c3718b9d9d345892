import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import Mustache
import PorteroCore
import PorteroHTTP
import PorteroTestSupport
import Testing

/// The sign-in page from an admin's `signin.html.mustache`: the template decides the markup, the code keeps the
/// headers, the escaping of values and the CSRF check of sign-out.
@Suite("Sign-in page template: router in process")
struct SignInTemplateRouterTests {
    /// A page that shows the form and the signed-in state but leaves the CSRF field out.
    static let override = """
        <!doctype html><html lang="es"><head><title>{{title}}</title><style nonce="{{nonce}}">h1{color:red}</style></head>
        <body>{{#form}}<h1>Acme: entrar</h1>{{#error}}<p id="error">{{message}}</p>{{/error}}
        <form method="post" action="/signin"><input name="email" value="{{email}}"><input name="password" type="password">
        </form>{{/form}}{{#signed_in}}<p>Hola {{email}}</p><form method="post" action="/signout"></form>{{/signed_in}}
        {{#notice}}<h1>{{heading}}</h1>{{/notice}}</body></html>
        """

    static func application(_ harness: AuthHarness, template: MustacheTemplate) -> some ApplicationProtocol {
        Application(
            router: PorteroRouter.build(
                auth: harness.auth,
                admin: AdminService(store: harness.store, clock: harness.clock.source),
                adminAccess: AdminAccess(daemonUID: getuid(), groupID: nil),
                trustedProxies: .none,
                tokens: { await harness.auth.currentTokens() },
                logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
                browser: SignInRouterTests.settings,
                signInPage: SignInPage(override: { template })))
    }

    @Test("the override is served with the same headers; values are escaped; dropping csrf only breaks sign-out")
    func overrideKeepsTheRules() async throws {
        let harness = try await AuthHarness()
        _ = try await harness.verifiedUser("ana@example.com")
        let template = try MustacheTemplate(string: Self.override)
        try await Self.application(harness, template: template).test(.router) { client in
            let page = try await client.execute(uri: "/signin", method: .get)
            #expect(page.status == .ok)
            let html = String(buffer: page.body)
            #expect(html.contains("<h1>Acme: entrar</h1>"))
            let csp = try #require(page.headers[.init("Content-Security-Policy")!])
            let nonce = try #require(csp.firstRange(of: "'nonce-").map { csp[$0.upperBound...].prefix { $0 != "'" } })
            #expect(html.contains(#"<style nonce="\#(nonce)">"#))
            #expect(page.headers[.init("X-Frame-Options")!] == "DENY")

            let failed = try await client.execute(
                uri: "/signin", method: .post, headers: SignInRouterTests.form,
                body: SignInRouterTests.encode([("email", "\"><script>x</script>@example.com"), ("password", "x")]))
            let failedHTML = String(buffer: failed.body)
            #expect(failedHTML.contains(#"<p id="error">"#))
            #expect(!failedHTML.contains("<script>"))
            #expect(failedHTML.contains("&quot;&gt;&lt;script&gt;"))

            let signedIn = try await client.execute(
                uri: "/signin", method: .post, headers: SignInRouterTests.form,
                body: SignInRouterTests.encode([("email", "ana@example.com"), ("password", "correct horse battery")]))
            #expect(signedIn.status == .seeOther)
            let cookie = try #require(SignInRouterTests.cookieValue(signedIn.headers[.setCookie]))
            let mine = try await client.execute(
                uri: "/signin", method: .get, headers: [.cookie: "portero_session=\(cookie)"])
            #expect(String(buffer: mine.body).contains("<p>Hola ana@example.com</p>"))
            #expect(!String(buffer: mine.body).contains("csrf"))

            // The page's sign-out form has no token, and the server still asks for one.
            let out = try await client.execute(
                uri: "/signout", method: .post,
                headers: SignInRouterTests.form.merging([.cookie: "portero_session=\(cookie)"]),
                body: ByteBuffer())
            #expect(out.status == .forbidden)
            let still = try await client.execute(
                uri: "/api/v1/auth/verify", method: .get, headers: [.cookie: "portero_session=\(cookie)"])
            #expect(still.status == .ok)
        }
    }

    @Test("the built-in page parses and renders each view")
    func builtIn() throws {
        let template = try MustacheTemplate(string: SignInPage.builtInTemplateText)
        let values: [String: Any] = [
            "title": "Sign in", "nonce": "n0", "form": ["email": "a&b", "rd": "https://x/?a=1&b=2"] as [String: Any],
        ]
        let form = template.render(values)
        #expect(form.contains(#"name="rd" value="https://x/?a=1&amp;b=2""#))
        #expect(form.contains(#"value="a&amp;b""#))
        #expect(!form.contains("Signed in") && !form.contains("aria-describedby"))
    }
}
