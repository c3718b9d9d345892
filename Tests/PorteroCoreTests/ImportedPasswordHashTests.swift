import Foundation
import PorteroCore
import PorteroTestSupport
import Testing

/// The hash formats `portero import` keeps, verified through libcrypto against published test vectors written in
/// each stack's format (the Python-made hashes are checked through the binary in `ImportCLITests`).
@Suite("Imported password hashes")
struct ImportedPasswordHashTests {
    let hasher: PasswordHasher

    init() throws {
        hasher = try PasswordHasher(configuration: AuthHarness.testHashing)
    }

    /// RFC 6070 (PBKDF2-HMAC-SHA1, "password"/"salt", 4096 rounds), RFC 7914 §12 (scrypt, "password"/"NaCl",
    /// N=1024, r=8, p=16), and the usual PBKDF2-HMAC-SHA256 (2 rounds) and -SHA512 (1 round) vectors.
    static let vectors: [String] = [
        "pbkdf2:sha1:4096$salt$4b007901b765489abead49d926f721d065a429c1",
        "pbkdf2:sha256:2$salt$ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43",
        "pbkdf2:sha512:1$salt$867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bf"
            + "e943c08f050235d7d68b1da55e63f73b60a57fce",
        "scrypt:1024:8:16$NaCl$fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff10"
            + "9279d9830dac727afb94a83ee6d8360cbdfa2cc0640",
        "pbkdf2_sha1$4096$salt$SwB5AbdlSJq+rUnZJvch0GWkKcE=",
        "scrypt$1024$NaCl$8$16$/bq+HJ00cgB4VucZDQHp/nxq18vII3gw53N2Y0s3MWIurzDZLiKjiG/xCSedmDDaxyevuUqD7m2DYMvfoswGQA==",
        "pbkdf2-sha512$1$c2FsdA==$hn9wzxreAs/zdSWZo6U9xK80x6ZpgVrl1RNVThyM8lLALUcKKFoFAbrZmb/pQ8CPBQI119aLHaVeY/c7YKV/zg==",
        "pbkdf2$4096$c2FsdA$SwB5AbdlSJq+rUnZJvch0GWkKcE",
    ]

    @Test(arguments: vectors)
    func verifiesThePasswordItWasMadeFrom(_ hash: String) {
        #expect(PasswordHasher.isSupportedHash(hash))
        #expect(hasher.verify("password", against: hash))
        #expect(!hasher.verify("Password", against: hash))
        #expect(!hasher.verify("password ", against: hash))
        #expect(!hasher.verify("", against: hash))
        // Kept only until the first login: then replaced by the configured algorithm.
        #expect(hasher.needsRehash(hash))
    }

    @Test func aChangedHashByteNoLongerMatches() {
        let hash = "pbkdf2:sha256:2$salt$ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c44"
        #expect(PasswordHasher.isSupportedHash(hash))
        #expect(!hasher.verify("password", against: hash))
        let salted = "pbkdf2:sha256:2$salT$ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43"
        #expect(!hasher.verify("password", against: salted))
    }

    static let hex32 = String(repeating: "ab", count: 32)
    static let hex64 = String(repeating: "ab", count: 64)

    /// Malformed, unknown, or asking for more than the limits: not a hash this daemon verifies (an import reports
    /// the line), and verifying against it answers false without trapping.
    static let refused: [String] = [
        "pbkdf2:sha384:1000$salt$" + String(repeating: "ab", count: 48),  // werkzeug can, we do not
        "pbkdf2:sha256$salt$" + hex32,  // no iterations
        "pbkdf2:sha256:0$salt$" + hex32,
        "pbkdf2:sha256:5000001$salt$" + hex32,  // over the limit
        "pbkdf2:sha256:01000$salt$" + hex32,  // leading zero
        "pbkdf2:sha256:1000$salt$abc",  // odd hex
        "pbkdf2:sha256:1000$salt$" + String(repeating: "ab", count: 8),  // 8 bytes: too short
        "pbkdf2:sha256:1000$$" + hex32,  // no salt
        "scrypt:1000:8:1$salt$" + hex64,  // N not a power of two
        "scrypt:2097152:8:1$salt$" + hex64,  // 2 GiB
        "scrypt:16384:8:17$salt$" + hex64,  // p over 16
        "scrypt:16384:8$salt$" + hex64,
        "pbkdf2_sha512$1000$salt$" + String(repeating: "A", count: 44),  // not a Django name
        "pbkdf2_sha256$1000$salt$not base64!",
        "pbkdf2-sha512$1000$!!!!$" + String(repeating: "A", count: 88),
        "sha1$salt$" + String(repeating: "ab", count: 20),  // werkzeug's old salted sha1
        "md5$salt$hash", "", "!",
    ]

    @Test(arguments: refused)
    func refusesWhatItCannotVerify(_ hash: String) {
        #expect(!PasswordHasher.isSupportedHash(hash))
        #expect(!hasher.verify("password", against: hash))
    }
}
