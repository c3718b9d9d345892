public import PorteroCore
public import Foundation
import PorteroFormat

/// The texts of the messages Portero sends.
///
/// Each template says what the code is for, how long it lasts, and what to do if the reader did not ask for it.
/// The code appears in the body only, never in the subject (subjects end up in mail logs and notifications).
public enum MailTemplates {
    /// The `kind` of a verification message.
    public static let verificationKind = "verify_email"
    /// The `kind` of a password-reset message.
    public static let passwordResetKind = "reset_password"
    /// The `kind` of the notice that a password was changed or reset.
    public static let passwordChangedKind = MailNotice.passwordChanged.rawValue

    /// A message carrying an email-verification code.
    ///
    /// - Parameters:
    ///   - code: the 6-digit code.
    ///   - ttl: how long the code lasts, as a human duration ("15 minutes").
    ///   - to: the recipient's address.
    ///   - id: the message's identifier (becomes part of its `Message-ID`).
    ///   - userID: the user the message is about.
    public static func verification(
        code: String,
        ttl: String,
        to: String,
        id: UUID = UUID(),
        userID: UUID? = nil,
        queuedAt: Date = Date()
    ) -> OutboxMail {
        let text = """
            Your Portero verification code is \(code).

            Enter it to confirm your email address. It expires in \(ttl).

            If you did not ask for it, ignore this message.
            """
        return OutboxMail(
            id: id,
            to: to,
            subject: "Verify your email address",
            text: text + "\n",
            kind: verificationKind,
            code: code,
            userID: userID,
            queuedAt: queuedAt
        )
    }

    /// A message carrying a password-reset code.
    ///
    /// - Parameters:
    ///   - code: the 6-digit code.
    ///   - ttl: how long the code lasts, as a human duration ("15 minutes").
    ///   - to: the recipient's address.
    ///   - id: the message's identifier (becomes part of its `Message-ID`).
    ///   - userID: the user the message is about.
    public static func passwordReset(
        code: String,
        ttl: String,
        to: String,
        id: UUID = UUID(),
        userID: UUID? = nil,
        queuedAt: Date = Date()
    ) -> OutboxMail {
        let text = """
            Your Portero password reset code is \(code).

            Enter it with your new password. It expires in \(ttl).

            If you did not ask to reset your password, ignore this message: your password has not been changed.
            """
        return OutboxMail(
            id: id,
            to: to,
            subject: "Reset your password",
            text: text + "\n",
            kind: passwordResetKind,
            code: code,
            userID: userID,
            queuedAt: queuedAt
        )
    }

    /// The notice that an account's password was changed or reset. It carries no code and no link.
    ///
    /// - Parameters:
    ///   - at: when it happened, shown in UTC.
    ///   - to: the recipient's address.
    ///   - id: the message's identifier (becomes part of its `Message-ID`).
    ///   - userID: the user the message is about.
    public static func passwordChanged(
        at: Date,
        to: String,
        id: UUID = UUID(),
        userID: UUID? = nil,
        queuedAt: Date = Date()
    ) -> OutboxMail {
        let text = """
            The password of your Portero account \(to) was changed at \(UTCTimestamp.seconds(at)).

            If this was you, there is nothing to do.

            If this was not you, someone else knows your password or can read your mail: reset your password now \
            with "forgot password", and check who can access this mailbox.
            """
        return OutboxMail(
            id: id,
            to: to,
            subject: "Your password was changed",
            text: text + "\n",
            kind: passwordChangedKind,
            code: nil,
            userID: userID,
            queuedAt: queuedAt
        )
    }
}
