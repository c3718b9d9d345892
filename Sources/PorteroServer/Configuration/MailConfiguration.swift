public import Configuration
import Logging
import PorteroCore
import PorteroMail

/// How mail leaves the daemon.
public struct MailConfiguration: Sendable, Equatable {
    public enum Transport: String, Sendable, CaseIterable { case sendmail, maildir, webhook }

    /// `mail.transport`.
    public var transport: Transport
    /// `mail.sendmail`: the command line of the sendmail transport.
    public var sendmail: String
    /// `mail.maildir`: the Maildir the maildir transport delivers into.
    public var maildir: String
    /// `mail.webhook`: `http://…`, `https://…` or `unix:/path`.
    public var webhook: String?
    /// `mail.from`: the sender.
    public var from: String

    public static let keys = ["mail.transport", "mail.sendmail", "mail.maildir", "mail.webhook", "mail.from"]

    /// Reads `mail.transport` (default sendmail when `/usr/sbin/sendmail` exists, else maildir), `mail.sendmail`
    /// (default `/usr/sbin/sendmail -t -i`), `mail.maildir` (default `<data_dir>/mail`), `mail.webhook` (needed
    /// by the webhook transport) and `mail.from` (default `portero@<hostname>`).
    public init(reader: ConfigReader, dataDirectory: String, defaults: MachineDefaults) throws(ConfigurationError) {
        let parser = ConfigParser(reader)
        transport = try parser.choice("mail.transport", default: defaults.mailTransport)
        sendmail = try parser.string("mail.sendmail", default: "/usr/sbin/sendmail -t -i", allowEmpty: false)
        maildir = try parser.string("mail.maildir", default: dataDirectory + "/mail", allowEmpty: false)
        webhook = try parser.optionalString("mail.webhook")
        if let webhook, !(webhook.hasPrefix("http://") || webhook.hasPrefix("https://") || webhook.hasPrefix("unix:")) {
            throw ConfigurationError("invalid value for mail.webhook: must start with http://, https:// or unix:")
        }
        if transport == .webhook && webhook == nil {
            throw ConfigurationError("invalid value for mail.transport: webhook needs mail.webhook")
        }
        from = try parser.string("mail.from", default: defaults.mailFrom, allowEmpty: false)
    }

    /// The ``Mailer`` that `mail.transport` names.
    func makeMailer(logger: Logger) throws -> any Mailer {
        switch transport {
        case .maildir:
            return MaildirMailer(directory: maildir, from: from, logger: logger)
        case .sendmail:
            return try SendmailMailer(command: sendmail, from: from, logger: logger)
        case .webhook:
            guard let webhook else { throw DaemonError("mail.transport is webhook but mail.webhook is empty") }
            return try WebhookMailer(target: webhook, logger: logger)
        }
    }

    func changedKeys(since old: Self) -> [String] {
        var changes = KeyChanges()
        changes.compare("mail.transport", old.transport, transport)
        changes.compare("mail.sendmail", old.sendmail, sendmail)
        changes.compare("mail.maildir", old.maildir, maildir)
        changes.compare("mail.webhook", old.webhook, webhook)
        changes.compare("mail.from", old.from, from)
        return changes.keys
    }
}
