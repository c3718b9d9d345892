import PorteroCore
import PorteroMail
import PorteroStore

extension PorteroDaemon {
    /// The auth use cases as `password.*`, `code_ttl`, `refresh_ttl`, `lockout.*` and `rate.*` configure them,
    /// mailing with the templates in force.
    func makeAuthService(
        store: FileStore<AuthState>,
        tokens: TokenServiceHolder,
        pool: BlockingWorkPool,
        codeKey: [UInt8],
        templates: LiveTemplates,
        wake: AsyncStream<Void>.Continuation
    ) throws -> AuthService {
        let hasher = try PasswordHasher(configuration: .init(algorithm: configuration.passwords.algorithm))
        return AuthService(
            store: store,
            tokens: { tokens.current },
            hasher: hasher,
            policy: try configuration.passwords.policy,
            pool: pool,
            codeKey: codeKey,
            configuration: configuration.auth,
            mail: MailComposer(speaks: { templates.mail.speaks($0) }) { facts in templates.mail.render(facts) },
            mailQueued: { wake.yield() },
            logger: logger,
            resets: PasswordResetQueue()
        )
    }
}
