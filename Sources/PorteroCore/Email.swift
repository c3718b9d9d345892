/// An email address as typed (trimmed) and the key it is compared by.
///
/// Comparison is case-insensitive for ASCII letters only: Unicode case mapping is deliberately not applied, so a
/// dotless `ı`, `ß` or the Kelvin sign `K` never matches an ASCII address.
public struct Email: Sendable, Hashable, CustomStringConvertible {
    /// The address as the user typed it, trimmed: shown back to them and used in mail.
    public let address: String
    /// The comparison key: `address` with ASCII letters lowercased.
    public let key: String

    public init(validating raw: String) throws(EmailValidationFailure) {
        let trimmed = String(raw.unicodeScalars.drop(while: Self.isTrimmed).reversed().drop(while: Self.isTrimmed)
            .reversed().map(Character.init))
        guard !trimmed.isEmpty else { throw .init("is required") }
        guard trimmed.utf8.count <= 254 else { throw .init("must be at most 254 characters") }
        guard !trimmed.unicodeScalars.contains(where: Self.isForbidden) else {
            throw .init("must not contain spaces or control characters")
        }
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else { throw .init("must be an email address") }
        guard parts[0].utf8.count <= 64 else { throw .init("local part must be at most 64 characters") }
        let domain = parts[1]
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2, labels.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 63 }),
            !domain.hasPrefix("-"), !parts[0].hasPrefix("."), !parts[0].hasSuffix("."), !parts[0].contains("..")
        else { throw .init("must be an email address") }
        self.address = trimmed
        self.key = Self.key(for: trimmed)
    }

    /// The comparison key of an address that is already trimmed.
    public static func key(for address: String) -> String {
        String(String.UnicodeScalarView(address.unicodeScalars.map { scalar in
            (0x41...0x5A).contains(scalar.value) ? Unicode.Scalar(UInt8(scalar.value + 0x20)) : scalar
        }))
    }

    public var description: String { address }

    private static func isTrimmed(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t"
    }

    /// Whitespace, controls, separators and characters that have no place in an address or a mail header.
    private static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        let properties = scalar.properties
        switch properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .spaceSeparator, .surrogate, .unassigned,
            .privateUse:
            return true
        default:
            return scalar == "\"" || scalar == "<" || scalar == ">" || scalar == "," || scalar == ";"
                || scalar == "\\" || scalar == "(" || scalar == ")" || scalar == "[" || scalar == "]"
        }
    }
}

/// Why an email address was refused (the reason is safe to show).
public struct EmailValidationFailure: Error, Sendable, Equatable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
}
