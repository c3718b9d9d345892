public import Foundation

/// One message from the outbox, ready for a transport.
///
/// The transports build the wire form from it: an RFC 5322 message for `SendmailMailer` and `MaildirMailer`,
/// a JSON document for `WebhookMailer`.
public struct MailMessage: Sendable, Equatable {
    /// Identifies the message; it becomes the local part of the `Message-ID` header.
    public var id: UUID
    /// The recipient's address. Validated upstream; a CR, LF or NUL in it is still refused by the transports.
    public var to: String
    /// The subject line, any Unicode text (encoded as an RFC 2047 encoded-word when not ASCII).
    public var subject: String
    /// The plain-text body.
    public var text: String
    /// What the message is for: `"verify_email"` or `"reset_password"`.
    public var kind: String
    /// The one-time code the message carries; only `WebhookMailer` sends it as a separate field.
    public var code: String?
    /// The user the message is about, if known.
    public var userID: UUID?

    /// Creates a message.
    public init(
        id: UUID,
        to: String,
        subject: String,
        text: String,
        kind: String,
        code: String? = nil,
        userID: UUID? = nil
    ) {
        self.id = id
        self.to = to
        self.subject = subject
        self.text = text
        self.kind = kind
        self.code = code
        self.userID = userID
    }
}

/// Delivers outbox messages by some transport.
///
/// - Important: `deliver` returns only once the transport has accepted the message (the sendmail command exited 0,
///   the file is in the Maildir's `new/`, the webhook answered 2xx). It throws a `MailError` otherwise, whose
///   description never contains the message's body or code.
public protocol Mailer: Sendable {
    /// Hands `message` to the transport.
    func deliver(_ message: MailMessage) async throws
}
