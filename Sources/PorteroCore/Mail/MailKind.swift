/// What a message is for; the `kind` of its outbox record and webhook payload, and the first part of its template
/// files' names (`verify_email.es.subject.mustache`).
public enum MailKind: String, Sendable, CaseIterable, Codable {
    /// A code that confirms the address (`/register`, `/resend-verification`).
    case verifyEmail = "verify_email"
    /// A code that sets a new password (`/password/forgot`).
    case resetPassword = "reset_password"
    /// The notice that the password was changed or reset; no code, no link.
    case passwordChanged = "password_changed"
    /// An account made for someone by an admin, with a code to choose a password. No use case sends it yet.
    case invitation = "invitation"

    /// The kind of a code's mail.
    public init(_ purpose: CodePurpose) {
        switch purpose {
        case .verifyEmail: self = .verifyEmail
        case .resetPassword: self = .resetPassword
        }
    }

    /// The kind of a notice's mail.
    public init(_ notice: MailNotice) {
        switch notice {
        case .passwordChanged: self = .passwordChanged
        }
    }
}
