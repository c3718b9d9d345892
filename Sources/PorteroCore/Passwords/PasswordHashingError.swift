/// Why a password could not be hashed, or why a `PasswordHasher` could not be configured.
///
/// Its message never contains the password or a hash.
public struct PasswordHashingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kind of failure, for callers that need to tell them apart.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case invalidConfiguration
            case unhashablePassword
            case libraryFailure
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The configured algorithm parameters are out of range.
        public static let invalidConfiguration = Self(.invalidConfiguration)
        /// The password cannot be hashed as it is (a NUL, or more than 72 UTF-8 bytes under bcrypt);
        /// `PasswordPolicy.validate(_:algorithm:)` refuses such passwords first.
        public static let unhashablePassword = Self(.unhashablePassword)
        /// The hashing library reported an error (for argon2id, usually memory allocation).
        public static let libraryFailure = Self(.libraryFailure)

        public var description: String { base.rawValue }
    }

    /// The kind of failure.
    public let kind: Kind
    /// A human sentence, safe to log.
    public let message: String
    /// Where the error was made, for logs only.
    public let file: String
    /// Where the error was made, for logs only.
    public let line: Int

    init(_ kind: Kind, _ message: String, file: String = #fileID, line: Int = #line) {
        self.kind = kind
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "\(kind): \(message)" }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.kind == rhs.kind && lhs.message == rhs.message
    }
}
