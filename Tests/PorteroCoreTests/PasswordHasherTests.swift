import Testing

@testable import PorteroCore

/// Fixtures made once outside Swift, pasted here (password: `correct horse battery staple` unless said otherwise).
enum PasswordFixtures {
    static let password = "correct horse battery staple"

    /// Python `bcrypt` 5.0.0: `bcrypt.hashpw(pw, bcrypt.gensalt(4))`.
    static let bcrypt2b = "$2b$04$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3b6"
    /// Python `bcrypt` 5.0.0: `bcrypt.hashpw(pw, bcrypt.gensalt(4, prefix=b"2a"))`.
    static let bcrypt2a = "$2a$04$JZWBsxYu/74/20k9pGbbVudRChSWxg/2PCJ0ySIzIuVH/GGpiuidO"
    /// Python `bcrypt` 5.0.0: `bcrypt.hashpw(pw, bcrypt.gensalt(12))`.
    static let bcrypt2b12 = "$2b$12$/G9Shk/m.gJqG31848Vp5uGIRGbaI35viJhuaI.xEfH0Mxb8nOODa"
    /// `bcrypt2b` with PHP's `$2y$` prefix, the same algorithm.
    static let bcrypt2y = "$2y$" + bcrypt2b.dropFirst(4)

    /// Debian `argon2` CLI: `argon2 portero-salt-16b -id -t 2 -m 10 -p 1 -l 32 -e`.
    static let argon2CLI =
        "$argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20"
    /// Debian `argon2` CLI: `argon2 anothersaltvalue -id -t 3 -m 12 -p 2 -l 16 -e`.
    static let argon2CLIParallel = "$argon2id$v=19$m=4096,t=3,p=2$YW5vdGhlcnNhbHR2YWx1ZQ$XSXWXjs6kxfvdWbwOrd4xQ"
    /// Debian `argon2` CLI, password `password`: `argon2 somesaltsomesalt -id -t 2 -k 19456 -p 1 -l 32 -e`.
    static let argon2CLIDefaults =
        "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE"
}

/// Cheap argon2id costs so that tests stay fast; the defaults are checked by one known-answer test.
private let fastArgon2 = PasswordHasher.Argon2Parameters(memoryKiB: 64, iterations: 1, parallelism: 1)

private func fastHasher(_ algorithm: PasswordHasher.Algorithm = .argon2id) throws -> PasswordHasher {
    try PasswordHasher(configuration: .init(algorithm: algorithm, argon2id: fastArgon2, bcryptCost: 4))
}

@Suite("PasswordHasher")
struct PasswordHasherTests {
    @Test func argon2idRoundTrip() throws {
        let hasher = try fastHasher()
        let hash = try hasher.hash("s3cret passphrase")
        #expect(hasher.verify("s3cret passphrase", against: hash))
        #expect(!hasher.verify("s3cret passphrasE", against: hash))
        #expect(!hasher.verify("", against: hash))
        #expect(try hasher.hash("s3cret passphrase") != hash, "a fresh salt each time")
    }

    @Test func argon2idPHCStringShape() throws {
        let hasher = try PasswordHasher(
            configuration: .init(argon2id: .init(memoryKiB: 256, iterations: 3, parallelism: 2))
        )
        let hash = try hasher.hash("s3cret passphrase")
        let fields = hash.split(separator: "$", omittingEmptySubsequences: false)
        #expect(fields.count == 6)
        #expect(fields[1] == "argon2id")
        #expect(fields[2] == "v=19")
        #expect(fields[3] == "m=256,t=3,p=2")
        #expect(fields[4].count == 22, "16 bytes of salt, unpadded base64")
        #expect(fields[5].count == 43, "32 bytes of hash, unpadded base64")
        #expect(StoredPasswordHash(parsing: hash) == .argon2id(.init(memoryKiB: 256, iterations: 3, parallelism: 2)))
    }

    @Test func defaultsAreTheSpecOnes() throws {
        let hasher = try PasswordHasher()
        #expect(hasher.configuration.algorithm == .argon2id)
        #expect(hasher.configuration.bcryptCost == 12)
        #expect(hasher.dummyHash.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        let hash = try hasher.hash(PasswordFixtures.password)
        #expect(hash.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(hasher.verify(PasswordFixtures.password, against: hash))
    }

    @Test func argon2idKnownAnswerMatchesTheCLI() throws {
        let hasher = try PasswordHasher()
        let hash = try hasher.hash("password", argon2Salt: Array("somesaltsomesalt".utf8))
        #expect(hash == PasswordFixtures.argon2CLIDefaults)
    }

    @Test(arguments: [PasswordFixtures.argon2CLI, PasswordFixtures.argon2CLIParallel])
    func argon2idHashesFromTheCLIVerify(hash: String) throws {
        let hasher = try fastHasher()
        #expect(hasher.verify(PasswordFixtures.password, against: hash))
        #expect(!hasher.verify("correct horse battery stapler", against: hash))
    }

    @Test(arguments: [PasswordFixtures.bcrypt2a, PasswordFixtures.bcrypt2b, PasswordFixtures.bcrypt2y])
    func bcryptVariantsVerify(hash: String) throws {
        let hasher = try fastHasher()
        #expect(hasher.verify(PasswordFixtures.password, against: hash))
        #expect(!hasher.verify("Correct horse battery staple", against: hash))
        #expect(!hasher.verify("", against: hash))
    }

    @Test func bcryptCost12FromPythonVerifies() throws {
        let hasher = try fastHasher()
        #expect(hasher.verify(PasswordFixtures.password, against: PasswordFixtures.bcrypt2b12))
    }

    @Test func bcryptRoundTrip() throws {
        let hasher = try fastHasher(.bcrypt)
        let hash = try hasher.hash("s3cret passphrase")
        #expect(hash.hasPrefix("$2b$04$"))
        #expect(hash.utf8.count == 60)
        #expect(hasher.verify("s3cret passphrase", against: hash))
        #expect(!hasher.verify("s3cret passphras", against: hash))
        #expect(hasher.dummyHash.hasPrefix("$2b$04$"))
    }

    @Test func bcryptRefusesWhatItWouldTruncate() throws {
        let hasher = try fastHasher(.bcrypt)
        let seventyTwo = String(repeating: "é", count: 36)
        #expect(seventyTwo.utf8.count == 72)
        let hash = try hasher.hash(seventyTwo)
        #expect(hasher.verify(seventyTwo, against: hash))
        #expect(throws: PasswordHashingError.self) { try hasher.hash(seventyTwo + "a") }
        #expect(throws: PasswordHashingError.self) { try hasher.hash("before\0after") }
        // C would stop at the NUL: a password with one must not match the hash of its prefix.
        let prefixHash = try hasher.hash("before")
        #expect(!hasher.verify("before\0after", against: prefixHash))
        // Stored bcrypt hashes (imports) compare the first 72 bytes, as every bcrypt does.
        #expect(hasher.verify(seventyTwo + "a", against: hash))
    }

    @Test func argon2idTakesNULAndLongPasswordsByLength() throws {
        let hasher = try fastHasher()
        #expect(throws: PasswordHashingError.self) { try hasher.hash("before\0after") }
        let long = String(repeating: "long ", count: 100)
        let hash = try hasher.hash(long)
        #expect(hasher.verify(long, against: hash))
        #expect(!hasher.verify(String(long.dropLast()), against: hash))
        #expect(!hasher.verify("before\0after", against: try hasher.hash("before")))
    }

    @Test func verifyDummyAlwaysFails() throws {
        let hasher = try fastHasher()
        #expect(StoredPasswordHash(parsing: hasher.dummyHash) == .argon2id(fastArgon2))
        #expect(hasher.verifyDummy("anything") == false)
        #expect(hasher.verifyDummy("") == false)
    }

    @Test(arguments: [
        "",
        "password",
        "$",
        "$argon2id$",
        "$argon2i$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2d$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=16$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=4294967295,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=99999999999,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=4294967295,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=0,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=2,p=0$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=2,p=255$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=-2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=01024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$t=2,m=1024,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=2,p=1,keyid=x$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=2,p=1$$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=2,p=1$c2FsdA$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$",
        "$argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH3",
        "$argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg==$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN2!",
        "$argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20$",
        "$argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20\0",
        "$argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN2０",
        " $argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN20",
        "$argon2id$v=19$m=1024,t=2,p=1$" + String(repeating: "A", count: 600) + "$k3M6UNH30RyJ6SiqferfHugpOE",
        "$2b$04$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3b",
        "$2b$04$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3b66",
        "$2x$04$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3b6",
        "$2$04$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3b6",
        "$2b$03$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3b6",
        "$2b$31$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3b6",
        "$2b$4a$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3b6",
        "$2b$04$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3b+",
        "$2b$04$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3\u{0}6",
        "$2b$04$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3bé",
        "$2b$04$" + String(repeating: "z", count: 10_000),
        "$1$abcdefgh$abcdefghijklmnopqrstuv",
        "$pbkdf2-sha256$29000$N2bMGSNEyNk$D2I7mWj0MTYuV/kPcYDRt1AiCsQ8ABKyZ6dnbYtmEvE",
    ])
    func garbageHashesAnswerFalse(hash: String) throws {
        let hasher = try fastHasher()
        #expect(!hasher.verify(PasswordFixtures.password, against: hash))
        #expect(!PasswordHasher.isSupportedHash(hash))
        #expect(hasher.needsRehash(hash))
    }

    @Test(arguments: [
        // Non-canonical last base64 character (its two spare bits are not zero): libargon2 refuses it.
        "$argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtN21",
        // One character of the hash changed.
        "$argon2id$v=19$m=1024,t=2,p=1$cG9ydGVyby1zYWx0LTE2Yg$k3M6UNH30RyJ6SiqferfHugpOETGLqBbcBAtlMxtM20",
        "$2b$04$HLkYp5VDkj3vbkmpB2Q2CeV6/lffY8/K/98ClW/cLUSjTFQ2qN3b7",
        "$2b$04$" + String(repeating: "/", count: 53),
    ])
    func wellFormedButWrongHashesAnswerFalse(hash: String) throws {
        #expect(PasswordHasher.isSupportedHash(hash))
        #expect(!(try fastHasher()).verify(PasswordFixtures.password, against: hash))
    }

    @Test func supportedHashesAreRecognised() {
        for hash in [
            PasswordFixtures.bcrypt2a, PasswordFixtures.bcrypt2b, PasswordFixtures.bcrypt2y,
            PasswordFixtures.argon2CLI, PasswordFixtures.argon2CLIParallel, PasswordFixtures.argon2CLIDefaults,
        ] {
            #expect(PasswordHasher.isSupportedHash(hash), "\(hash)")
        }
    }

    @Test func needsRehashUnderArgon2id() throws {
        let hasher = try PasswordHasher()
        #expect(!hasher.needsRehash(PasswordFixtures.argon2CLIDefaults))
        #expect(!hasher.needsRehash(try hasher.hash("s3cret passphrase")))
        #expect(!hasher.needsRehash(hasher.dummyHash))
        // Weaker or different costs, or another algorithm.
        #expect(hasher.needsRehash(PasswordFixtures.argon2CLI), "m=1024 < 19456")
        #expect(hasher.needsRehash(PasswordFixtures.argon2CLIParallel), "p=2, 16-byte hash")
        #expect(hasher.needsRehash(try fastHasher().hash("x")))
        #expect(hasher.needsRehash(PasswordFixtures.bcrypt2b12))
        #expect(hasher.needsRehash(PasswordFixtures.bcrypt2b))
        let t1 = "$argon2id$v=19$m=19456,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE"
        #expect(hasher.needsRehash(t1))
        let shortSalt = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE"
        #expect(hasher.needsRehash(shortSalt))
        let stronger =
            "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$K13EBUiG7JV+9ZxztmHFTdb7J0WQsnj2V8bZaqyPptE"
        #expect(hasher.needsRehash(stronger), "costs differ from the configured ones")
        #expect(hasher.needsRehash("not a hash"))
    }

    @Test func needsRehashUnderBcrypt() throws {
        let hasher = try PasswordHasher(configuration: .init(algorithm: .bcrypt, argon2id: fastArgon2, bcryptCost: 4))
        #expect(!hasher.needsRehash(PasswordFixtures.bcrypt2b))
        #expect(hasher.needsRehash(PasswordFixtures.bcrypt2a), "normalised to $2b$")
        #expect(hasher.needsRehash(PasswordFixtures.bcrypt2y), "normalised to $2b$")
        #expect(hasher.needsRehash(PasswordFixtures.bcrypt2b12), "cost differs")
        #expect(hasher.needsRehash(PasswordFixtures.argon2CLIDefaults))
        let cost12 = try PasswordHasher(configuration: .init(algorithm: .bcrypt, argon2id: fastArgon2))
        #expect(!cost12.needsRehash(PasswordFixtures.bcrypt2b12))
        #expect(cost12.needsRehash(PasswordFixtures.bcrypt2b), "cost 4 < 12")
    }

    @Test(arguments: [
        PasswordHasher.Configuration(argon2id: .init(memoryKiB: 7)),
        PasswordHasher.Configuration(argon2id: .init(memoryKiB: 16, parallelism: 4)),
        PasswordHasher.Configuration(argon2id: .init(memoryKiB: 2_000_000)),
        PasswordHasher.Configuration(argon2id: .init(iterations: 0)),
        PasswordHasher.Configuration(argon2id: .init(iterations: 17)),
        PasswordHasher.Configuration(argon2id: .init(parallelism: 0)),
        PasswordHasher.Configuration(argon2id: .init(saltLength: 4)),
        PasswordHasher.Configuration(argon2id: .init(hashLength: 8)),
        PasswordHasher.Configuration(bcryptCost: 3),
        PasswordHasher.Configuration(bcryptCost: 31),
    ])
    func invalidConfigurationsThrow(configuration: PasswordHasher.Configuration) {
        #expect {
            try PasswordHasher(configuration: configuration)
        } throws: { error in
            (error as? PasswordHashingError)?.kind == .invalidConfiguration
        }
    }
}
