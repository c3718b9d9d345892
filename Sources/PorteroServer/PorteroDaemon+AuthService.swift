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
        let hasher = try PasswordHasher(configuration: .init(algorithm: configuration.passwords.algorithm))
        let ttl = HumanDuration.describe(configuration.auth.codeTTL)
        return AuthService(
            store: store,
            tokens: { await tokens.current },
            hasher: hasher,
            policy: try configuration.passwords.policy,
            pool: pool,
            codeKey: codeKey,
            configuration: configuration.auth,
            mail: MailComposer { purpose, code, to in
                let mail =
                    purpose == .verifyEmail
                    ? MailTemplates.verification(code: code, ttl: ttl, to: to)
                    : MailTemplates.passwordReset(code: code, ttl: ttl, to: to)
                return ComposedMail(subject: mail.subject, text: mail.text)
            } notice: { _, to, at in
                let mail = MailTemplates.passwordChanged(at: at, to: to)
                return ComposedMail(subject: mail.subject, text: mail.text)
            },
            mailQueued: { wake.yield() },
            logger: logger,
            resets: PasswordResetQueue()
        )
    }
}
