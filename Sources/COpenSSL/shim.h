#ifndef PORTERO_COPENSSL_SHIM_H
#define PORTERO_COPENSSL_SHIM_H

// Prefixed seam over Debian's OpenSSL libcrypto: the key derivations of imported password hashes (PBKDF2, scrypt)
// and a constant-time comparison. Nothing else of OpenSSL is used.

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/// PBKDF2-HMAC (RFC 8018) of `password` with `salt`, `iterations` rounds and the digest named by `digest`
/// (1 = SHA-1, 256 = SHA-256, 512 = SHA-512), writing `out_len` bytes to `out`.
/// Returns 1 on success; 0 for an unknown digest, a length or count beyond INT_MAX, zero iterations, or an
/// OpenSSL failure (out of memory), with `out` then undefined.
static inline int portero_pbkdf2_hmac(const void *password, size_t password_len, const void *salt, size_t salt_len,
                                      uint32_t iterations, int digest, void *out, size_t out_len) {
    const EVP_MD *md = digest == 1 ? EVP_sha1() : digest == 256 ? EVP_sha256() : digest == 512 ? EVP_sha512() : NULL;
    if (md == NULL || iterations == 0 || iterations > INT_MAX || password_len > INT_MAX || salt_len > INT_MAX
        || out_len == 0 || out_len > INT_MAX) {
        return 0;
    }
    return PKCS5_PBKDF2_HMAC((const char *)password, (int)password_len, (const unsigned char *)salt, (int)salt_len,
                             (int)iterations, md, (int)out_len, (unsigned char *)out);
}

/// scrypt (RFC 7914) of `password` with `salt` and costs N, r, p, writing `out_len` bytes to `out`, refusing to use
/// more than `max_memory` bytes. Returns 1 on success; 0 when N is not a power of two above 1, the costs need more
/// than `max_memory`, or OpenSSL fails (out of memory), with `out` then undefined.
static inline int portero_scrypt(const void *password, size_t password_len, const void *salt, size_t salt_len,
                                 uint64_t n, uint64_t r, uint64_t p, uint64_t max_memory, void *out, size_t out_len) {
    return EVP_PBE_scrypt((const char *)password, password_len, (const unsigned char *)salt, salt_len, n, r, p,
                          max_memory, (unsigned char *)out, out_len);
}

/// Compares `length` bytes in time that depends only on `length`. Returns 0 when they are equal.
static inline int portero_constant_time_compare(const void *a, const void *b, size_t length) {
    return CRYPTO_memcmp(a, b, length);
}

#endif
