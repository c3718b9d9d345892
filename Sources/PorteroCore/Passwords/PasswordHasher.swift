internal import HummingbirdBcrypt

/// Hashes new passwords with the configured algorithm and verifies stored argon2id and bcrypt hashes.
///
/// Every method is synchronous and, apart from `needsRehash(_:)`, slow on purpose (tens of milliseconds):
/// run them on a `BlockingWorkPool`, never on an event loop or the cooperative pool.
///
/// The password given to `hash(_:)` and `verify(_:against:)` is used byte for byte (its UTF-8); normalise it first
/// with `PasswordPolicy.normalize(_:)` (or take what `PasswordPolicy.validate(_:algorithm:)` returns).
public struct PasswordHasher: Sendable {
    /// The algorithm for new hashes (SPEC `password.algorithm`). Both are always verified.
    public enum Algorithm: String, Sendable, Hashable, CaseIterable {
        /// Argon2id (RFC 9106), PHC string format.
        case argon2id
        /// bcrypt, `$2b$`.
        case bcrypt
    }

    /// Argon2id costs and lengths.
    public struct Argon2Parameters: Sendable, Hashable {
        /// Memory, in KiB (`m`).
        public var memoryKiB: Int
        /// Passes over memory (`t`).
        public var iterations: Int
        /// Lanes (`p`).
        public var parallelism: Int
        /// Random salt, in bytes.
        public var saltLength: Int
        /// Output, in bytes.
        public var hashLength: Int

        /// - Parameters:
        ///   - memoryKiB: `m`, in KiB; at least `8 * parallelism`, at most 1 GiB.
        ///   - iterations: `t`, 1 to 16.
        ///   - parallelism: `p`, 1 to 16.
        ///   - saltLength: 8 to 64 bytes.
        ///   - hashLength: 16 to 128 bytes.
        public init(
            memoryKiB: Int = 19_456,
            iterations: Int = 2,
            parallelism: Int = 1,
            saltLength: Int = 16,
            hashLength: Int = 32
        ) {
            self.memoryKiB = memoryKiB
            self.iterations = iterations
            self.parallelism = parallelism
            self.saltLength = saltLength
            self.hashLength = hashLength
        }

        /// m=19 MiB, t=2, p=1, 16-byte salt, 32-byte hash: OWASP's minimum for argon2id, and the SPEC's default.
        public static let recommended = Self()
    }

    /// What new hashes look like.
    public struct Configuration: Sendable, Hashable {
        /// The algorithm for new hashes.
        public var algorithm: Algorithm
        /// Argon2id costs, used when `algorithm` is `.argon2id`.
        public var argon2id: Argon2Parameters
        /// bcrypt cost (log2 rounds, 4 to 16), used when `algorithm` is `.bcrypt`.
        public var bcryptCost: Int

        public init(algorithm: Algorithm = .argon2id, argon2id: Argon2Parameters = .recommended, bcryptCost: Int = 12) {
            self.algorithm = algorithm
            self.argon2id = argon2id
            self.bcryptCost = bcryptCost
        }
    }

    /// What new hashes look like.
    public let configuration: Configuration

    /// A hash of a random password, made once at `init` with the configured algorithm and costs, so that a login
    /// for an unknown user can cost as much as one with a wrong password (see `verifyDummy(_:)`).
    public let dummyHash: String

    /// Checks the configuration and computes `dummyHash` (one hash: tens of milliseconds).
    ///
    /// - Throws: `PasswordHashingError` of kind `.invalidConfiguration` when a cost or length is out of range
    ///   (the ranges are those a stored hash may have, so that every hash made here can be verified).
    public init(configuration: Configuration = .init()) throws(PasswordHashingError) {
        try Self.check(configuration)
        self.configuration = configuration
        var generator = SystemRandomNumberGenerator()
        let dummyPassword = (0..<16).map { _ in String(generator.next() as UInt8, radix: 16) }.joined()
        self.dummyHash = try Self.makeHash(dummyPassword, configuration)
    }

    /// Hashes `password` with the configured algorithm and a fresh random salt.
    ///
    /// - Returns: a PHC string (`$argon2id$v=19$m=…`) or a `$2b$` bcrypt hash.
    /// - Throws: `PasswordHashingError` of kind `.unhashablePassword` for a password with a NUL, or over 72 UTF-8
    ///   bytes under bcrypt (never truncated); `.libraryFailure` if libargon2 fails (out of memory).
    public func hash(_ password: String) throws(PasswordHashingError) -> String {
        try Self.makeHash(password, configuration)
    }

    /// Hashes with a given salt; for known-answer tests only.
    func hash(_ password: String, argon2Salt salt: [UInt8]) throws(PasswordHashingError) -> String {
        try Self.checkHashable(password, for: .argon2id)
        return try Argon2id.hash(Array(password.utf8), salt: salt, parameters: configuration.argon2id)
    }

    /// Whether `password` matches `hash`, an argon2id PHC string (any costs within the limits below), a bcrypt
    /// `$2a$`, `$2b$` or `$2y$` hash, or a PBKDF2 or scrypt hash that `portero import` kept (``ImportedPasswordHash``).
    ///
    /// Never throws and never traps: a hash in any other format (an account imported without a password holds
    /// none), or asking for more than 1 GiB, 16 passes or 16 lanes (argon2id) or a cost over 16 (bcrypt), answers
    /// `false` — after the work of `verifyDummy(_:)`, so that the time does not tell. Under bcrypt a password with a
    /// NUL answers `false` (C would stop reading at the NUL); one over 72 bytes is compared on its first 72, as
    /// every bcrypt does, so that imported hashes keep working (they are rehashed with the configured algorithm
    /// on login).
    public func verify(_ password: String, against hash: String) -> Bool {
        guard let stored = StoredPasswordHash(parsing: hash) else { return verifyDummy(password) }
        switch stored {
        case .imported(let imported):
            return imported.verify(Array(password.utf8))
        case .argon2id:
            return Argon2id.verify(Array(password.utf8), encoded: hash)
        case .bcrypt(let bcrypt):
            // Computed even when the answer is already known, so that the time does not tell.
            let matches = Bcrypt.verify(password, hash: bcrypt.canonical)
            return matches && !password.utf8.contains(0)
        }
    }

    /// Does the work of one `verify(_:against:)` against `dummyHash` and answers `false`.
    ///
    /// Call it when the user is unknown, so that the answer takes as long as a wrong password does.
    @discardableResult
    public func verifyDummy(_ password: String) -> Bool {
        _ = verify(password, against: dummyHash)
        return false
    }

    /// Whether `hash` should be replaced by a new `hash(_:)` of the same password after a successful login: its
    /// algorithm differs from the configured one, or its costs or lengths differ from the configured ones (or
    /// its salt is shorter), or it is a bcrypt variant other than `$2b$`, or it cannot be parsed at all.
    public func needsRehash(_ hash: String) -> Bool {
        switch (StoredPasswordHash(parsing: hash), configuration.algorithm) {
        case (.argon2id(let stored), .argon2id):
            let wanted = configuration.argon2id
            return stored.memoryKiB != wanted.memoryKiB || stored.iterations != wanted.iterations
                || stored.parallelism != wanted.parallelism || stored.hashLength != wanted.hashLength
                || stored.saltLength < wanted.saltLength
        case (.bcrypt(let stored), .bcrypt):
            return stored.cost != configuration.bcryptCost || stored.variant != "b"
        case (.argon2id, .bcrypt), (.bcrypt, .argon2id), (.imported, _), (nil, _):
            return true
        }
    }

    /// Whether `hash` is in a format `verify(_:against:)` can check (for `portero import`).
    public static func isSupportedHash(_ hash: String) -> Bool {
        StoredPasswordHash(parsing: hash) != nil
    }

    /// What an account imported without a password holds instead of a hash: it matches no password (a password
    /// reset gives it one).
    public static let noPassword = "!"

    private static func makeHash(_ password: String, _ configuration: Configuration) throws(PasswordHashingError)
        -> String
    {
        try checkHashable(password, for: configuration.algorithm)
        switch configuration.algorithm {
        case .argon2id:
            var generator = SystemRandomNumberGenerator()
            let salt = (0..<configuration.argon2id.saltLength).map { _ in generator.next() as UInt8 }
            return try Argon2id.hash(Array(password.utf8), salt: salt, parameters: configuration.argon2id)
        case .bcrypt:
            // Bcrypt.hash draws its 16-byte salt from the system generator too.
            let hash = Bcrypt.hash(password, cost: UInt8(configuration.bcryptCost))
            guard case .bcrypt = StoredPasswordHash(parsing: hash) else {
                throw PasswordHashingError(.libraryFailure, "bcrypt hashing produced no valid hash.")
            }
            return hash
        }
    }

    private static func checkHashable(_ password: String, for algorithm: Algorithm) throws(PasswordHashingError) {
        if password.utf8.contains(0) {
            throw PasswordHashingError(.unhashablePassword, "A password with a NUL character cannot be hashed.")
        }
        if algorithm == .bcrypt, password.utf8.count > 72 {
            throw PasswordHashingError(.unhashablePassword, "bcrypt cannot hash a password over 72 UTF-8 bytes.")
        }
    }

    private static func check(_ configuration: Configuration) throws(PasswordHashingError) {
        typealias Limits = StoredPasswordHash.Limits
        let argon2 = configuration.argon2id
        guard Limits.argon2Memory.contains(argon2.memoryKiB), argon2.memoryKiB >= 8 * argon2.parallelism,
            Limits.argon2Iterations.contains(argon2.iterations),
            Limits.argon2Parallelism.contains(argon2.parallelism),
            Limits.argon2SaltLength.contains(argon2.saltLength),
            Limits.argon2HashLength.contains(argon2.hashLength)
        else {
            throw PasswordHashingError(
                .invalidConfiguration,
                "argon2id parameters out of range: memory 8·p KiB to 1 GiB, iterations and parallelism 1 to 16, "
                    + "salt 8 to 64 bytes, hash 16 to 128 bytes."
            )
        }
        guard Limits.bcryptCost.contains(configuration.bcryptCost) else {
            throw PasswordHashingError(.invalidConfiguration, "bcrypt cost must be 4 to 16.")
        }
    }
}
