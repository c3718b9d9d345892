/// Why `PasswordPolicy.validate(_:algorithm:)` refused a password.
///
/// `reason` is a sentence that can be shown to the user as the `password` field's message; it never contains the
/// password.
public struct PasswordPolicyFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// The rule that was broken, for callers and tests that need to tell them apart.
    public struct Kind: Sendable, Hashable, CustomStringConvertible {
        private enum Base: String, Sendable, Hashable {
            case tooShort
            case tooLong
            case tooManyBytesForBcrypt
            case tooCommon
            case controlCharacter
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// Fewer code points than the minimum.
        public static let tooShort = Self(.tooShort)
        /// More code points than the maximum.
        public static let tooLong = Self(.tooLong)
        /// Over 72 UTF-8 bytes while bcrypt is the algorithm.
        public static let tooManyBytesForBcrypt = Self(.tooManyBytesForBcrypt)
        /// On the common-password list.
        public static let tooCommon = Self(.tooCommon)
        /// Contains NUL or another control character.
        public static let controlCharacter = Self(.controlCharacter)

        public var description: String { base.rawValue }
    }

    /// The rule that was broken.
    public let kind: Kind
    /// A human sentence, safe to show; it never echoes the password.
    public let reason: String
    /// Where the error was made, for logs only.
    public let file: String
    /// Where the error was made, for logs only.
    public let line: Int

    init(_ kind: Kind, _ reason: String, file: String = #fileID, line: Int = #line) {
        self.kind = kind
        self.reason = reason
        self.file = file
        self.line = line
    }

    public var description: String { "\(kind): \(reason)" }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.kind == rhs.kind && lhs.reason == rhs.reason
    }

    static func tooShort(_ minimum: Int, file: String = #fileID, line: Int = #line) -> Self {
        .init(.tooShort, "The password must be at least \(minimum) characters long.", file: file, line: line)
    }

    static func tooLong(_ maximum: Int, file: String = #fileID, line: Int = #line) -> Self {
        .init(.tooLong, "The password must be at most \(maximum) characters long.", file: file, line: line)
    }

    static func tooManyBytesForBcrypt(file: String = #fileID, line: Int = #line) -> Self {
        .init(
            .tooManyBytesForBcrypt,
            "The password must be at most 72 bytes long in UTF-8; use fewer or simpler characters.",
            file: file,
            line: line
        )
    }

    static func tooCommon(file: String = #fileID, line: Int = #line) -> Self {
        .init(.tooCommon, "This password is too common; choose another one.", file: file, line: line)
    }

    static func controlCharacter(file: String = #fileID, line: Int = #line) -> Self {
        .init(.controlCharacter, "The password must not contain control characters.", file: file, line: line)
    }
}
