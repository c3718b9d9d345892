#ifndef PORTERO_CARGON2_SHIM_H
#define PORTERO_CARGON2_SHIM_H

// Prefixed seam over Debian's libargon2 (reference implementation).

#include <stddef.h>
#include <stdint.h>
#include <argon2.h>

/// Hashes `pwd` with argon2id and writes the PHC string ($argon2id$v=19$m=..,t=..,p=..$salt$hash)
/// into `encoded` (NUL-terminated). Returns ARGON2_OK (0) or a negative argon2_error_codes value.
static inline int portero_argon2id_hash_encoded(uint32_t t_cost, uint32_t m_cost_kib, uint32_t parallelism,
                                                const void *pwd, size_t pwdlen, const void *salt, size_t saltlen,
                                                size_t hashlen, char *encoded, size_t encodedlen) {
    return argon2id_hash_encoded(t_cost, m_cost_kib, parallelism, pwd, pwdlen, salt, saltlen, hashlen, encoded,
                                 encodedlen);
}

/// Verifies `pwd` against a PHC string; the comparison inside libargon2 is constant time.
/// Returns ARGON2_OK (0) on a match, ARGON2_VERIFY_MISMATCH (-35) on a mismatch, another negative code on error.
static inline int portero_argon2id_verify(const char *encoded, const void *pwd, size_t pwdlen) {
    return argon2id_verify(encoded, pwd, pwdlen);
}

/// Length of the PHC string argon2 would produce for these parameters (including the NUL).
static inline size_t portero_argon2id_encodedlen(uint32_t t_cost, uint32_t m_cost_kib, uint32_t parallelism,
                                                 uint32_t saltlen, uint32_t hashlen) {
    return argon2_encodedlen(t_cost, m_cost_kib, parallelism, saltlen, hashlen, Argon2_id);
}

#endif
