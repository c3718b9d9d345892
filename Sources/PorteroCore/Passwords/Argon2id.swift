internal import CArgon2

/// The Swift face of libargon2's argon2id (the `CArgon2` seam). Synchronous and slow on purpose.
enum Argon2id {
    /// Hashes `password` with `salt` and answers the PHC string.
    ///
    /// - Parameters:
    ///   - password: the password's bytes (any bytes; libargon2 takes a length, not a C string).
    ///   - salt: at least 8 bytes.
    ///   - parameters: costs and lengths, already checked by `PasswordHasher.init(configuration:)`.
    static func hash(
        _ password: [UInt8],
        salt: [UInt8],
        parameters: PasswordHasher.Argon2Parameters
    ) throws(PasswordHashingError) -> String {
        let memory = UInt32(parameters.memoryKiB)
        let iterations = UInt32(parameters.iterations)
        let lanes = UInt32(parameters.parallelism)
        let capacity = portero_argon2id_encodedlen(
            iterations,
            memory,
            lanes,
            UInt32(salt.count),
            UInt32(parameters.hashLength)
        )
        var encoded = [CChar](repeating: 0, count: capacity)
        let status = password.withUnsafeBytes { passwordBytes in
            salt.withUnsafeBytes { saltBytes in
                portero_argon2id_hash_encoded(
                    iterations,
                    memory,
                    lanes,
                    passwordBytes.baseAddress,
                    passwordBytes.count,
                    saltBytes.baseAddress,
                    saltBytes.count,
                    parameters.hashLength,
                    &encoded,
                    encoded.count
                )
            }
        }
        guard status == ARGON2_OK.rawValue else {
            throw PasswordHashingError(.libraryFailure, "argon2id hashing failed (libargon2 code \(status)).")
        }
        let bytes = encoded.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `password` matches the PHC string `encoded`, which must have been parsed by `StoredPasswordHash`
    /// first (libargon2 would otherwise allocate whatever memory the string asks for).
    static func verify(_ password: [UInt8], encoded: String) -> Bool {
        let status = password.withUnsafeBytes { passwordBytes in
            portero_argon2id_verify(encoded, passwordBytes.baseAddress, passwordBytes.count)
        }
        return status == ARGON2_OK.rawValue
    }
}
