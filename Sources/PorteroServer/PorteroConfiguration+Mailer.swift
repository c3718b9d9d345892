import Logging
import PorteroCore
import PorteroMail

extension PorteroConfiguration {
    /// The ``Mailer`` that `mail.transport` names, set up from `mail.*`.
    func makeMailer(logger: Logger) throws -> any Mailer {
        let configuration = self
        switch configuration.mailTransport {
        case .maildir:
            return MaildirMailer(directory: configuration.mailMaildir, from: configuration.mailFrom, logger: logger)
        case .sendmail:
            return try SendmailMailer(command: configuration.mailSendmail, from: configuration.mailFrom, logger: logger)
        case .webhook:
            guard let target = configuration.mailWebhook else {
                throw DaemonError("mail.transport is webhook but mail.webhook is empty")
            }
            return try WebhookMailer(target: target, logger: logger)
        }
    }
}
