import Foundation
import HTTPTypes
public import Hummingbird
public import Mustache
import PorteroCore

/// The sign-in page's HTML, rendered with mustache from ``builtInTemplate`` or the admin's `signin.html.mustache` in
/// `mail.templates`, with no script and no external asset, served with a strict `Content-Security-Policy`.
///
/// The template gets `title`, `nonce` (the CSP nonce any `<style>` needs) and one of three sections: `form` (`email`,
/// `rd`, `error.message`), `signed_in` (`email`, `csrf`, `continue_url`) or `notice` (`heading`, `message`). Every
/// value is escaped by `{{ }}`. What an override cannot change is in the code: the headers (CSP, framing, caching),
/// the nonce, and the checks of `POST /signin` and `POST /signout` — a page that drops the `csrf` field only makes
/// sign-out fail with 403.
public struct SignInPage: Sendable {
    /// The override's file name in `mail.templates`.
    public static let templateName = "signin.html.mustache"

    /// The override in force, or nil for the built-in page (read on every request, so a reload applies at once).
    let override: @Sendable () -> MustacheTemplate?

    public init(override: @escaping @Sendable () -> MustacheTemplate? = { nil }) {
        self.override = override
    }

    /// What the page shows.
    enum View {
        /// The sign-in form, with `message` (an error) above it and `rd` carried along.
        case form(message: String?, email: String?, rd: String?)
        /// A browser that is signed in: who, a way on (when `rd` is allowed) and the sign-out form.
        case signedIn(email: String, csrf: String, continueTo: URL?)
        /// A page that only says something (a refused return address, a refused sign-out).
        case notice(heading: String, message: String)
    }

    /// The built-in page; copy it to `mail.templates/signin.html.mustache` to change it.
    public static let builtInTemplateText = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}}</title>
        <style nonce="{{nonce}}">
        body { font: 16px/1.5 system-ui, sans-serif; margin: 0; background: #f4f4f5; color: #18181b; }
        main { max-width: 22rem; margin: 10vh auto; padding: 2rem; background: #fff; border-radius: 8px; }
        h1 { font-size: 1.5rem; margin-top: 0; }
        label { display: block; margin-top: 1rem; font-weight: 600; }
        input { box-sizing: border-box; width: 100%; padding: .5rem; font: inherit; border: 1px solid #71717a; }
        button { margin-top: 1.5rem; width: 100%; padding: .6rem; font: inherit; font-weight: 600; color: #fff;
                 background: #1d4ed8; border: 0; border-radius: 4px; cursor: pointer; }
        input:focus, button:focus { outline: 3px solid #f59e0b; outline-offset: 2px; }
        .error { color: #b91c1c; font-weight: 600; }
        </style>
        </head>
        <body>
        <main>
        {{#form}}
        <h1>Sign in</h1>
        {{#error}}
        <p class="error" role="alert" id="error">{{message}}</p>
        {{/error}}
        <form method="post" action="/signin">
        {{#rd}}
        <input type="hidden" name="rd" value="{{rd}}">
        {{/rd}}
        <label for="email">Email</label>
        <input id="email" name="email" type="email" autocomplete="username" required autofocus{{#error}} aria-describedby="error"{{/error}} value="{{email}}">
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required{{#error}} aria-describedby="error"{{/error}}>
        <button type="submit">Sign in</button>
        </form>
        {{/form}}
        {{#signed_in}}
        <h1>Signed in</h1>
        <p>You are signed in as <strong>{{email}}</strong>.</p>
        {{#continue_url}}
        <p><a href="{{continue_url}}">Continue</a></p>
        {{/continue_url}}
        <form method="post" action="/signout">
        <input type="hidden" name="csrf" value="{{csrf}}">
        <button type="submit">Sign out</button>
        </form>
        {{/signed_in}}
        {{#notice}}
        <h1>{{heading}}</h1>
        <p role="alert">{{message}}</p>
        <p><a href="/signin">Sign in</a></p>
        {{/notice}}
        </main>
        </body>
        </html>

        """#

    /// ``builtInTemplateText``, parsed (built in and rendered by the tests: it always parses).
    static let builtInTemplate: MustacheTemplate = {
        do {
            return try MustacheTemplate(string: builtInTemplateText)
        } catch {
            preconditionFailure("the built-in sign-in page does not parse: \(error)")
        }
    }()

    /// The values a view gives the template.
    static func values(_ view: View, title: String, nonce: String) -> [String: Any] {
        var values: [String: Any] = ["title": title, "nonce": nonce]
        switch view {
        case .form(let message, let email, let rd):
            var form: [String: Any] = ["email": email ?? ""]
            if let message { form["error"] = ["message": message] }
            if let rd { form["rd"] = rd }
            values["form"] = form
        case .signedIn(let email, let csrf, let continueTo):
            var signedIn: [String: Any] = ["email": email, "csrf": csrf]
            if let continueTo { signedIn["continue_url"] = continueTo.absoluteString }
            values["signed_in"] = signedIn
        case .notice(let heading, let message):
            values["notice"] = ["heading": heading, "message": message]
        }
        return values
    }

    /// The whole page, with headers that keep it to itself (no script, no framing, no referrer beyond this site,
    /// no caching).
    func response(
        status: HTTPResponse.Status, title: String, view: View, formTargets: [String],
        headers extra: HTTPFields = [:]
    ) -> Response {
        let nonce = Secrets.base64URL(Secrets.randomBytes(16))
        let template = override() ?? Self.builtInTemplate
        let html = template.render(Self.values(view, title: title, nonce: nonce))
        var headers = extra
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[Self.contentSecurityPolicy] =
            "default-src 'none'; style-src 'nonce-\(nonce)'; img-src 'self' data:; "
            + "form-action \((["'self'"] + formTargets).joined(separator: " ")); frame-ancestors 'none'; "
            + "base-uri 'none'"
        headers[Self.frameOptions] = "DENY"
        headers[Self.contentTypeOptions] = "nosniff"
        headers[Self.referrerPolicy] = "same-origin"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let frameOptions = HTTPField.Name("X-Frame-Options")!
    static let contentTypeOptions = HTTPField.Name("X-Content-Type-Options")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}
