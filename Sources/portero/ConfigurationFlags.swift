import ArgumentParser

/// One flag per configuration key of SPEC §2 (`a.b_c` → `--a-b-c`), except secrets.
struct ConfigurationFlags: ParsableArguments {
    @Option(name: .customLong("config"), help: "Config file (default /etc/portero/portero.yaml if it exists).")
    var configPath: String?

    @Option(name: .customLong("data-dir"), help: "Store location.")
    var dataDir: String?

    @Option(name: .customLong("listen"), help: "TCP address host:port; empty for none.")
    var listen: String?

    @Option(name: .customLong("socket"), help: "Unix socket path; empty for none.")
    var socket: String?

    @Option(name: .customLong("socket-mode"), help: "Octal permissions of the Unix socket.")
    var socketMode: String?

    @Option(name: .customLong("tls-certificate"), help: "Overrides the config key tls.certificate.")
    var tlsCertificate: String?

    @Option(name: .customLong("tls-key"), help: "Overrides the config key tls.key.")
    var tlsKey: String?

    @Option(name: .customLong("admin-group"), help: "Overrides the config key admin_group.")
    var adminGroup: String?

    @Option(
        name: .customLong("trusted-proxies"), help: "Comma-separated CIDRs (or unix) whose X-Forwarded-For is believed."
    )
    var trustedProxies: String?

    @Option(name: .customLong("issuer"), help: "Overrides the config key issuer.")
    var issuer: String?

    @Option(name: .customLong("audience"), help: "Overrides the config key audience.")
    var audience: String?

    @Option(name: .customLong("jwt-algorithm"), help: "Overrides the config key jwt.algorithm.")
    var jwtAlgorithm: String?

    @Option(name: .customLong("access-ttl"), help: "Overrides the config key access_ttl.")
    var accessTtl: String?

    @Option(name: .customLong("refresh-ttl"), help: "Overrides the config key refresh_ttl.")
    var refreshTtl: String?

    @Option(name: .customLong("session-max-age"), help: "Overrides the config key session.max_age.")
    var sessionMaxAge: String?

    @Option(
        name: .customLong("registration-unverified-ttl"),
        help: "Overrides the config key registration.unverified_ttl.")
    var registrationUnverifiedTtl: String?

    @Option(name: .customLong("code-ttl"), help: "Overrides the config key code_ttl.")
    var codeTtl: String?

    @Option(name: .customLong("password-algorithm"), help: "Overrides the config key password.algorithm.")
    var passwordAlgorithm: String?

    @Option(name: .customLong("password-min-length"), help: "Overrides the config key password.min_length.")
    var passwordMinLength: String?

    @Option(name: .customLong("password-max-length"), help: "Overrides the config key password.max_length.")
    var passwordMaxLength: String?

    @Option(name: .customLong("lockout-max-failures"), help: "Overrides the config key lockout.max_failures.")
    var lockoutMaxFailures: String?

    @Option(name: .customLong("lockout-duration"), help: "Overrides the config key lockout.duration.")
    var lockoutDuration: String?

    @Option(name: .customLong("rate-login"), help: "Overrides the config key rate.login.")
    var rateLogin: String?

    @Option(name: .customLong("rate-register"), help: "Overrides the config key rate.register.")
    var rateRegister: String?

    @Option(name: .customLong("rate-verify"), help: "Overrides the config key rate.verify.")
    var rateVerify: String?

    @Option(name: .customLong("rate-resend"), help: "Overrides the config key rate.resend.")
    var rateResend: String?

    @Option(name: .customLong("rate-forgot"), help: "Overrides the config key rate.forgot.")
    var rateForgot: String?

    @Option(name: .customLong("snapshot-every-records"), help: "Overrides the config key snapshot.every_records.")
    var snapshotEveryRecords: String?

    @Option(name: .customLong("snapshot-every"), help: "Overrides the config key snapshot.every.")
    var snapshotEvery: String?

    @Option(name: .customLong("mail-transport"), help: "Overrides the config key mail.transport.")
    var mailTransport: String?

    @Option(name: .customLong("mail-sendmail"), help: "Overrides the config key mail.sendmail.")
    var mailSendmail: String?

    @Option(name: .customLong("mail-maildir"), help: "Overrides the config key mail.maildir.")
    var mailMaildir: String?

    @Option(name: .customLong("mail-webhook"), help: "Overrides the config key mail.webhook.")
    var mailWebhook: String?

    @Option(name: .customLong("mail-from"), help: "Overrides the config key mail.from.")
    var mailFrom: String?

    @Option(name: .customLong("mail-retry-max-delay"), help: "Overrides the config key mail.retry_max_delay.")
    var mailRetryMaxDelay: String?

    @Option(name: .customLong("mail-smtp-host"), help: "Overrides the config key mail.smtp.host.")
    var mailSmtpHost: String?

    @Option(name: .customLong("mail-smtp-port"), help: "Overrides the config key mail.smtp.port.")
    var mailSmtpPort: String?

    @Option(name: .customLong("mail-smtp-username"), help: "Overrides the config key mail.smtp.username.")
    var mailSmtpUsername: String?

    @Option(name: .customLong("mail-smtp-tls"), help: "Overrides the config key mail.smtp.tls.")
    var mailSmtpTls: String?

    @Option(name: .customLong("mail-smtp-ca"), help: "Overrides the config key mail.smtp.ca.")
    var mailSmtpCa: String?

    @Option(name: .customLong("mail-webhook-ca"), help: "Overrides the config key mail.webhook_ca.")
    var mailWebhookCa: String?

    @Option(name: .customLong("mail-templates"), help: "Overrides the config key mail.templates.")
    var mailTemplates: String?

    @Option(
        name: .customLong("cookie-enabled"), help: "true: set and accept the portero_session cookie; serve /signin.")
    var cookieEnabled: String?

    @Option(name: .customLong("cookie-domain"), help: "Overrides the config key cookie.domain.")
    var cookieDomain: String?

    @Option(name: .customLong("cookie-secure"), help: "false only for plain-HTTP development.")
    var cookieSecure: String?

    @Option(
        name: .customLong("forward-auth-redirect-hosts"),
        help: "Comma-separated hosts the sign-in page may send a browser back to (rd=).")
    var forwardAuthRedirectHosts: String?

    @Option(name: .customLong("metrics-tcp"), help: "true: also serve /metrics on TCP (always on the Unix socket).")
    var metricsTcp: String?

    @Option(name: .customLong("log-format"), help: "Overrides the config key log.format.")
    var logFormat: String?

    @Option(name: .customLong("log-level"), help: "Overrides the config key log.level.")
    var logLevel: String?

    /// The values given, by configuration key.
    var values: [String: String] {
        var values: [String: String] = [:]
        if let value = dataDir { values["data_dir"] = value }
        if let value = listen { values["listen"] = value }
        if let value = socket { values["socket"] = value }
        if let value = socketMode { values["socket_mode"] = value }
        if let value = tlsCertificate { values["tls.certificate"] = value }
        if let value = tlsKey { values["tls.key"] = value }
        if let value = adminGroup { values["admin_group"] = value }
        if let value = trustedProxies { values["trusted_proxies"] = value }
        if let value = issuer { values["issuer"] = value }
        if let value = audience { values["audience"] = value }
        if let value = jwtAlgorithm { values["jwt.algorithm"] = value }
        if let value = accessTtl { values["access_ttl"] = value }
        if let value = refreshTtl { values["refresh_ttl"] = value }
        if let value = sessionMaxAge { values["session.max_age"] = value }
        if let value = registrationUnverifiedTtl { values["registration.unverified_ttl"] = value }
        if let value = codeTtl { values["code_ttl"] = value }
        if let value = passwordAlgorithm { values["password.algorithm"] = value }
        if let value = passwordMinLength { values["password.min_length"] = value }
        if let value = passwordMaxLength { values["password.max_length"] = value }
        if let value = lockoutMaxFailures { values["lockout.max_failures"] = value }
        if let value = lockoutDuration { values["lockout.duration"] = value }
        if let value = rateLogin { values["rate.login"] = value }
        if let value = rateRegister { values["rate.register"] = value }
        if let value = rateVerify { values["rate.verify"] = value }
        if let value = rateResend { values["rate.resend"] = value }
        if let value = rateForgot { values["rate.forgot"] = value }
        if let value = snapshotEveryRecords { values["snapshot.every_records"] = value }
        if let value = snapshotEvery { values["snapshot.every"] = value }
        if let value = mailTransport { values["mail.transport"] = value }
        if let value = mailSendmail { values["mail.sendmail"] = value }
        if let value = mailMaildir { values["mail.maildir"] = value }
        if let value = mailWebhook { values["mail.webhook"] = value }
        if let value = mailFrom { values["mail.from"] = value }
        if let value = mailRetryMaxDelay { values["mail.retry_max_delay"] = value }
        if let value = mailSmtpHost { values["mail.smtp.host"] = value }
        if let value = mailSmtpPort { values["mail.smtp.port"] = value }
        if let value = mailSmtpUsername { values["mail.smtp.username"] = value }
        if let value = mailSmtpTls { values["mail.smtp.tls"] = value }
        if let value = mailSmtpCa { values["mail.smtp.ca"] = value }
        if let value = mailWebhookCa { values["mail.webhook_ca"] = value }
        if let value = mailTemplates { values["mail.templates"] = value }

        if let value = cookieEnabled { values["cookie.enabled"] = value }
        if let value = cookieDomain { values["cookie.domain"] = value }
        if let value = cookieSecure { values["cookie.secure"] = value }
        if let value = forwardAuthRedirectHosts { values["forward_auth.redirect_hosts"] = value }
        if let value = metricsTcp { values["metrics.tcp"] = value }
        if let value = logFormat { values["log.format"] = value }
        if let value = logLevel { values["log.level"] = value }
        return values
    }
}
