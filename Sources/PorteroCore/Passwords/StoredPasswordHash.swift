/// A stored password hash, parsed and bounds-checked in Swift before any C code sees it.
///
/// Parsing is strict so that a hostile or corrupt hash string can neither crash the process nor make one
/// verification cost unbounded memory or time: the limits are in `StoredPasswordHash.Limits`.
enum StoredPasswordHash: Equatable, Sendable {
    /// `$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash>` (PHC string format, base64 without padding).
    case argon2id(PasswordHasher.Argon2Parameters)
    /// `$2a$`, `$2b$` or `$2y$`, a two-digit cost, then 22 characters of salt and 31 of hash.
    case bcrypt(Bcrypt)
    /// PBKDF2 or scrypt in werkzeug's, Django's or Keycloak's format (`portero import`).
    case imported(ImportedPasswordHash)

    /// A parsed bcrypt hash.
    struct Bcrypt: Equatable, Sendable {
        /// The variant letter as written: `a`, `b` or `y`.
        var variant: Character
        /// log2 of the number of rounds.
        var cost: Int
        /// The same hash with the `$2b$` prefix. `$2a$` (as fixed in 2011/2014) and `$2y$` (crypt_blowfish's
        /// name for the fixed `$2a$`) compute exactly what `$2b$` does for passwords under 255 bytes, and
        /// HummingbirdBcrypt accepts only `$2a$` and `$2b$`.
        var canonical: String
    }

    /// Bounds on what a stored hash may ask for. Anything outside them is refused (verification answers `false`).
    enum Limits {
        /// Longest hash string considered at all.
        static let maximumLength = 512
        /// argon2id memory, in KiB: at most 1 GiB per verification.
        static let argon2Memory: ClosedRange<Int> = 8...1_048_576
        /// argon2id passes over memory.
        static let argon2Iterations: ClosedRange<Int> = 1...16
        /// argon2id lanes (libargon2 starts one thread per lane).
        static let argon2Parallelism: ClosedRange<Int> = 1...16
        /// argon2id salt, in bytes (libargon2's minimum is 8).
        static let argon2SaltLength: ClosedRange<Int> = 8...64
        /// argon2id output, in bytes: shorter outputs would make chance matches too likely.
        static let argon2HashLength: ClosedRange<Int> = 16...128
        /// bcrypt cost (log2 rounds): 16 is about 16 times the SPEC's 12.
        static let bcryptCost: ClosedRange<Int> = 4...16
    }

    /// Parses `text`, or answers `nil` when it is not a hash this daemon can verify within `Limits`.
    init?(parsing text: String) {
        guard text.utf8.count <= Limits.maximumLength,
            text.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            return nil
        }
        if text.hasPrefix("$argon2id$") {
            guard let parameters = Self.parseArgon2id(text) else { return nil }
            self = .argon2id(parameters)
        } else if text.hasPrefix("$2") {
            guard let bcrypt = Self.parseBcrypt(text) else { return nil }
            self = .bcrypt(bcrypt)
        } else if let imported = ImportedPasswordHash(parsing: text) {
            self = .imported(imported)
        } else {
            return nil
        }
    }

    private static func parseArgon2id(_ text: String) -> PasswordHasher.Argon2Parameters? {
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0].isEmpty, fields[1] == "argon2id", fields[2] == "v=19" else {
            return nil
        }
        let costs = fields[3].split(separator: ",", omittingEmptySubsequences: false)
        guard costs.count == 3,
            let memory = decimal(costs[0], named: "m"),
            let iterations = decimal(costs[1], named: "t"),
            let parallelism = decimal(costs[2], named: "p"),
            let saltLength = base64DecodedLength(fields[4]),
            let hashLength = base64DecodedLength(fields[5])
        else {
            return nil
        }
        guard Limits.argon2Memory.contains(memory),
            Limits.argon2Iterations.contains(iterations),
            Limits.argon2Parallelism.contains(parallelism),
            memory >= 8 * parallelism,
            Limits.argon2SaltLength.contains(saltLength),
            Limits.argon2HashLength.contains(hashLength)
        else {
            return nil
        }
        return .init(
            memoryKiB: memory,
            iterations: iterations,
            parallelism: parallelism,
            saltLength: saltLength,
            hashLength: hashLength
        )
    }

    private static func parseBcrypt(_ text: String) -> Bcrypt? {
        let bytes = Array(text.utf8)
        guard bytes.count == 60, bytes[0] == UInt8(ascii: "$"), bytes[1] == UInt8(ascii: "2"),
            bytes[3] == UInt8(ascii: "$"), bytes[6] == UInt8(ascii: "$")
        else {
            return nil
        }
        let variant = Character(Unicode.Scalar(bytes[2]))
        guard "aby".contains(variant),
            let tens = digit(bytes[4]), let units = digit(bytes[5]),
            bytes[7...].allSatisfy(isBcryptBase64)
        else {
            return nil
        }
        let cost = tens * 10 + units
        guard Limits.bcryptCost.contains(cost) else { return nil }
        return Bcrypt(variant: variant, cost: cost, canonical: "$2b$" + text.dropFirst(4))
    }

    /// The value of `name=digits`, refusing signs, leading zeros and anything beyond `UInt32`.
    private static func decimal(_ field: Substring, named name: String) -> Int? {
        guard field.hasPrefix(name + "=") else { return nil }
        let digits = field.dropFirst(name.count + 1)
        guard (1...10).contains(digits.count), digits.allSatisfy({ $0.isASCII && $0.isNumber }),
            digits == "0" || !digits.hasPrefix("0"),
            let value = UInt32(digits)
        else {
            return nil
        }
        return Int(value)
    }

    /// The number of bytes unpadded standard base64 text decodes to, or `nil` if it is not such text.
    private static func base64DecodedLength(_ field: Substring) -> Int? {
        let isBase64 = field.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "+"), UInt8(ascii: "/"):
                true
            default:
                false
            }
        }
        let count = field.utf8.count
        guard isBase64, count % 4 != 1 else { return nil }
        return count * 3 / 4
    }

    private static func digit(_ byte: UInt8) -> Int? {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) ? Int(byte - UInt8(ascii: "0")) : nil
    }

    private static func isBcryptBase64(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "/"):
            true
        default:
            false
        }
    }
}
