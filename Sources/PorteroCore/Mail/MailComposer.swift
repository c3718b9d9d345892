public import Foundation

/// What a message says: the subject, the plain text and, when its template has one, an HTML alternative.
public struct ComposedMail: Sendable, Equatable {
    public var subject: String
    public var text: String
    /// The `text/html` part; nil: the message is plain text only.
    public var html: String?

    public init(subject: String, text: String, html: String? = nil) {
        self.subject = subject
        self.text = text
        self.html = html
    }
}

/// What a use case knows when it queues a message: everything a template may show.
public struct MailFacts: Sendable, Equatable {
    public var kind: MailKind
    /// The recipient (the account's address).
    public var to: String
    /// The account holder's name, when they gave one.
    public var name: String?
    /// The account's `locale` (BCP 47); nil: the default language.
    public var locale: String?
    /// The one-time code, for the kinds that carry one.
    public var code: String?
    /// How long the code lives (`code_ttl`).
    public var lifetime: TimeSpan?
    /// When it happened (the password change, the code's issue).
    public var at: Date

    public init(
        kind: MailKind, to: String, name: String? = nil, locale: String? = nil, code: String? = nil,
        lifetime: TimeSpan? = nil, at: Date
    ) {
        self.kind = kind
        self.to = to
        self.name = name
        self.locale = locale
        self.code = code
        self.lifetime = lifetime
        self.at = at
    }

    /// The facts of a message to `user`, in their language.
    public init(kind: MailKind, user: User, code: String? = nil, lifetime: TimeSpan? = nil, at: Date) {
        self.init(
            kind: kind, to: user.email, name: user.name, locale: user.locale, code: code, lifetime: lifetime, at: at)
    }
}

/// Builds the messages the use cases queue, from the mail templates (PorteroMail's `MailTemplates`), and tells
/// which languages they are written in.
public struct MailComposer: Sendable {
    let compose: @Sendable (MailFacts) -> ComposedMail
    /// Whether a language (a lower-case tag or its language subtag: `es`, `pt-br`) has templates of its own.
    let speaks: @Sendable (String) -> Bool

    /// - Parameters:
    ///   - speaks: whether templates exist in a language; by default only in `en`.
    ///   - compose: renders a message.
    public init(
        speaks: @escaping @Sendable (String) -> Bool = { $0 == "en" },
        compose: @escaping @Sendable (MailFacts) -> ComposedMail
    ) {
        self.compose = compose
        self.speaks = speaks
    }

    /// A composer that makes code mail with `compose` and notices with a fixed subject and their kind as the text
    /// (for tests and callers without templates).
    public init(_ compose: @escaping @Sendable (_ purpose: CodePurpose, _ code: String, _ to: String) -> ComposedMail) {
        self.init { facts in
            switch facts.kind {
            case .verifyEmail: compose(.verifyEmail, facts.code ?? "", facts.to)
            case .resetPassword: compose(.resetPassword, facts.code ?? "", facts.to)
            case .passwordChanged, .invitation: ComposedMail(subject: facts.kind.rawValue, text: facts.kind.rawValue)
            }
        }
    }

    /// The language to keep for a new account: the `locale` it asked for, else the first of the browser's
    /// `Accept-Language` tags that the templates speak, else its first tag; nil when there is none.
    public func language(requested: LanguageTag?, accepted: [LanguageTag]) -> LanguageTag? {
        if let requested { return requested }
        return accepted.first { tag in tag.fallbacks.contains(where: speaks) } ?? accepted.first
    }
}
