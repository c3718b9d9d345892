public import Foundation
import Mustache
public import PorteroCore
import PorteroFormat

/// The texts of the messages Portero sends: per kind (``MailKind``) and language, a subject, a plain text and
/// optionally an HTML part, rendered with mustache from the built-in templates (``BuiltInMailTemplates``, `en` and
/// `es`) overlaid by the files of `mail.templates`.
///
/// File names: `<kind>.<lang>.subject.mustache`, `<kind>.<lang>.txt.mustache`, `<kind>.<lang>.html.mustache`, where
/// `<kind>` is `verify_email`, `reset_password`, `password_changed` or `invitation` and `<lang>` a lower-case
/// language tag (`en`, `es`, `pt-br`). A language is used for a kind when it has both a subject and a text; the HTML
/// part is added when that language has one. Variables: ``variables(_:language:)``.
///
/// - Important: a rendered subject never holds a line break or another control character (they become spaces), so
///   nothing a template or a user's name puts in it can add a header.
public struct MailTemplates: Sendable {
    /// The parsed templates by file name, built-ins overlaid by overrides.
    let templates: [String: MustacheTemplate]
    /// The name the messages give the service (`{{app_name}}`).
    public let appName: String
    /// The languages with a text for at least one kind, lower-case.
    public let languages: Set<String>

    /// The language used when the account's has no templates.
    public static let defaultLanguage = "en"
    /// The longest subject kept, in characters.
    static let maxSubjectLength = 250

    /// The built-in templates only.
    public init(appName: String = "Portero") {
        self.init(overrides: .empty, appName: appName)
    }

    /// The built-ins overlaid by `overrides` (their mail templates; others, such as the sign-in page, are ignored).
    public init(overrides: TemplateDirectory, appName: String = "Portero") {
        var templates: [String: MustacheTemplate] = [:]
        for (name, text) in BuiltInMailTemplates.files {
            // Built in and parsed by the tests: a failure here is a bug, not input.
            templates[name] = try? TemplateDirectory.parse(text, name: name, path: "built-in " + name)
        }
        for (name, template) in overrides.templates where Self.parseName(name) != nil {
            templates[name] = template
        }
        self.templates = templates
        self.appName = appName
        self.languages = Set(
            templates.keys.compactMap { name in Self.parseName(name).flatMap { $0.part == .txt ? $0.language : nil } })
    }

    /// The built-ins overlaid by `directory`'s files, checked: each language of a kind has a subject and a text.
    ///
    /// - Throws: ``TemplateError`` naming the file that lacks its partner.
    public static func load(_ directory: TemplateDirectory, appName: String) throws(TemplateError) -> MailTemplates {
        let templates = MailTemplates(overrides: directory, appName: appName)
        for name in directory.templates.keys.sorted() {
            guard let parsed = parseName(name) else { continue }
            for part in [Part.subject, .txt]
            where templates.templates[fileName(parsed.kind, parsed.language, part)] == nil {
                throw TemplateError(
                    "mail.templates: \(directory.paths[name] ?? name): "
                        + "\(fileName(parsed.kind, parsed.language, part)) is missing beside it")
            }
        }
        return templates
    }

    /// The three parts of a message's template.
    enum Part: String, CaseIterable {
        case subject, txt, html
    }

    /// `verify_email.es.subject.mustache`.
    static func fileName(_ kind: MailKind, _ language: String, _ part: Part) -> String {
        "\(kind.rawValue).\(language).\(part.rawValue).mustache"
    }

    /// The kind, language and part a mail template's file name says; nil for any other name.
    static func parseName(_ name: String) -> (kind: MailKind, language: String, part: Part)? {
        guard name.hasSuffix(".mustache") else { return nil }
        let parts = name.dropLast(".mustache".count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let kind = MailKind(rawValue: String(parts[0])),
            let part = Part(rawValue: String(parts[2])),
            let tag = LanguageTag(String(parts[1])), tag.value.lowercased() == parts[1]
        else { return nil }
        return (kind, String(parts[1]), part)
    }

    /// The built-in templates' files, by name (what `portero templates show` prints).
    public static var builtInFiles: [String: String] { BuiltInMailTemplates.files }

    /// Whether `name` is a mail template's file name.
    public static func isMailTemplateName(_ name: String) -> Bool {
        parseName(name) != nil
    }

    /// Whether a language (lower-case tag) has templates.
    public func speaks(_ language: String) -> Bool {
        languages.contains(language)
    }

    /// The language a message of `kind` to an account of `locale` is written in: the locale's tag, then its
    /// language subtag (`es-mx`, `es`), then `en` — the first with a subject and a text for the kind.
    func language(for kind: MailKind, locale: String?) -> String {
        let candidates = (locale.flatMap(LanguageTag.init)?.fallbacks ?? []) + [Self.defaultLanguage]
        return candidates.first { language in
            templates[Self.fileName(kind, language, .subject)] != nil
                && templates[Self.fileName(kind, language, .txt)] != nil
        } ?? Self.defaultLanguage
    }

    /// Renders the message `facts` describe.
    public func render(_ facts: MailFacts) -> ComposedMail {
        let language = language(for: facts.kind, locale: facts.locale)
        let values = variables(facts, language: language)
        func rendered(_ part: Part) -> String? {
            templates[Self.fileName(facts.kind, language, part)]?.render(values)
        }
        return ComposedMail(
            subject: Self.subjectLine(rendered(.subject) ?? facts.kind.rawValue),
            text: rendered(.txt) ?? "",
            html: rendered(.html)
        )
    }

    /// What templates may show: `app_name`, `email`, `name` (when given), `code` and `expiry` / `expiry_minutes`
    /// (for kinds with a code), `at` (UTC, `2026-12-03T16:05:00Z`), `kind` and `language`.
    func variables(_ facts: MailFacts, language: String) -> [String: Any] {
        var values: [String: Any] = [
            "app_name": appName, "email": facts.to, "kind": facts.kind.rawValue, "language": language,
            "at": UTCTimestamp.seconds(facts.at),
        ]
        if let name = facts.name { values["name"] = name }
        if let code = facts.code { values["code"] = code }
        if let lifetime = facts.lifetime {
            values["expiry"] = HumanDuration.describe(lifetime, language: language)
            values["expiry_minutes"] = max(1, lifetime.seconds / 60)
        }
        return values
    }

    /// A subject as one header line: control characters (CR, LF, TAB, …) and Unicode line separators become
    /// spaces, runs of spaces one, none at either end, at most ``maxSubjectLength`` characters.
    static func subjectLine(_ rendered: String) -> String {
        var line = ""
        var lastWasSpace = true
        for scalar in rendered.unicodeScalars {
            let isSpace =
                scalar.properties.generalCategory == .control || scalar == " " || scalar.value == 0x2028
                || scalar.value == 0x2029 || scalar.value == 0x85
            if isSpace {
                if !lastWasSpace { line.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else {
                line.unicodeScalars.append(scalar)
                lastWasSpace = false
            }
        }
        if line.hasSuffix(" ") { line.removeLast() }
        return String(line.prefix(maxSubjectLength))
    }

    /// The service's name for `{{app_name}}`: the display name of `mail.from` (`Acme <no-reply@acme.test>`), else
    /// "Portero".
    public static func appName(from: String) -> String {
        guard let open = from.firstIndex(of: "<") else { return "Portero" }
        var name = from[..<open].trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("\""), name.hasSuffix("\""), name.count >= 2 { name = String(name.dropFirst().dropLast()) }
        return name.isEmpty ? "Portero" : name
    }

    // MARK: - Outbox records from the built-in templates (tests and tools)

    /// A verification message from the built-in English template.
    public static func verification(
        code: String, ttl: TimeSpan = TimeSpan(seconds: 900), to: String, id: UUID = UUID(), userID: UUID? = nil,
        queuedAt: Date = Date()
    ) -> OutboxMail {
        builtIn(.verifyEmail, code: code, ttl: ttl, to: to, id: id, userID: userID, queuedAt: queuedAt)
    }

    /// A password-reset message from the built-in English template.
    public static func passwordReset(
        code: String, ttl: TimeSpan = TimeSpan(seconds: 900), to: String, id: UUID = UUID(), userID: UUID? = nil,
        queuedAt: Date = Date()
    ) -> OutboxMail {
        builtIn(.resetPassword, code: code, ttl: ttl, to: to, id: id, userID: userID, queuedAt: queuedAt)
    }

    private static func builtIn(
        _ kind: MailKind, code: String, ttl: TimeSpan, to: String, id: UUID, userID: UUID?, queuedAt: Date
    ) -> OutboxMail {
        let composed = MailTemplates().render(MailFacts(kind: kind, to: to, code: code, lifetime: ttl, at: queuedAt))
        var mail = OutboxMail(
            id: id, to: to, subject: composed.subject, text: composed.text, kind: kind.rawValue, code: code,
            userID: userID, queuedAt: queuedAt)
        mail.html = composed.html
        return mail
    }
}
