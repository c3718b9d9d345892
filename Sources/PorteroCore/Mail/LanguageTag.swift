/// A well-formed BCP 47 language tag as Portero accepts it (the user's `locale`): a 2–3 letter language, then an
/// optional 4-letter script, an optional region (2 letters or 3 digits) and variants (5–8 letters or digits, or a
/// digit and 3 more), at most 35 characters. Extensions and private use (`-u-`, `-x-`) are refused. Kept in the
/// canonical case: `pt-BR`, `zh-Hant-TW`, `es-419`.
public struct LanguageTag: Sendable, Hashable, CustomStringConvertible {
    /// The tag, canonical case.
    public let value: String

    /// The language subtag, lower-case (`pt` of `pt-BR`).
    public var language: String { String(value.prefix { $0 != "-" }) }

    public var description: String { value }

    /// Why a tag was refused, as a validation problem of the `locale` field.
    public static let problem = "must be a language tag such as en, es or pt-BR"

    /// Checks `text` exactly as given (no surrounding spaces, as the API's schema says); nil when it is not a tag
    /// Portero accepts.
    public init?(_ text: String) {
        guard !text.isEmpty, text.utf8.count <= 35,
            text.utf8.allSatisfy({ Self.isAlphanumeric($0) || $0 == UInt8(ascii: "-") })
        else { return nil }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
        guard let first = parts.first, (2...3).contains(first.count), first.utf8.allSatisfy(Self.isLetter) else {
            return nil
        }
        var canonical = [first.lowercased()]
        var index = 1
        if index < parts.count, parts[index].count == 4, parts[index].utf8.allSatisfy(Self.isLetter) {
            canonical.append(parts[index].prefix(1).uppercased() + parts[index].dropFirst().lowercased())
            index += 1
        }
        if index < parts.count {
            let part = parts[index]
            if part.count == 2, part.utf8.allSatisfy(Self.isLetter) {
                canonical.append(part.uppercased())
                index += 1
            } else if part.count == 3, part.utf8.allSatisfy(Self.isDigit) {
                canonical.append(part)
                index += 1
            }
        }
        while index < parts.count {
            let part = parts[index]
            let variant =
                (5...8).contains(part.count)
                || (part.count == 4 && part.utf8.first.map(Self.isDigit) == true)
            guard variant else { return nil }
            canonical.append(part.lowercased())
            index += 1
        }
        self.value = canonical.joined(separator: "-")
    }

    /// The tags to try for a template, most specific first: `es-MX` → `es-mx`, `es`. File names are lower-case.
    public var fallbacks: [String] {
        let lower = value.lowercased()
        return lower == language ? [lower] : [lower, language]
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= 0x30 && byte <= 0x39
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLetter(byte) || isDigit(byte)
    }
}
