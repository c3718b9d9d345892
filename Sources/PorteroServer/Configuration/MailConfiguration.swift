public import Configuration
import Logging
public import PorteroCore
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
    /// `mail.retry_max_delay`: the longest wait between two delivery attempts of one message.
    public var retryMaxDelay: TimeSpan

    public static let keys = [
        "mail.transport", "mail.sendmail", "mail.maildir", "mail.webhook", "mail.from", "mail.retry_max_delay",
    ]

    /// Reads `mail.transport` (default sendmail when `/usr/sbin/sendmail` exists, else maildir), `mail.sendmail`
    /// (default `/usr/sbin/sendmail -t -i`), `mail.maildir` (default `<data_dir>/mail`), `mail.webhook` (needed
    /// by the webhook transport), `mail.from` (default `portero@<hostname>`) and `mail.retry_max_delay` (default 1m,
    /// at most 1m).
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
        retryMaxDelay = try parser.timeSpan("mail.retry_max_delay", default: "1m")
        if retryMaxDelay.seconds > 60 {
            throw ConfigurationError("invalid value for mail.retry_max_delay: at most 1m (60s)")
        }
    }

    /// How the outbox retries: up to `mail.retry_max_delay` apart, for `codeTTL` when a message has no code.
    func outboxPolicy(codeTTL: TimeSpan) -> OutboxWorker.Policy {
        OutboxWorker.Policy(maxDelay: retryMaxDelay.duration, lifetime: codeTTL.duration)
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
        changes.compare("mail.retry_max_delay", old.retryMaxDelay, retryMaxDelay)
        return changes.keys
    }
}
