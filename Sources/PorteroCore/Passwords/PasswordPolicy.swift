import Foundation

/// The rules a new password must meet (SPEC `password.min_length` / `max_length` and §3 "Passwords:").
///
/// Lengths count Unicode code points after NFKC normalisation, and the normalised form is what gets hashed, so
/// that "ｐａｓｓ" typed on one keyboard and "pass" on another are the same password.
public struct PasswordPolicy: Sendable, Hashable {
    /// Fewest code points, after NFKC.
    public let minLength: Int
    /// Most code points, after NFKC.
    public let maxLength: Int

    /// - Parameters:
    ///   - minLength: fewest code points, at least 1.
    ///   - maxLength: most code points, at least `minLength`.
    /// - Returns: `nil` when the bounds are not as described.
    public init?(minLength: Int = 8, maxLength: Int = 128) {
        guard minLength >= 1, maxLength >= minLength else { return nil }
        self.minLength = minLength
        self.maxLength = maxLength
    }

    /// 8 to 128 code points.
    public static let `default` = Self(uncheckedMinLength: 8, maxLength: 128)

    private init(uncheckedMinLength minLength: Int, maxLength: Int) {
        self.minLength = minLength
        self.maxLength = maxLength
    }

    /// The NFKC form of `raw`: what is hashed for a new password and what is verified at login.
    public static func normalize(_ raw: String) -> String {
        raw.precomposedStringWithCompatibilityMapping
    }

    /// Checks a new password and answers the form to hash.
    ///
    /// Refuses, in this order: control characters (NUL, tab, newline, DEL, C1), fewer than `minLength` or more
    /// than `maxLength` code points, more than 72 UTF-8 bytes when `algorithm` is bcrypt (never truncated), and
    /// passwords on the compiled-in common-password list (compared case-insensitively).
    ///
    /// - Parameters:
    ///   - raw: the password as received.
    ///   - algorithm: the algorithm that will hash it.
    /// - Returns: the NFKC form of `raw`, to pass to `PasswordHasher.hash(_:)`.
    /// - Throws: `PasswordPolicyFailure`, whose `reason` can be shown to the user.
    public func validate(
        _ raw: String,
        algorithm: PasswordHasher.Algorithm
    ) throws(PasswordPolicyFailure) -> String {
        // NFKC composes at most a few code points into one, so a raw string this long cannot fit: refuse it
        // before normalising it.
        if raw.unicodeScalars.count / 8 > maxLength {
            throw .tooLong(maxLength)
        }
        let password = Self.normalize(raw)
        if password.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw .controlCharacter()
        }
        let length = password.unicodeScalars.count
        if length < minLength {
            throw .tooShort(minLength)
        }
        if length > maxLength {
            throw .tooLong(maxLength)
        }
        if algorithm == .bcrypt, password.utf8.count > 72 {
            throw .tooManyBytesForBcrypt()
        }
        if CommonPasswords.isCommon(password.lowercased()) {
            throw .tooCommon()
        }
        return password
    }
}
