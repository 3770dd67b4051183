/* keystore.h: Ethereum V3 keystores (Web3 Secret Storage), the encrypted key
 * files geth, cast and most wallets read and write.
 *
 * A secret key is encrypted with AES-128-CTR under the first half of a key
 * derived from the password (scrypt, or PBKDF2-HMAC-SHA256 when reading), and
 * authenticated with MAC = keccak(dk[16:32] || ciphertext). Every field of a
 * file from outside is checked, and KDF cost parameters are bounded so a
 * hostile file cannot ask for gigabytes of scrypt memory or hours of PBKDF2. */
#ifndef GT_CRYPTO_KEYSTORE_H
#define GT_CRYPTO_KEYSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"

/* scrypt cost; the defaults are geth's "standard" (n=2^18, r=8, p=1: 256 MiB,
 * about a second). GT_KDF_LIGHT is geth's "light" n=4096 for tests and demos. */
typedef struct gt_kdf_params {
    uint32_t scrypt_n, scrypt_r, scrypt_p;
} gt_kdf_params;

#define GT_KDF_DEFAULT_N 262144u
#define GT_KDF_DEFAULT_R 8u
#define GT_KDF_DEFAULT_P 1u
#define GT_KDF_LIGHT_N 4096u
#define GT_KDF_LIGHT_P 6u /* geth's light parameters: n=4096, r=8, p=6 */

/* Bounds on what a keystore file may ask for (reading and writing). Memory is
 * 128*n*r bytes; 1 GiB is 4x geth's standard. */
#define GT_KDF_MAX_SCRYPT_MEM_BYTES (1024ull * 1024 * 1024)
#define GT_KDF_MAX_SCRYPT_N (1u << 22)
#define GT_KDF_MAX_SCRYPT_R 64u
#define GT_KDF_MAX_SCRYPT_P 16u
#define GT_KDF_MAX_PBKDF2_C 10000000u /* 10 M iterations: tens of seconds */
#define GT_KDF_MAX_SALT_BYTES 128u
#define GT_KEYSTORE_MAX_CIPHERTEXT_BYTES 64u /* a secp256k1 key is 32 */
/* Keystore files in one directory that list/find will look at. */
#define GT_KEYSTORE_MAX_FILES 100000

/* Encrypts k into a V3 keystore JSON string with a random salt, IV and UUID.
 * p NULL means the defaults. Caller frees *json_out with gt_free. */
int gt_keystore_encrypt(const gt_key *k, const char *password, const gt_kdf_params *p,
                        char **json_out, gt_err *err);
/* Decrypts a V3 keystore (scrypt or pbkdf2/hmac-sha256, aes-128-ctr). A wrong
 * password gives GT_EPASSWORD "wrong password (MAC mismatch)"; malformed or
 * out-of-limit fields give GT_EINVAL / GT_ELIMIT naming the field. If the file
 * has an "address" field it must match the decrypted key. */
int gt_keystore_decrypt(const char *json, size_t len, const char *password, gt_key *out,
                        gt_err *err);
/* As gt_keystore_decrypt, but refuses KDF parameters costing more than
 * max_mem_bytes of scrypt memory or max_work (scrypt n*r*p, pbkdf2 c); the
 * fuzzer uses this so a mutation cannot make it hang. */
int gt_keystore_decrypt_bounded(const char *json, size_t len, const char *password,
                                uint64_t max_mem_bytes, uint64_t max_work, gt_key *out,
                                gt_err *err);

/* Keystore directory: DIR/keystore/ (mode 0700), one file per key (mode 0600)
 * named as geth does: UTC--2006-01-02T15-04-05.000000000Z--<40 hex address>. */

/* Encrypts k and saves it under dir/keystore/; the file's path is written to
 * path_out (capacity cap). GT_EEXIST if a file for this address exists. */
int gt_keystore_save(const char *dir, const gt_key *k, const char *password,
                     const gt_kdf_params *p, char *path_out, size_t cap, gt_err *err);
/* Saves an already-encrypted keystore JSON (checked to parse, and to carry the
 * address a) under dir/keystore/, as gt_keystore_save names it. */
int gt_keystore_save_json(const char *dir, const gt_addr *a, const char *json, size_t len,
                          char *path_out, size_t cap, gt_err *err);
/* Finds the keystore file for address a; GT_ENOTFOUND with a message if none. */
int gt_keystore_find(const char *dir, const gt_addr *a, char *path_out, size_t cap,
                     gt_err *err);
/* Lists the addresses in dir/keystore/, sorted by file name (creation time).
 * Caller frees *addrs_out with gt_free. No directory means zero addresses. */
int gt_keystore_list(const char *dir, gt_addr **addrs_out, size_t *n, gt_err *err);
/* Finds and decrypts the key for address a. */
int gt_keystore_load(const char *dir, const gt_addr *a, const char *password, gt_key *out,
                     gt_err *err);

#endif
