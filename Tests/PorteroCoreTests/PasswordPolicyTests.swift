import Testing

@testable import PorteroCore

@Suite("PasswordPolicy")
struct PasswordPolicyTests {
    private let policy = PasswordPolicy.default

    private func failure(
        _ raw: String,
        algorithm: PasswordHasher.Algorithm = .argon2id,
        policy: PasswordPolicy = .default
    ) -> PasswordPolicyFailure? {
        do {
            _ = try policy.validate(raw, algorithm: algorithm)
            return nil
        } catch {
            return error
        }
    }

    @Test func defaultsAreTheSpecOnes() {
        #expect(policy.minLength == 8)
        #expect(policy.maxLength == 128)
        #expect(PasswordPolicy(minLength: 8, maxLength: 128) == policy)
        #expect(PasswordPolicy(minLength: 0, maxLength: 10) == nil)
        #expect(PasswordPolicy(minLength: 10, maxLength: 9) == nil)
    }

    @Test func acceptsAndReturnsTheNFKCForm() throws {
        #expect(
            try policy.validate("correct horse battery staple", algorithm: .argon2id) == "correct horse battery staple")
        // Full-width letters and digits become ASCII.
        #expect(try policy.validate("ｔｅａｐｏｔ ｓｏｎｇ ４１８", algorithm: .argon2id) == "teapot song 418")
        // …which is why a full-width common password is still refused, as is a common word with digits.
        #expect(throws: PasswordPolicyFailure.self) { try policy.validate("ｐａｓｓｗｏｒｄ１２３", algorithm: .argon2id) }
        #expect(throws: PasswordPolicyFailure.self) { try policy.validate("dragon2024!", algorithm: .argon2id) }
        // The "ﬁ" ligature becomes two letters.
        #expect(try policy.validate("ﬁle cabinet", algorithm: .argon2id) == "file cabinet")
        // Composed and decomposed accents become the same string.
        let composed = try policy.validate("caf\u{E9} au lait", algorithm: .argon2id)
        let decomposed = try policy.validate("cafe\u{301} au lait", algorithm: .argon2id)
        #expect(composed == decomposed)
        #expect(PasswordPolicy.normalize("cafe\u{301}") == "caf\u{E9}")
    }

    @Test func lengthCountsCodePointsAfterNFKC() throws {
        // 8 emoji are 8 code points (32 UTF-8 bytes).
        let emoji = String(repeating: "😀", count: 8)
        #expect(try policy.validate(emoji, algorithm: .argon2id) == emoji)
        #expect(failure(String(repeating: "😀", count: 7))?.kind == .tooShort)
        // "ﬁ" counts as 2 after NFKC: 4 ligatures are 8 code points.
        #expect(try policy.validate("ﬁﬁﬁﬁ", algorithm: .argon2id) == "fifififi")
        // Decomposed "é" (2 code points) composes to 1.
        #expect(failure("cafe\u{301}123")?.kind == .tooShort)
        #expect(failure("")?.kind == .tooShort)
        #expect(failure("short")?.reason == "The password must be at least 8 characters long.")
    }

    @Test func tooLong() throws {
        let longest = String(repeating: "ab", count: 64)
        #expect(try policy.validate(longest, algorithm: .argon2id) == longest)
        #expect(failure(longest + "c")?.kind == .tooLong)
        #expect(failure(longest + "c")?.reason == "The password must be at most 128 characters long.")
        #expect(failure(String(repeating: "x", count: 1_000_000))?.kind == .tooLong)
        let custom = try #require(PasswordPolicy(minLength: 4, maxLength: 10))
        #expect(failure("elevenchars", policy: custom)?.kind == .tooLong)
        #expect(failure("abc", policy: custom)?.reason == "The password must be at least 4 characters long.")
    }

    @Test func bcryptRefusesOver72Bytes() throws {
        let seventyTwo = String(repeating: "é", count: 36)  // 36 code points, 72 bytes
        #expect(try policy.validate(seventyTwo, algorithm: .bcrypt) == seventyTwo)
        let seventyFour = seventyTwo + "é"
        #expect(failure(seventyFour, algorithm: .bcrypt)?.kind == .tooManyBytesForBcrypt)
        #expect(try policy.validate(seventyFour, algorithm: .argon2id) == seventyFour)
        // 20 emoji: 20 code points but 80 bytes.
        #expect(failure(String(repeating: "😀", count: 20), algorithm: .bcrypt)?.kind == .tooManyBytesForBcrypt)
    }

    @Test(arguments: ["password", "PASSWORD", "Password1", "iloveyou", "qwertyuiop", "ｐａｓｓｗｏｒｄ１", "ﬁrebird"])
    func commonPasswordsAreRefused(raw: String) {
        let failure = failure(raw)
        #expect(failure?.kind == .tooCommon)
        #expect(failure?.reason == "This password is too common; choose another one.")
    }

    @Test func commonPasswordListIsCompiledIn() {
        #expect(CommonPasswords.count > 3_000)
        #expect(CommonPasswords.contains("123456"))
        #expect(!CommonPasswords.contains("123"), "entries shorter than 4 are dropped")
        #expect(!CommonPasswords.contains("correct horse battery staple"))
    }

    @Test(arguments: ["pass\0word123", "pass\tword123", "password123\n", "pass\u{7F}word123", "pass\u{85}word123"])
    func controlCharactersAreRefused(raw: String) {
        let failure = failure(raw)
        #expect(failure?.kind == .controlCharacter)
        #expect(failure?.reason == "The password must not contain control characters.")
    }

    @Test func formatCharactersAndSpacesAreAllowed() throws {
        // Emoji ZWJ sequences use U+200D (a format character, not a control character).
        let family = "👨\u{200D}👩\u{200D}👧 at home"
        #expect(try policy.validate(family, algorithm: .argon2id) == family)
        #expect(try policy.validate("   spaces   ", algorithm: .argon2id) == "   spaces   ")
    }

    @Test func reasonsNeverEchoThePassword() {
        let secrets = ["Sup3rSecret\0!", "tiny", String(repeating: "Zq", count: 100), "ｑｗｅｒｔｙｕｉｏｐ"]
        for secret in secrets {
            let reason = failure(secret)?.reason ?? ""
            #expect(!reason.isEmpty)
            #expect(!reason.contains(secret))
            #expect(!reason.contains(PasswordPolicy.normalize(secret)))
        }
    }
}
