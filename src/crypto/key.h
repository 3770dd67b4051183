/* key.h: secp256k1 keys, Ethereum addresses and recoverable signatures.
 *
 * Signing and recovery go through libsecp256k1 (Bitcoin Core's library): its
 * recovery module gives us ecrecover, and its constant-time signing with RFC
 * 6979 nonces is the standard. One context is created once (pthread_once) and
 * shared; libsecp256k1 allows concurrent sign/verify/recover on a context that
 * is no longer modified, so every function here is thread-safe. */
#ifndef GT_CRYPTO_KEY_H
#define GT_CRYPTO_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* A secp256k1 secret key: 32 big-endian bytes in [1, n-1]. Wipe with
 * gt_key_wipe when done. */
typedef struct gt_key {
    uint8_t priv[32];
} gt_key;

/* An Ethereum address: the last 20 bytes of keccak256(pubkey x || y). */
typedef struct gt_addr {
    uint8_t b[20];
} gt_addr;

/* A recoverable ECDSA signature; v is 27 or 28 (Ethereum's convention for
 * recovery id 0 or 1). s is always in the lower half of the order (EIP-2). */
typedef struct gt_sig {
    uint8_t r[32], s[32];
    uint8_t v;
} gt_sig;

/* Fills k with a fresh random key (OpenSSL RAND_bytes, retried until valid). */
int gt_key_generate(gt_key *k, gt_err *err);
/* Loads a 32-byte big-endian secret; refuses 0 and values >= n. */
int gt_key_from_bytes(gt_key *k, const uint8_t priv[32], gt_err *err);
/* Derives k's address: keccak(uncompressed pubkey[1:])[12:]. Returns 0, or
 * GT_EINVAL if k does not hold a valid secret. */
int gt_key_address(const gt_key *k, gt_addr *out);
/* Derives k's 64-byte uncompressed public key (x || y, no 0x04 prefix). */
int gt_key_pubkey(const gt_key *k, uint8_t pub_out[64], gt_err *err);
/* Signs a 32-byte digest: RFC 6979 deterministic nonce, low-s, v = 27 + recid. */
int gt_sign_digest(const gt_key *k, const uint8_t digest[32], gt_sig *out, gt_err *err);
/* Recovers the signer's address from a digest and signature (ecrecover).
 * Refuses high-s (EIP-2), v other than 27/28 (0/1 also accepted), r or s zero
 * or >= n, each with a message saying which. GT_ESIG for all of them. */
int gt_recover_digest(const uint8_t digest[32], const gt_sig *sig, gt_addr *out, gt_err *err);

/* r || s || v, the 65-byte form wallets and ecrecover use. */
void gt_sig_to_bytes(const gt_sig *s, uint8_t out[65]);
/* Parses r || s || v; v may be 27/28 or 0/1 (stored as 27/28). Does not check
 * r and s ranges (gt_recover_digest does). */
int gt_sig_from_bytes(gt_sig *s, const uint8_t in[65], gt_err *err);
/* "0x" + 130 lowercase hex digits + NUL. */
void gt_sig_to_hex(const gt_sig *s, char out[133]);
/* Parses "0x" + 130 hex digits (prefix optional) as gt_sig_from_bytes does. */
int gt_sig_from_hex(gt_sig *s, const char *hex, gt_err *err);

/* Overwrites the secret with zeros in a way the compiler cannot elide. */
void gt_key_wipe(gt_key *k);

/* EIP-191 personal_sign digest: keccak("\x19Ethereum Signed Message:\n" +
 * decimal(len) + msg), what wallets sign for a plain text message. */
void gt_personal_digest(const void *msg, size_t len, uint8_t out[32]);

#endif
