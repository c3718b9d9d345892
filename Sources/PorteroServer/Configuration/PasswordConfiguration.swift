public import Configuration
public import PorteroCore

/// How new passwords are checked and hashed.
public struct PasswordConfiguration: Sendable, Equatable {
    /// `password.algorithm`: for new hashes; both are always verified.
    public var algorithm: PasswordHasher.Algorithm
    /// `password.min_length` and `password.max_length`, in characters after NFKC.
    public var minLength: Int
    public var maxLength: Int

    public static let keys = ["password.algorithm", "password.min_length", "password.max_length"]

    /// Reads `password.algorithm` (default argon2id), `password.min_length` (default 8) and `password.max_length`
    /// (default 128; not below the minimum).
    public init(reader: ConfigReader) throws(ConfigurationError) {
        let parser = ConfigParser(reader)
        algorithm = try parser.choice("password.algorithm", default: .argon2id)
        minLength = try parser.int("password.min_length", default: 8, range: 1...1024)
        maxLength = try parser.int("password.max_length", default: 128, range: 1...4096)
        if minLength > maxLength {
            throw ConfigurationError("invalid value for password.min_length: larger than password.max_length")
        }
    }

    /// The policy these lengths describe.
    var policy: PasswordPolicy {
        get throws(ConfigurationError) {
            guard let policy = PasswordPolicy(minLength: minLength, maxLength: maxLength) else {
                throw ConfigurationError("invalid value for password.min_length: larger than password.max_length")
            }
            return policy
        }
    }

    func changedKeys(since old: Self) -> [String] {
        var changes = KeyChanges()
        changes.compare("password.algorithm", old.algorithm, algorithm)
        changes.compare("password.min_length", old.minLength, minLength)
        changes.compare("password.max_length", old.maxLength, maxLength)
        return changes.keys
    }
}
