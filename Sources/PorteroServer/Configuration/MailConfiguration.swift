public import Configuration
import Logging
public import PorteroCore
public import PorteroMail

/// How mail leaves the daemon.
public struct MailConfiguration: Sendable, Equatable {
    public enum Transport: String, Sendable, CaseIterable { case sendmail, maildir, webhook, smtp }

    /// `mail.smtp.*`: the server the smtp transport submits to.
    public struct SMTP: Sendable, Equatable {
        public var host: String?
        public var port: Int
        public var tls: SMTPMailer.Security
        public var username: String?
        /// `mail.smtp.password` (`PORTERO_MAIL_SMTP_PASSWORD` or the file); the credential `smtp-password` is read
        /// when the mailer is made.
        public var password: Secret?
        /// `mail.smtp.ca`: PEM file of a private CA.
        public var ca: String?
    }

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
    /// `mail.smtp.*`.
    public var smtp: SMTP
    /// `mail.webhook_secret`: signs every webhook request.
    public var webhookSecret: Secret?
    /// `mail.webhook_ca`: PEM file of the CA an `https://` webhook's certificate chains to.
    public var webhookCA: String?
    /// `mail.templates`: the directory of template files that override the built-in mail texts and sign-in page.
    public var templates: String

    public static let keys = [
        "mail.transport", "mail.sendmail", "mail.maildir", "mail.webhook", "mail.from", "mail.retry_max_delay",
        "mail.smtp.host", "mail.smtp.port", "mail.smtp.username", "mail.smtp.password", "mail.smtp.tls", "mail.smtp.ca",
        "mail.webhook_secret", "mail.webhook_ca", "mail.templates",
    ]

    /// Reads `mail.transport` (default sendmail when `/usr/sbin/sendmail` exists, else maildir; smtp to
    /// 127.0.0.1:25 without TLS when that sendmail needs privileges the daemon cannot gain), `mail.sendmail`
    /// (default `/usr/sbin/sendmail -t -i`), `mail.maildir` (default `<data_dir>/mail`), `mail.webhook` (needed
    /// by the webhook transport), `mail.from` (default `portero@<hostname>`) and `mail.retry_max_delay` (default 1m,
    /// at most 1m), `mail.smtp.host` (needed by the smtp transport), `mail.smtp.port` (587), `mail.smtp.tls`
    /// (starttls), `mail.smtp.username`, `mail.smtp.password` (a secret), `mail.smtp.ca` (system trust store) and
    /// `mail.templates` (default `/etc/portero/templates`; a missing directory holds no overrides).
    public init(reader: ConfigReader, dataDirectory: String, defaults: MachineDefaults) throws(ConfigurationError) {
        let parser = ConfigParser(reader)
        transport = try parser.choice("mail.transport", default: defaults.mailTransport)
        let localMTA = defaults.localMTA && parser.raw("mail.transport") == nil
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
        smtp = SMTP(
            host: try parser.optionalString("mail.smtp.host") ?? (localMTA ? "127.0.0.1" : nil),
            port: try parser.int("mail.smtp.port", default: localMTA ? 25 : 587, range: 1...65535),
            tls: try parser.choice("mail.smtp.tls", default: localMTA ? .none : .starttls),
            username: try parser.optionalString("mail.smtp.username"),
            password: try parser.optionalString("mail.smtp.password").map(Secret.init),
            ca: try parser.optionalString("mail.smtp.ca")
        )
        webhookSecret = try parser.optionalString("mail.webhook_secret").map(Secret.init)
        webhookCA = try parser.optionalString("mail.webhook_ca")
        templates = try parser.string("mail.templates", default: "/etc/portero/templates", allowEmpty: false)
        if transport == .smtp && smtp.host == nil {
            throw ConfigurationError("invalid value for mail.transport: smtp needs mail.smtp.host")
        }
    }

    /// How the outbox retries: up to `mail.retry_max_delay` apart, for `codeTTL` when a message has no code.
    func outboxPolicy(codeTTL: TimeSpan) -> OutboxWorker.Policy {
        OutboxWorker.Policy(maxDelay: retryMaxDelay.duration, lifetime: codeTTL.duration)
    }

    /// The ``Mailer`` that `mail.transport` names; the SMTP password comes from `mail.smtp.password`, else the
    /// systemd credential `smtp-password` in `environment`'s `CREDENTIALS_DIRECTORY`.
    func makeMailer(logger: Logger, environment: [String: String]) throws -> any Mailer {
        switch transport {
        case .maildir:
            return MaildirMailer(directory: maildir, from: from, logger: logger)
        case .sendmail:
            return try SendmailMailer(command: sendmail, from: from, logger: logger)
        case .webhook:
            guard let webhook else { throw DaemonError("mail.transport is webhook but mail.webhook is empty") }
            var secret = webhookSecret?.value
            if secret == nil, let credentials = environment["CREDENTIALS_DIRECTORY"],
                let bytes = try KeyFiles.read(credentials + "/webhook-secret")
            {
                secret = String(decoding: bytes, as: UTF8.self)
            }
            return try WebhookMailer(target: webhook, secret: secret, caFile: webhookCA, logger: logger)
        case .smtp:
            guard let host = smtp.host else { throw DaemonError("mail.transport is smtp but mail.smtp.host is empty") }
            var password = smtp.password?.value
            if password == nil, let credentials = environment["CREDENTIALS_DIRECTORY"],
                let bytes = try KeyFiles.read(credentials + "/smtp-password")
            {
                password = String(decoding: bytes, as: UTF8.self)
            }
            let settings = SMTPMailer.Settings(
                host: host, port: smtp.port, security: smtp.tls, username: smtp.username, password: password,
                caFile: smtp.ca, from: from)
            return try SMTPMailer(settings: settings, logger: logger)
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
        changes.compare("mail.smtp.host", old.smtp.host, smtp.host)
        changes.compare("mail.smtp.port", old.smtp.port, smtp.port)
        changes.compare("mail.smtp.username", old.smtp.username, smtp.username)
        changes.compare("mail.smtp.password", old.smtp.password, smtp.password)
        changes.compare("mail.smtp.tls", old.smtp.tls, smtp.tls)
        changes.compare("mail.smtp.ca", old.smtp.ca, smtp.ca)
        changes.compare("mail.webhook_secret", old.webhookSecret, webhookSecret)
        changes.compare("mail.webhook_ca", old.webhookCA, webhookCA)
        changes.compare("mail.templates", old.templates, templates)
        return changes.keys
    }
}
