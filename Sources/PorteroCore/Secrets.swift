import PorteroFormat
import Crypto
import ExtrasBase64
import Foundation

/// Randomness and digests for secrets: refresh tokens, one-time codes, keyed hashes.
///
/// Every comparison of secret material goes through ``constantTimeEquals(_:_:)``.
public enum Secrets {
    /// `count` bytes from the system CSPRNG.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        // Eight bytes per draw: each draw is a `getrandom` system call, and a request id is made for every request.
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 7)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// A refresh token: 32 random bytes (256 bits), base64url without padding.
    public static func makeRefreshToken() -> String {
        base64URL(randomBytes(32))
    }

    /// A 6-digit one-time code, uniform over 000000…999999 (leading zeros kept).
    public static func makeCode() -> String {
        var generator = SystemRandomNumberGenerator()
        let value = UInt32.random(in: 0..<1_000_000, using: &generator)
        let digits = String(value)
        return digits.leftPadded(to: 6)
    }

    /// SHA-256 of the UTF-8 text, lowercase hex (what is stored for refresh tokens).
    public static func sha256Hex(_ text: String) -> String {
        hex(SHA256.hash(data: Array(text.utf8)))
    }

    /// SHA-256 of bytes, lowercase hex.
    public static func sha256Hex(bytes: [UInt8]) -> String {
        hex(SHA256.hash(data: bytes))
    }

    /// HMAC-SHA256 of `message` under `key`, lowercase hex (what is stored for one-time codes).
    public static func hmacHex(key: [UInt8], _ message: String) -> String {
        hex(HMAC<SHA256>.authenticationCode(for: Array(message.utf8), using: SymmetricKey(data: key)))
    }

    /// Compares two strings in time that depends only on their lengths.
    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }

    public static func hex(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var output: [UInt8] = []
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// base64url without padding (swift-extras-base64; Foundation's base64 plus three `replacingOccurrences` cost
    /// more than the HMAC of a token).
    public static func base64URL(_ bytes: [UInt8]) -> String {
        Base64.encodeToString(bytes: bytes, options: base64URLOptions)
    }

    /// ``base64URL(_:)`` as UTF-8 bytes: a token is put together as bytes and made a `String` once.
    static func base64URLBytes(_ bytes: some Collection<UInt8>) -> [UInt8] {
        Base64.encodeToBytes(bytes: bytes, options: base64URLOptions)
    }

    private static let base64URLOptions: Base64.EncodingOptions = [.base64UrlAlphabet, .omitPaddingCharacter]

    /// Decodes base64url without padding; nil for anything else (padding, `+`, `/`, whitespace) and for a spelling
    /// whose unused trailing bits are not zero, so that every byte string has exactly one accepted spelling (a
    /// token whose last character was changed within those bits is not the same token).
    public static func decodeBase64URL(_ text: some StringProtocol) -> [UInt8]? {
        decodeBase64URL(bytes: text.utf8)
    }

    /// ``decodeBase64URL(_:)`` of UTF-8 bytes (a slice of a token split once).
    public static func decodeBase64URL(bytes text: some Collection<UInt8>) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.count * 3 / 4)
        var pending: UInt32 = 0
        var pendingBits: UInt32 = 0
        var count = 0
        for byte in text {
            let value: UInt8
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = byte &- UInt8(ascii: "A")
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = byte &- UInt8(ascii: "a") &+ 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte &- UInt8(ascii: "0") &+ 52
            case UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "_"): value = 63
            default: return nil
            }
            pending = (pending << 6) | UInt32(value)
            pendingBits += 6
            count += 1
            if pendingBits >= 8 {
                pendingBits -= 8
                output.append(UInt8(truncatingIfNeeded: pending >> pendingBits))
                pending &= (1 << pendingBits) - 1
            }
        }
        // One character alone cannot make a byte; the 2 or 4 bits left over after the last byte must be zero.
        guard count % 4 != 1, pending == 0 else { return nil }
        return output
    }
}
