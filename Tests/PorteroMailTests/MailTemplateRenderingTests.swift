import Foundation
import PorteroCore
import PorteroMail
import PorteroTestSupport
import Testing

/// The mail templates as the use cases see them: built-in languages, fallbacks, overrides, escaping, and the files
/// that are refused with their name and line.
@Suite("Mail template rendering")
struct MailTemplateRenderingTests {
    static let at = Date(timeIntervalSince1970: 1_796_313_900)  // 2026-12-03T16:05:00Z

    static func facts(_ kind: MailKind, locale: String? = nil, name: String? = nil) -> MailFacts {
        MailFacts(
            kind: kind, to: "ana@example.com", name: name, locale: locale,
            code: kind == .passwordChanged ? nil : "493027", lifetime: TimeSpan(seconds: 900), at: at)
    }

    /// A directory holding `files`, loaded as `mail.templates` is.
    static func overrides(_ files: [String: String]) throws -> (MailTemplates, TestDirectory) {
        let directory = try TestDirectory("templates")
        for (name, text) in files { try directory.write(name, text) }
        let loaded = try TemplateDirectory.load(directory.path) { MailTemplates.isMailTemplateName($0) }
        return (try MailTemplates.load(loaded, appName: "Acme"), directory)
    }

    @Test(
        "every kind is built in, in en and es, with its code in the text and never in the subject",
        arguments: MailKind.allCases)
    func everyKindIsBuiltIn(_ kind: MailKind) {
        let templates = MailTemplates()
        for locale in ["en", "es"] {
            let mail = templates.render(Self.facts(kind, locale: locale))
            #expect(!mail.subject.isEmpty)
            #expect(!mail.subject.contains("493027"))
            #expect(mail.html == nil)
            if kind != .passwordChanged { #expect(mail.text.contains("493027"), "\(kind) \(locale)") }
            #expect(!mail.text.contains("{{"))
        }
        #expect(templates.render(Self.facts(kind, locale: "en")) != templates.render(Self.facts(kind, locale: "es")))
    }

    @Test("Spanish texts say the expiry in Spanish; the notice names the time in UTC")
    func spanish() {
        let templates = MailTemplates()
        let verify = templates.render(Self.facts(.verifyEmail, locale: "es"))
        #expect(verify.subject == "Verifica tu dirección de correo")
        #expect(verify.text.hasPrefix("Tu código de verificación de Portero es 493027.\n"))
        #expect(verify.text.contains("Caduca en 15 minutos."))
        let notice = templates.render(Self.facts(.passwordChanged, locale: "es"))
        #expect(notice.text.contains("ana@example.com se cambió el 2026-12-03T16:05:00Z"))
        let english = templates.render(Self.facts(.resetPassword))
        #expect(english.text.contains("It expires in 15 minutes."))
    }

    @Test(
        "a locale falls back to its language, then to en",
        arguments: [("es-MX", "es"), ("ES", "es"), ("es-419", "es"), ("fr", "en"), ("pt-BR", "en"), (nil, "en")])
    func fallback(_ locale: String?, _ language: String) {
        let templates = MailTemplates()
        #expect(
            templates.render(Self.facts(.verifyEmail, locale: locale))
                == templates.render(Self.facts(.verifyEmail, locale: language)))
    }

    @Test("an override changes one part, adds an HTML part with escaped values, and a new language")
    func overrides() throws {
        let (templates, directory) = try Self.overrides([
            "verify_email.en.subject.mustache": "Your {{app_name}} code\n",
            "verify_email.en.html.mustache": "<p>{{#name}}Hi {{name}}, {{/name}}code <b>{{code}}</b></p>\n",
            "verify_email.pt-br.subject.mustache": "Verifique seu e-mail",
            "verify_email.pt-br.txt.mustache": "Seu código é {{code}}; expira em {{expiry_minutes}} minutos.\n",
        ])
        defer { directory.remove() }
        let mail = templates.render(Self.facts(.verifyEmail, name: "<img src=x onerror=alert(1)> & co"))
        #expect(mail.subject == "Your Acme code")
        #expect(mail.text.contains("Your Acme verification code is 493027."))
        #expect(mail.html == "<p>Hi &lt;img src=x onerror=alert(1)&gt; &amp; co, code <b>493027</b></p>\n")
        // Plain text is not HTML-escaped.
        let plain = templates.render(
            MailFacts(
                kind: .verifyEmail, to: "o'neil&co@example.com", code: "1", lifetime: .init(seconds: 60), at: Self.at))
        #expect(plain.text.contains("Acme") && !plain.text.contains("&amp;"))
        let portuguese = templates.render(Self.facts(.verifyEmail, locale: "pt-BR"))
        #expect(portuguese.subject == "Verifique seu e-mail")
        #expect(portuguese.text == "Seu código é 493027; expira em 15 minutos.\n")
        #expect(templates.speaks("pt-br") && templates.speaks("es") && !templates.speaks("fr"))
        // Other kinds keep the built-ins.
        #expect(templates.render(Self.facts(.resetPassword)).subject == "Reset your password")
    }

    @Test("a subject can never hold a line break or another control character")
    func subjectInjection() throws {
        let (templates, directory) = try Self.overrides([
            "password_changed.en.subject.mustache": "Hello {{name}}\r\nBcc: x@evil.example\n\n",
            "verify_email.en.subject.mustache": "{{name}}",
        ])
        defer { directory.remove() }
        let notice = templates.render(Self.facts(.passwordChanged, name: "Ana"))
        #expect(notice.subject == "Hello Ana Bcc: x@evil.example")
        let named = templates.render(Self.facts(.verifyEmail, name: "a\r\nBcc: b@evil.example\u{85}\u{2028}\t\u{0}c"))
        #expect(named.subject == "a Bcc: b@evil.example c")
        for scalar in named.subject.unicodeScalars { #expect(scalar.value >= 0x20 && scalar.value != 0x7F) }
        let message = try RFC5322Message(
            OutboxMail(
                id: UUID(), to: "ana@example.com", subject: notice.subject, text: notice.text, kind: "password_changed",
                queuedAt: Self.at),
            from: "a@b.test", date: Self.at, messageIDDomain: "b.test")
        #expect(message.fields.filter { $0.name.lowercased() == "bcc" }.isEmpty)
    }

    @Test(
        "a file that does not parse is refused with its path and line",
        arguments: [
            (
                "verify_email.es.txt.mustache", "Hola\n{{#code}}\nsin cerrar",
                "line 3: a section is still open at the end"
            ),
            (
                "verify_email.es.subject.mustache", "Hola\n{{#code}}x{{/name}}\n",
                "line 2: a section is closed under another"
            ),
            ("reset_password.en.subject.mustache", "Reset {{code", "line 1: a tag is not finished"),
            (
                "invitation.en.html.mustache", "<p>\n\n{{#a}}{{/b}}</p>",
                "line 3: a section is closed under another name"
            ),
            ("signin.html.mustache", "{{% NOPE }}", "line 1:"),
        ])
    func parseErrors(_ name: String, _ text: String, _ expected: String) throws {
        let directory = try TestDirectory("templates")
        defer { directory.remove() }
        try directory.write(name, text)
        do {
            _ = try TemplateDirectory.load(directory.path) { _ in true }
            Issue.record("\(name) was accepted")
        } catch {
            #expect(
                error.message.hasPrefix("mail.templates: \(directory.path)/\(name) \(expected)"), "\(error.message)")
            #expect(!error.message.contains("\n"))
        }
    }

    @Test("an unknown name, a language without its text, and a missing directory")
    func names() throws {
        let directory = try TestDirectory("templates")
        defer { directory.remove() }
        try directory.write("verify-email.es.subject.mustache", "Hola")
        try directory.write("README", "not a template")
        #expect(throws: TemplateError.self) {
            _ = try TemplateDirectory.load(directory.path) { MailTemplates.isMailTemplateName($0) }
        }
        try FileManager.default.removeItem(atPath: directory.file("verify-email.es.subject.mustache"))
        try directory.write("verify_email.fr.subject.mustache", "Vérifiez")
        let loaded = try TemplateDirectory.load(directory.path) { MailTemplates.isMailTemplateName($0) }
        do {
            _ = try MailTemplates.load(loaded, appName: "Acme")
            Issue.record("a language without a text was accepted")
        } catch {
            #expect(error.message.contains("verify_email.fr.txt.mustache is missing beside it"), "\(error.message)")
        }
        #expect(try TemplateDirectory.load(directory.file("absent")) { _ in true }.templates.isEmpty)
        #expect(!MailTemplates.isMailTemplateName("verify_email.EN.subject.mustache"))
        #expect(!MailTemplates.isMailTemplateName("welcome.en.subject.mustache"))
        #expect(MailTemplates.isMailTemplateName("invitation.zh-hant-tw.html.mustache"))
    }

    @Test("app_name is the display name of mail.from")
    func appName() {
        #expect(MailTemplates.appName(from: "Acme <auth@acme.test>") == "Acme")
        #expect(MailTemplates.appName(from: "\"Acme, Inc.\" <auth@acme.test>") == "Acme, Inc.")
        #expect(MailTemplates.appName(from: "auth@acme.test") == "Portero")
        #expect(MailTemplates.appName(from: "<auth@acme.test>") == "Portero")
    }

    @Test("with an HTML part the message is multipart/alternative: text first, then HTML, one boundary")
    func multipart() throws {
        var mail = OutboxMail(
            id: UUID(), to: "ana@example.com", subject: "Código", text: "Tu código es 493027.\n", kind: "verify_email",
            code: "493027", queuedAt: Self.at)
        mail.html = "<p>Tu código es <b>493027</b>.</p>\n"
        let message = try RFC5322Message(mail, from: "a@b.test", date: Self.at, messageIDDomain: "b.test")
        let type = try #require(message.field("Content-Type"))
        #expect(type.hasPrefix("multipart/alternative; boundary=\"=_portero_"))
        let boundary = String(type.split(separator: "\"")[1])
        let body = String(decoding: message.body, as: UTF8.self)
        let parts = body.components(separatedBy: "--\(boundary)")
        #expect(parts.count == 4)  // before the first, text, HTML, and "--" after the closing delimiter
        #expect(
            parts[1].hasPrefix(
                "\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nTu código"))
        #expect(
            parts[2].hasPrefix(
                "\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n<p>"))
        #expect(parts[3] == "--\r\n")
        // Without HTML: a single text/plain part, as before.
        mail.html = nil
        let plain = try RFC5322Message(mail, from: "a@b.test", date: Self.at, messageIDDomain: "b.test")
        #expect(plain.field("Content-Type") == "text/plain; charset=UTF-8")
    }
}
