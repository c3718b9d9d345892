import Foundation
import PorteroCore
import Testing

/// base64url as tokens and secrets use it: no padding, one accepted spelling per byte string.
@Suite("base64url")
struct Base64URLTests {
    @Test("every length round-trips and agrees with Foundation's base64")
    func roundTrip() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            let bytes = (0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let text = Secrets.base64URL(bytes)
            #expect(Secrets.decodeBase64URL(text) == bytes, "length \(length)")
            let foundation = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
            #expect(text == foundation)
        }
    }

    @Test("a last character that differs only in unused bits is refused: a token has one spelling")
    func canonicalOnly() {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        // 32 bytes (an HS256 signature) leave 2 unused bits in the 43rd character; 31 bytes leave 4.
        for length in [31, 32] {
            let bytes = [UInt8](repeating: 0xA5, count: length)
            let text = Secrets.base64URL(bytes)
            var accepted = 0
            for character in alphabet {
                let variant = String(text.dropLast()) + String(character)
                if let decoded = Secrets.decodeBase64URL(variant) {
                    accepted += 1
                    #expect(variant == text || decoded != bytes)
                }
            }
            // Every accepted last character decodes to different bytes: 64 >> unused bits of them.
            #expect(accepted == (length == 32 ? 16 : 4))
        }
    }

    @Test("padding, the base64 alphabet's + and /, whitespace and an impossible length are refused")
    func refused() {
        for text in ["AA==", "A+", "A/", "AA AA", "AAAAA", "A", "AA\n", "é"] {
            #expect(Secrets.decodeBase64URL(text) == nil, "\(text)")
        }
        #expect(Secrets.decodeBase64URL("") == [])
    }
}
