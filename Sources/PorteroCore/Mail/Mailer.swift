public import Foundation

/// The port through which queued mail leaves: delivers one outbox record by some transport (PorteroMail's
/// `SendmailMailer`, `MaildirMailer`, `SMTPMailer`, `WebhookMailer`).
///
/// - Important: `deliver` returns only once the transport has accepted the message (the sendmail command exited 0,
///   the file is in the Maildir's `new/`, the webhook answered 2xx). It throws a `MailError` otherwise, whose
///   description never contains the message's body or code.
public protocol Mailer: Sendable {
    /// Hands `message` to the transport.
    func deliver(_ message: OutboxMail) async throws

    /// Releases what the transport holds (connection pools); called once the outbox stops.
    func shutdown() async

    /// The start-up check: throws a `MailError` saying why the transport cannot work (a missing sendmail binary, an
    /// unwritable Maildir, an SMTP server that does not answer or refuses the login). Sends no mail.
    func check() async throws
}

extension Mailer {
    /// Nothing to check beforehand.
    public func check() async throws {}

    /// Most transports hold nothing between deliveries.
    public func shutdown() async {}
}
