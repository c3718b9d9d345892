public import Foundation

/// A mail that tells the owner of an account something happened to it; it carries no code and no link, so it is
/// safe even when the mailbox is not the account holder's.
public enum MailNotice: String, Sendable, CaseIterable {
    /// The password was changed (`/password/change`) or reset with a code (`/password/reset`).
    case passwordChanged = "password_changed"
}

/// Makes the outbox records of notices.
struct Notices: Sendable {
    let mail: MailComposer

    /// The record that queues a `password_changed` notice to `user`.
    func passwordChanged(to user: User, now: Date) -> AuthRecord {
        let composed = mail.compose(MailFacts(kind: .passwordChanged, user: user, at: now))
        var queued = OutboxMail(
            id: UUID(), to: user.email, subject: composed.subject, text: composed.text,
            kind: MailNotice.passwordChanged.rawValue, code: nil, userID: user.id, queuedAt: now)
        queued.html = composed.html
        return .mailQueued(queued)
    }
}

extension AuthService {
    var notices: Notices { Notices(mail: mail) }
}
