public import Foundation
public import Logging
public import PorteroCore
public import PorteroStore

/// An ``AuthService`` over a ``MemoryStore`` with a ``TestClock``, cheap password hashing and an HS256 key: the
/// use cases as the daemon runs them, without files, sockets or sleeps.
public struct AuthHarness: Sendable {
    public let store: MemoryStore<AuthState>
    public let clock: TestClock
    public let auth: AuthService
    public let pool: BlockingWorkPool
    /// Cheap argon2id parameters, so a test hashes in milliseconds.
    public static let testHashing = PasswordHasher.Configuration(
        algorithm: .argon2id, argon2id: .init(memoryKiB: 64, iterations: 1))

    public init(
        configuration: AuthConfiguration = AuthConfiguration(),
        hashing: PasswordHasher.Configuration = AuthHarness.testHashing,
        inlineResets: Bool = true,
        mail: MailComposer = MailComposer { purpose, code, to in
            ComposedMail(subject: purpose.rawValue, text: "code \(code) for \(to)")
        }
    ) async throws {
        let clock = TestClock()
        let store = MemoryStore<AuthState>(now: { clock.now })
        guard let keys = await SigningKeys.hs256(secret: Array(repeating: 7, count: 32)) else {
            preconditionFailure("a 32-byte secret is a valid HS256 key")
        }
        let tokens = TokenService(
            signingKeys: keys, issuer: "portero", audience: "portero", accessTTL: .seconds(3600),
            verificationTTL: .seconds(configuration.codeTTL.seconds))
        let pool = BlockingWorkPool(threadCount: 2, queueCapacity: 64, name: "test-hash")
        self.store = store
        self.clock = clock
        self.pool = pool
        self.auth = AuthService(
            store: store,
            tokens: { tokens },
            hasher: try PasswordHasher(configuration: hashing),
            policy: .default,
            pool: pool,
            codeKey: Array(repeating: 9, count: 32),
            configuration: configuration,
            mail: mail,
            clock: clock.source,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }),
            resets: inlineResets ? nil : PasswordResetQueue(capacity: 4)
        )
    }

    /// A caller from `address`.
    public func caller(_ address: String = "192.0.2.1", agent: String? = "test") -> Caller {
        Caller(
            address: address, userAgent: agent,
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    /// The plain code of the newest mail queued for `email` with this purpose.
    public func mailedCode(to email: String, _ purpose: CodePurpose) async -> String? {
        await store.state.outbox.values
            .filter { $0.to == email && $0.kind == purpose.rawValue && $0.code != nil }
            .max { $0.queuedAt < $1.queuedAt }?.code
    }

    public func email(_ address: String) throws -> Email {
        try Email(validating: address)
    }

    /// Registers `address` with `password` and returns the account.
    @discardableResult
    public func register(_ address: String, password: String = "correct horse battery") async throws -> User {
        var budget = RateBudget.unlimited(.register)
        return try await auth.register(
            email: try email(address), password: try auth.newPassword(password), profile: .none, caller: caller(),
            budget: &budget
        ).user
    }

    /// Registers and verifies `address`; returns the sign-in verification gave.
    public func verifiedUser(_ address: String, password: String = "correct horse battery") async throws -> SignedIn {
        try await register(address, password: password)
        guard let code = await mailedCode(to: address, .verifyEmail) else { throw HarnessError("no code was mailed") }
        var budget = RateBudget.unlimited(.verify)
        return try await auth.verifyEmail(.email(try email(address)), code: code, caller: caller(), budget: &budget)
    }

    /// Changes the password with an unlimited budget.
    @discardableResult
    public func changePassword(_ auth: Authenticated, current: String, new: NewPassword, caller: Caller)
        async throws -> SignedIn
    {
        var budget = RateBudget.unlimited(.passwordChange)
        return try await self.auth.changePassword(auth, current: current, new: new, caller: caller, budget: &budget)
    }

    /// Resets the password with an unlimited budget.
    /// Changes `address`'s password from a new session of its own (the ways a session ends, tested beside it).
    public func changePasswordFromAnotherSession(
        _ address: String, current: String = "correct horse battery", new: String = "a new horse battery"
    ) async throws {
        let other = try await login(address)
        let otherAuth = try await auth.authenticate(accessToken: other.accessToken)
        _ = try await changePassword(otherAuth, current: current, new: try auth.newPassword(new), caller: caller())
    }

    /// Runs the whole forgotten-password flow for `address`: request, the mailed code, the new password.
    public func resetPasswordByMailedCode(_ address: String, new: String = "a new horse battery") async throws {
        var budget = RateBudget.unlimited(.forgot)
        try await auth.forgotPassword(try email(address), caller: caller(), budget: &budget)
        guard let code = await mailedCode(to: address, .resetPassword) else { throw HarnessError("no code was mailed") }
        try await resetPassword(email: try email(address), code: code, new: try auth.newPassword(new), caller: caller())
    }

    public func resetPassword(email: Email, code: String, new: NewPassword, caller: Caller) async throws {
        var budget = RateBudget.unlimited(.reset)
        try await auth.resetPassword(email: email, code: code, new: new, caller: caller, budget: &budget)
    }

    /// The mails queued to `email` of `kind`, oldest first.
    public func mails(to email: String, kind: String) async -> [OutboxMail] {
        await store.state.outbox.values.filter { $0.to == email && $0.kind == kind }.sorted {
            $0.queuedAt < $1.queuedAt
        }
    }

    /// Logs in.
    public func login(_ address: String, _ password: String = "correct horse battery", from: String = "192.0.2.1")
        async throws -> SignedIn
    {
        var budget = RateBudget.unlimited(.login)
        return try await auth.login(
            email: try email(address), password: password, caller: caller(from), budget: &budget)
    }
}

/// A step of the harness that could not be taken.
public struct HarnessError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
