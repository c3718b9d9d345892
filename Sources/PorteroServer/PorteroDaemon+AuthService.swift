import PorteroCore
import PorteroMail
import PorteroStore

extension PorteroDaemon {
    /// The auth use cases as `password.*`, `code_ttl`, `refresh_ttl`, `lockout.*` and `rate.*` configure them,
    /// mailing their codes with the built-in templates.
    func makeAuthService(
        store: FileStore<AuthState>,
        tokens: TokenServiceHolder,
        pool: BlockingWorkPool,
        codeKey: [UInt8],
        wake: AsyncStream<Void>.Continuation
    ) throws -> AuthService {
        let hasher = try PasswordHasher(
            configuration: .init(algorithm: configuration.passwordAlgorithm == .bcrypt ? .bcrypt : .argon2id)
        )
        guard
            let policy = PasswordPolicy(
                minLength: configuration.passwordMinLength,
                maxLength: configuration.passwordMaxLength
            )
        else {
            throw DaemonError("password.min_length must not exceed password.max_length")
        }
        let ttl = HumanDuration.describe(configuration.codeTTL)
        return AuthService(
            store: store,
            tokens: { await tokens.current },
            hasher: hasher,
            policy: policy,
            pool: pool,
            codeKey: codeKey,
            configuration: AuthConfiguration(configuration),
            mail: MailComposer { purpose, code, to in
                let mail =
                    purpose == .verifyEmail
                    ? MailTemplates.verification(code: code, ttl: ttl, to: to)
                    : MailTemplates.passwordReset(code: code, ttl: ttl, to: to)
                return ComposedMail(subject: mail.subject, text: mail.text)
            },
            mailQueued: { wake.yield() },
            logger: logger,
            resets: PasswordResetQueue()
        )
    }
}

extension AuthConfiguration {
    /// The auth settings of a configuration: `refresh_ttl`, `code_ttl`, `lockout.*`, `rate.*`.
    init(_ configuration: PorteroConfiguration) {
        self.init(
            refreshTTL: configuration.refreshTTL,
            codeTTL: configuration.codeTTL,
            lockoutMaxFailures: configuration.lockoutMaxFailures,
            lockoutDuration: configuration.lockoutDuration,
            rates: RateLimits(
                login: configuration.rateLogin,
                register: configuration.rateRegister,
                verify: configuration.rateVerify,
                resend: configuration.rateResend,
                forgot: configuration.rateForgot
            )
        )
    }
}
