import Foundation
import HTTPTypes
public import Hummingbird
import PorteroCore

/// The sign-in page's HTML: a layout around Portero's form, escaped, with no script and no external
/// asset, served with a strict `Content-Security-Policy`.
public enum SignInPage {
    /// The layout: `{{title}}`, `{{content}}` and `{{nonce}}` (the CSP nonce of its `<style>`).
    static let defaultLayout = """
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
        {{content}}
        </main>
        </body>
        </html>

        """

    /// The sign-in form, with `message` (an error) above it and `rd` carried along.
    static func signInForm(message: String?, email: String?, rd: String?) -> String {
        var html = "<h1>Sign in</h1>\n"
        if let message { html += #"<p class="error" role="alert" id="error">\#(escape(message))</p>"# + "\n" }
        html += #"<form method="post" action="/signin">"# + "\n"
        if let rd { html += #"<input type="hidden" name="rd" value="\#(escape(rd))">"# + "\n" }
        let described = message == nil ? "" : #" aria-describedby="error""#
        html += #"""
            <label for="email">Email</label>
            <input id="email" name="email" type="email" autocomplete="username" required autofocus\#(described) value="\#(escape(email ?? ""))">
            <label for="password">Password</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required\#(described)>
            <button type="submit">Sign in</button>
            </form>
            """#
        return html
    }

    /// The page of a browser that is signed in: who, a way on (when `rd` is allowed) and the sign-out form.
    static func signedIn(email: String, csrf: String, continueTo: URL?) -> String {
        var html = "<h1>Signed in</h1>\n<p>You are signed in as <strong>\(escape(email))</strong>.</p>\n"
        if let continueTo {
            html += #"<p><a href="\#(escape(continueTo.absoluteString))">Continue</a></p>"# + "\n"
        }
        html += #"""
            <form method="post" action="/signout">
            <input type="hidden" name="csrf" value="\#(escape(csrf))">
            <button type="submit">Sign out</button>
            </form>
            """#
        return html
    }

    /// A page that only says something (a refused return address, a refused sign-out).
    static func notice(_ heading: String, _ message: String) -> String {
        "<h1>\(escape(heading))</h1>\n<p role=\"alert\">\(escape(message))</p>\n<p><a href=\"/signin\">Sign in</a></p>"
    }

    /// The whole page: `content` in the layout, with headers that keep it to itself (no script, no framing, no
    /// referrer beyond this site, no caching).
    static func response(
        status: HTTPResponse.Status, title: String, content: String, formTargets: [String],
        headers extra: HTTPFields = [:]
    ) -> Response {
        let nonce = Secrets.base64URL(Secrets.randomBytes(16))
        let html = defaultLayout.replacingOccurrences(of: "{{nonce}}", with: nonce)
            .replacingOccurrences(of: "{{title}}", with: escape(title))
            .replacingOccurrences(of: "{{content}}", with: content)
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

    /// HTML-escapes text for element content and double-quoted attributes.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
