internal import COpenSSL
import Foundation

/// A password hash made by another stack (`portero import`), verified as it is through OpenSSL's libcrypto (the
/// `COpenSSL` seam) and replaced by a hash of the configured algorithm at the user's first successful login.
///
/// The formats, each parsed strictly and bounded by ``Limits`` before any C code sees it:
///
/// | stack | format | salt | hash |
/// |---|---|---|---|
/// | werkzeug (Flask) | `pbkdf2:sha256:<iterations>$<salt>$<hex>` (also `sha1`, `sha512`) | the text's UTF-8 | hex |
/// | werkzeug (Flask) | `scrypt:<N>:<r>:<p>$<salt>$<hex>` | the text's UTF-8 | hex |
/// | Django | `pbkdf2_sha256$<iterations>$<salt>$<base64>` (also `pbkdf2_sha1`) | the text's UTF-8 | base64 |
/// | Django | `scrypt$<N>$<salt>$<r>$<p>$<base64>` | the text's UTF-8 | base64 |
/// | Keycloak | `pbkdf2-sha512$<iterations>$<salt base64>$<hash base64>` (also `pbkdf2-sha256`, `pbkdf2` = SHA-1) | base64 | base64 |
///
/// The derived key is as long as the stored hash; the comparison is constant-time.
enum ImportedPasswordHash: Equatable, Sendable {
    case pbkdf2(PBKDF2)
    case scrypt(Scrypt)

    /// The HMAC digest of a PBKDF2 hash; the raw value is the seam's digest number.
    enum Digest: Int32, Sendable {
        case sha1 = 1
        case sha256 = 256
        case sha512 = 512
    }

    struct PBKDF2: Equatable, Sendable {
        var digest: Digest
        var iterations: Int
        var salt: [UInt8]
        var hash: [UInt8]
    }

    struct Scrypt: Equatable, Sendable {
        var n: Int
        var r: Int
        var p: Int
        var salt: [UInt8]
        var hash: [UInt8]
    }

    /// Bounds on what an imported hash may ask for; anything outside them is not a hash this daemon verifies.
    enum Limits {
        /// PBKDF2 rounds: Django 5 uses 1,000,000, werkzeug 3 1,000,000, Keycloak 210,000 (SHA-512).
        static let pbkdf2Iterations: ClosedRange<Int> = 1...5_000_000
        /// scrypt `N`: a power of two; with `r` it bounds the memory, 128·N·r bytes.
        static let scryptN: ClosedRange<Int> = 2...(1 << 22)
        static let scryptR: ClosedRange<Int> = 1...32
        static let scryptP: ClosedRange<Int> = 1...16
        /// 128·N·r: at most 1 GiB per verification, as for argon2id.
        static let scryptMemory = 1 << 30
        static let saltLength: ClosedRange<Int> = 1...128
        /// Shorter outputs would make chance matches too likely.
        static let hashLength: ClosedRange<Int> = 16...128
    }

    /// Parses `text`, or answers nil when it is none of the formats above within ``Limits``.
    init?(parsing text: String) {
        if text.hasPrefix("pbkdf2:") || text.hasPrefix("scrypt:") {
            guard let parsed = Self.parseWerkzeug(text) else { return nil }
            self = parsed
        } else if text.hasPrefix("pbkdf2_") || text.hasPrefix("scrypt$") {
            guard let parsed = Self.parseDjango(text) else { return nil }
            self = parsed
        } else if text.hasPrefix("pbkdf2-") || text.hasPrefix("pbkdf2$") {
            guard let parsed = Self.parseKeycloak(text) else { return nil }
            self = parsed
        } else {
            return nil
        }
    }

    /// Whether `password` (its bytes as given) derives the stored hash. Slow on purpose; never on an event loop.
    func verify(_ password: [UInt8]) -> Bool {
        let expected: [UInt8]
        var derived: [UInt8]
        switch self {
        case .pbkdf2(let hash):
            expected = hash.hash
            derived = [UInt8](repeating: 0, count: expected.count)
            let status = password.withUnsafeBytes { passwordBytes in
                hash.salt.withUnsafeBytes { saltBytes in
                    derived.withUnsafeMutableBytes { out in
                        portero_pbkdf2_hmac(
                            passwordBytes.baseAddress, passwordBytes.count, saltBytes.baseAddress, saltBytes.count,
                            UInt32(hash.iterations), hash.digest.rawValue, out.baseAddress, out.count)
                    }
                }
            }
            guard status == 1 else { return false }
        case .scrypt(let hash):
            expected = hash.hash
            derived = [UInt8](repeating: 0, count: expected.count)
            // V is 128·r·N bytes, B 128·r·p; a MiB more for OpenSSL's own accounting.
            let memory = UInt64(128 * hash.r * (hash.n + hash.p + 2) + (1 << 20))
            let status = password.withUnsafeBytes { passwordBytes in
                hash.salt.withUnsafeBytes { saltBytes in
                    derived.withUnsafeMutableBytes { out in
                        portero_scrypt(
                            passwordBytes.baseAddress, passwordBytes.count, saltBytes.baseAddress, saltBytes.count,
                            UInt64(hash.n), UInt64(hash.r), UInt64(hash.p), memory, out.baseAddress, out.count)
                    }
                }
            }
            guard status == 1 else { return false }
        }
        let difference = expected.withUnsafeBytes { lhs in
            derived.withUnsafeBytes { rhs in portero_constant_time_compare(lhs.baseAddress, rhs.baseAddress, lhs.count)
            }
        }
        return difference == 0
    }

    // MARK: Parsing

    /// `pbkdf2:<digest>:<iterations>$<salt>$<hex>` or `scrypt:<N>:<r>:<p>$<salt>$<hex>`.
    private static func parseWerkzeug(_ text: String) -> Self? {
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 3, let hash = hex(fields[2]) else { return nil }
        let salt = Array(fields[1].utf8)
        let method = fields[0].split(separator: ":", omittingEmptySubsequences: false)
        if method[0] == "pbkdf2" {
            guard method.count == 3, let digest = digest(method[1]), let iterations = decimal(method[2]) else {
                return nil
            }
            return pbkdf2(digest, iterations, salt, hash)
        }
        guard method.count == 4, let n = decimal(method[1]), let r = decimal(method[2]), let p = decimal(method[3])
        else { return nil }
        return scrypt(n, r, p, salt, hash)
    }

    /// `pbkdf2_sha256$<iterations>$<salt>$<base64>`, `pbkdf2_sha1$…`, or `scrypt$<N>$<salt>$<r>$<p>$<base64>`.
    private static func parseDjango(_ text: String) -> Self? {
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        if fields[0] == "scrypt" {
            guard fields.count == 6, let n = decimal(fields[1]), let r = decimal(fields[3]),
                let p = decimal(fields[4]), let hash = base64(fields[5])
            else { return nil }
            return scrypt(n, r, p, Array(fields[2].utf8), hash)
        }
        let digests: [Substring: Digest] = ["pbkdf2_sha256": .sha256, "pbkdf2_sha1": .sha1]
        guard fields.count == 4, let digest = digests[fields[0]], let iterations = decimal(fields[1]),
            let hash = base64(fields[3])
        else { return nil }
        return pbkdf2(digest, iterations, Array(fields[2].utf8), hash)
    }

    /// `pbkdf2-sha512$<iterations>$<salt base64>$<hash base64>`, `pbkdf2-sha256$…`, `pbkdf2$…` (SHA-1).
    private static func parseKeycloak(_ text: String) -> Self? {
        let fields = text.split(separator: "$", omittingEmptySubsequences: false)
        let digests: [Substring: Digest] = ["pbkdf2-sha512": .sha512, "pbkdf2-sha256": .sha256, "pbkdf2": .sha1]
        guard fields.count == 4, let digest = digests[fields[0]], let iterations = decimal(fields[1]),
            let salt = base64(fields[2]), let hash = base64(fields[3])
        else { return nil }
        return pbkdf2(digest, iterations, salt, hash)
    }

    private static func pbkdf2(_ digest: Digest, _ iterations: Int, _ salt: [UInt8], _ hash: [UInt8]) -> Self? {
        guard Limits.pbkdf2Iterations.contains(iterations), Limits.saltLength.contains(salt.count),
            Limits.hashLength.contains(hash.count)
        else { return nil }
        return .pbkdf2(PBKDF2(digest: digest, iterations: iterations, salt: salt, hash: hash))
    }

    private static func scrypt(_ n: Int, _ r: Int, _ p: Int, _ salt: [UInt8], _ hash: [UInt8]) -> Self? {
        guard Limits.scryptN.contains(n), n & (n - 1) == 0, Limits.scryptR.contains(r), Limits.scryptP.contains(p),
            128 * n * r <= Limits.scryptMemory, Limits.saltLength.contains(salt.count),
            Limits.hashLength.contains(hash.count)
        else { return nil }
        return .scrypt(Scrypt(n: n, r: r, p: p, salt: salt, hash: hash))
    }

    private static func digest(_ name: Substring) -> Digest? {
        switch name {
        case "sha1": .sha1
        case "sha256": .sha256
        case "sha512": .sha512
        default: nil
        }
    }

    /// Digits only, no sign or leading zero, at most 9 of them.
    private static func decimal(_ field: Substring) -> Int? {
        guard (1...9).contains(field.utf8.count), field.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            field == "0" || !field.hasPrefix("0")
        else { return nil }
        return Int(field)
    }

    /// Hex digits (either case), an even number of them.
    private static func hex(_ field: Substring) -> [UInt8]? {
        let digits = Array(field.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        func value(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x61...0x66: byte - 0x61 + 10
            case 0x41...0x46: byte - 0x41 + 10
            default: nil
            }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[index]), let low = value(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }

    /// Standard base64, padded or not.
    static func base64(_ field: Substring) -> [UInt8]? {
        var text = String(field)
        guard !text.isEmpty, text.utf8.count % 4 != 1 else { return nil }
        while text.utf8.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text).map { Array($0) }
    }
}
