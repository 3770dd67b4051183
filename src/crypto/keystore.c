/* keystore.c: Ethereum V3 keystore encryption and decryption.
 *
 * Format (Web3 Secret Storage v3): crypto.kdf is "scrypt" (n, r, p, dklen,
 * salt) or "pbkdf2" (c, prf "hmac-sha256", dklen, salt); the derived key dk
 * gives the AES-128-CTR key dk[0:16] and the MAC key dk[16:32]; MAC =
 * keccak(dk[16:32] || ciphertext). We write scrypt files like geth's, and
 * read both KDFs. PBKDF2 and AES come from OpenSSL, scrypt from scrypt.c.
 *
 * Reading is defensive: the file is size-limited, every field's type and
 * length is checked, and KDF costs are bounded before any work is done, so a
 * hostile file gets a clear refusal instead of a multi-gigabyte allocation.
 * The MAC is compared in constant time before the ciphertext is decrypted. */
#include "crypto/keystore.h"

#include <assert.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/limits.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/scrypt.h"

#define DK_BYTES 32    /* what we use of the derived key */
#define DK_MAX_BYTES 64 /* dklen a file may ask for */

typedef struct kdf {
    int scrypt; /* 1 scrypt, 0 pbkdf2 */
    uint64_t n, r, p, c, dklen;
    uint8_t salt[GT_KDF_MAX_SALT_BYTES];
    size_t salt_len;
} kdf;


/* Checks scrypt parameters against the fixed limits and the caller's bounds. */
static int check_scrypt(uint64_t n, uint64_t r, uint64_t p, uint64_t max_mem, uint64_t max_work,
                        gt_err *err) {
    if (n < 2 || (n & (n - 1)))
        return gt_err_set(err, GT_EINVAL, "scrypt n = %llu; expected a power of two >= 2",
                          (unsigned long long)n);
    if (r < 1 || p < 1)
        return gt_err_set(err, GT_EINVAL, "scrypt r and p must be at least 1");
    if (n > GT_KDF_MAX_SCRYPT_N || r > GT_KDF_MAX_SCRYPT_R || p > GT_KDF_MAX_SCRYPT_P)
        return gt_err_set(err, GT_ELIMIT,
                          "scrypt n=%llu r=%llu p=%llu is over the limits (n <= %u, r <= %u, "
                          "p <= %u)",
                          (unsigned long long)n, (unsigned long long)r, (unsigned long long)p,
                          GT_KDF_MAX_SCRYPT_N, GT_KDF_MAX_SCRYPT_R, GT_KDF_MAX_SCRYPT_P);
    uint64_t mem = gt_scrypt_mem_bytes(n, r, p);
    if (mem > max_mem)
        return gt_err_set(err, GT_ELIMIT,
                          "scrypt n=%llu r=%llu would need %llu MiB; at most %llu MiB allowed",
                          (unsigned long long)n, (unsigned long long)r,
                          (unsigned long long)(mem >> 20), (unsigned long long)(max_mem >> 20));
    if (n * r * p > max_work)
        return gt_err_set(err, GT_ELIMIT, "scrypt cost n*r*p = %llu is over the limit %llu",
                          (unsigned long long)(n * r * p), (unsigned long long)max_work);
    return 0;
}

/* Derives dk (DK_BYTES of it) from the password with the file's KDF. */
static int derive(const kdf *k, const char *password, uint8_t dk[DK_BYTES], gt_err *err) {
    uint8_t full[DK_MAX_BYTES];
    size_t pw_len = strlen(password);
    int rc = 0;
    assert(k->dklen >= DK_BYTES && k->dklen <= DK_MAX_BYTES);
    if (k->scrypt)
        rc = gt_scrypt(password, pw_len, k->salt, k->salt_len, k->n, (uint32_t)k->r,
                       (uint32_t)k->p, full, k->dklen, err);
    else if (PKCS5_PBKDF2_HMAC(password, (int)pw_len, k->salt, (int)k->salt_len, (int)k->c,
                               EVP_sha256(), (int)k->dklen, full) != 1)
        rc = gt_err_set(err, GT_ENOMEM, "key derivation (pbkdf2) failed in OpenSSL");
    if (rc) {
        OPENSSL_cleanse(full, sizeof full);
        return rc;
    }
    memcpy(dk, full, DK_BYTES);
    OPENSSL_cleanse(full, sizeof full);
    return 0;
}

/* AES-128-CTR (encryption and decryption are the same operation). */
static int aes_ctr(const uint8_t key[16], const uint8_t iv[16], const uint8_t *in, size_t n,
                   uint8_t *out, gt_err *err) {
    EVP_CIPHER_CTX *cx = EVP_CIPHER_CTX_new();
    int len = 0, fin = 0, ok = cx != NULL;
    ok = ok && EVP_EncryptInit_ex(cx, EVP_aes_128_ctr(), NULL, key, iv) == 1;
    ok = ok && EVP_EncryptUpdate(cx, out, &len, in, (int)n) == 1;
    ok = ok && EVP_EncryptFinal_ex(cx, out + len, &fin) == 1;
    EVP_CIPHER_CTX_free(cx);
    if (!ok || (size_t)(len + fin) != n)
        return gt_err_set(err, GT_ENOMEM, "AES-128-CTR failed in OpenSSL");
    return 0;
}

/* MAC = keccak(dk[16:32] || ciphertext). */
static void compute_mac(const uint8_t dk[DK_BYTES], const uint8_t *ct, size_t n,
                        uint8_t mac[32]) {
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, dk + 16, 16);
    gt_keccak_update(&k, ct, n);
    gt_keccak_final(&k, mac);
}

/* Writes a random version-4 UUID as 36 chars + NUL. */
static int uuid_v4(char out[37], gt_err *err) {
    uint8_t u[16];
    if (RAND_bytes(u, sizeof u) != 1)
        return gt_err_set(err, GT_EIO, "the system random number generator failed");
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    char h[33];
    gt_hex_encode(u, 16, h);
    snprintf(out, 37, "%.8s-%.4s-%.4s-%.4s-%.12s", h, h + 8, h + 12, h + 16, h + 20);
    return 0;
}

/* scrypt (p or the defaults) with a fresh random salt, IV and UUID; the
 * JSON is laid out as geth writes it. Caller frees *json_out with gt_free. */
int gt_keystore_encrypt(const gt_key *k, const char *password, const gt_kdf_params *p,
                        char **json_out, gt_err *err) {
    *json_out = NULL;
    gt_kdf_params def = {GT_KDF_DEFAULT_N, GT_KDF_DEFAULT_R, GT_KDF_DEFAULT_P};
    if (!p) p = &def;
    if (strlen(password) > GT_LIMIT_PASSWORD_BYTES)
        return gt_err_set(err, GT_ELIMIT, "password is over %d bytes", GT_LIMIT_PASSWORD_BYTES);
    int rc = check_scrypt(p->scrypt_n, p->scrypt_r, p->scrypt_p, GT_KDF_MAX_SCRYPT_MEM_BYTES,
                          UINT64_MAX, err);
    if (rc) return rc;
    gt_addr addr;
    if (gt_key_address(k, &addr)) return gt_err_set(err, GT_EINVAL, "invalid private key");

    kdf kd = {.scrypt = 1, .n = p->scrypt_n, .r = p->scrypt_r, .p = p->scrypt_p,
              .dklen = DK_BYTES, .salt_len = 32};
    uint8_t iv[16], dk[DK_BYTES], ct[32], mac[32];
    char id[37];
    if (RAND_bytes(kd.salt, 32) != 1 || RAND_bytes(iv, 16) != 1)
        return gt_err_set(err, GT_EIO, "the system random number generator failed");
    rc = uuid_v4(id, err);
    if (!rc) rc = derive(&kd, password, dk, err);
    if (!rc) rc = aes_ctr(dk, iv, k->priv, 32, ct, err);
    if (rc) goto done;
    compute_mac(dk, ct, 32, mac);

    char addr_h[41], ct_h[65], iv_h[33], salt_h[65], mac_h[65];
    gt_hex_encode(addr.b, 20, addr_h);
    gt_hex_encode(ct, 32, ct_h);
    gt_hex_encode(iv, 16, iv_h);
    gt_hex_encode(kd.salt, 32, salt_h);
    gt_hex_encode(mac, 32, mac_h);
    /* Every value is hex, a UUID or a number, so no JSON escaping is needed. */
    gt_buf b = GT_BUF_INIT;
    rc = gt_buf_printf(&b,
                       "{\"address\":\"%s\",\"crypto\":{\"cipher\":\"aes-128-ctr\","
                       "\"ciphertext\":\"%s\",\"cipherparams\":{\"iv\":\"%s\"},"
                       "\"kdf\":\"scrypt\",\"kdfparams\":{\"dklen\":32,\"n\":%u,\"p\":%u,"
                       "\"r\":%u,\"salt\":\"%s\"},\"mac\":\"%s\"},\"id\":\"%s\",\"version\":3}",
                       addr_h, ct_h, iv_h, p->scrypt_n, p->scrypt_p, p->scrypt_r, salt_h, mac_h,
                       id);
    if (rc) {
        gt_buf_free(&b);
        rc = gt_err_set(err, GT_ENOMEM, "out of memory writing the keystore");
        goto done;
    }
    *json_out = (char *)gt_buf_take(&b, NULL);
done:
    OPENSSL_cleanse(dk, sizeof dk);
    return rc;
}

/* Reads a hex string field of obj into out: between min and max bytes. */
static int get_hex(const json_t *obj, const char *what, const char *field, uint8_t *out,
                   size_t min, size_t max, size_t *n_out, gt_err *err) {
    const char *s;
    int rc = gt_json_get_str(obj, field, 2 * max + 2, &s, err);
    if (rc) return gt_err_wrap(err, "%s", what);
    size_t n = 0;
    char label[96];
    snprintf(label, sizeof label, "%s.%s", what, field);
    rc = gt_hex_decode_var(s, out, max, &n, label, err);
    if (rc) return rc;
    if (n < min)
        return gt_err_set(err, GT_EINVAL, "%s: %zu bytes; expected at least %zu", label, n, min);
    if (n_out) *n_out = n;
    return 0;
}

/* Reads a non-negative integer field into *out, checking [min, max]. */
static int get_uint(const json_t *obj, const char *what, const char *field, uint64_t min,
                    uint64_t max, uint64_t *out, gt_err *err) {
    int rc = gt_json_get_u64(obj, field, out, err);
    if (rc) return gt_err_wrap(err, "%s", what);
    if (*out < min || *out > max)
        return gt_err_set(err, *out > max ? GT_ELIMIT : GT_EINVAL,
                          "%s.%s = %llu; expected %llu..%llu", what, field,
                          (unsigned long long)*out, (unsigned long long)min,
                          (unsigned long long)max);
    return 0;
}

/* Parses crypto.kdf and crypto.kdfparams into k, bounded by the caller. */
static int parse_kdf(const json_t *crypto, uint64_t max_mem, uint64_t max_work, kdf *k,
                     gt_err *err) {
    const char *name;
    int rc = gt_json_get_str(crypto, "kdf", 16, &name, err);
    if (rc) return gt_err_wrap(err, "crypto");
    json_t *kp = json_object_get(crypto, "kdfparams");
    if (!json_is_object(kp))
        return gt_err_set(err, GT_EINVAL, "crypto.kdfparams: missing or not an object");
    memset(k, 0, sizeof *k);
    rc = get_uint(kp, "crypto.kdfparams", "dklen", DK_BYTES, DK_MAX_BYTES, &k->dklen, err);
    if (!rc) rc = get_hex(kp, "crypto.kdfparams", "salt", k->salt, 0, GT_KDF_MAX_SALT_BYTES,
                          &k->salt_len, err);
    if (rc) return rc;
    if (!strcmp(name, "scrypt")) {
        k->scrypt = 1;
        rc = get_uint(kp, "crypto.kdfparams", "n", 0, UINT32_MAX, &k->n, err);
        if (!rc) rc = get_uint(kp, "crypto.kdfparams", "r", 0, UINT32_MAX, &k->r, err);
        if (!rc) rc = get_uint(kp, "crypto.kdfparams", "p", 0, UINT32_MAX, &k->p, err);
        if (!rc) rc = check_scrypt(k->n, k->r, k->p, max_mem, max_work, err);
        return rc;
    }
    if (!strcmp(name, "pbkdf2")) {
        const char *prf;
        rc = gt_json_get_str(kp, "prf", 32, &prf, err);
        if (rc) return gt_err_wrap(err, "crypto.kdfparams");
        if (strcmp(prf, "hmac-sha256"))
            return gt_err_set(err, GT_EUNSUPPORTED,
                              "crypto.kdfparams.prf \"%s\" is not supported (expected "
                              "hmac-sha256)",
                              prf);
        uint64_t max_c = max_work < GT_KDF_MAX_PBKDF2_C ? max_work : GT_KDF_MAX_PBKDF2_C;
        return get_uint(kp, "crypto.kdfparams", "c", 1, max_c, &k->c, err);
    }
    return gt_err_set(err, GT_EUNSUPPORTED,
                      "crypto.kdf \"%s\" is not supported (expected scrypt or pbkdf2)", name);
}

/* Checks every field, bounds the KDF, derives, verifies the MAC in constant
 * time, then decrypts; *out is written only on success. */
int gt_keystore_decrypt_bounded(const char *json, size_t len, const char *password,
                                uint64_t max_mem_bytes, uint64_t max_work, gt_key *out,
                                gt_err *err) {
    json_t *root = NULL;
    uint8_t dk[DK_BYTES], plain[32];
    int rc = gt_json_parse(json, len, GT_LIMIT_KEYSTORE_BYTES, &root, err);
    if (rc) return gt_err_wrap(err, "keystore");
    if (!json_is_object(root)) {
        rc = gt_err_set(err, GT_EINVAL, "keystore: expected a JSON object");
        goto done;
    }
    uint64_t version;
    rc = gt_json_get_u64(root, "version", &version, err);
    if (rc) {
        gt_err_wrap(err, "keystore");
        goto done;
    }
    if (version != 3) {
        rc = gt_err_set(err, GT_EUNSUPPORTED, "keystore version %llu; only version 3 is supported",
                        (unsigned long long)version);
        goto done;
    }
    /* ethers and MyEtherWallet write "Crypto"; geth accepts both. */
    json_t *crypto = json_object_get(root, "crypto");
    if (!crypto) crypto = json_object_get(root, "Crypto");
    if (!json_is_object(crypto)) {
        rc = gt_err_set(err, GT_EINVAL, "keystore: \"crypto\" is missing or not an object");
        goto done;
    }
    const char *cipher;
    rc = gt_json_get_str(crypto, "cipher", 32, &cipher, err);
    if (rc) {
        gt_err_wrap(err, "crypto");
        goto done;
    }
    if (strcmp(cipher, "aes-128-ctr")) {
        rc = gt_err_set(err, GT_EUNSUPPORTED,
                        "crypto.cipher \"%s\" is not supported (expected aes-128-ctr)", cipher);
        goto done;
    }
    json_t *cp = json_object_get(crypto, "cipherparams");
    if (!json_is_object(cp)) {
        rc = gt_err_set(err, GT_EINVAL, "crypto.cipherparams: missing or not an object");
        goto done;
    }
    uint8_t iv[16], ct[GT_KEYSTORE_MAX_CIPHERTEXT_BYTES], mac[32], want[32];
    size_t ct_len = 0;
    rc = get_hex(cp, "crypto.cipherparams", "iv", iv, 16, 16, NULL, err);
    /* Early geth wrote keys with leading zero bytes dropped (31 or 30 bytes). */
    if (!rc) rc = get_hex(crypto, "crypto", "ciphertext", ct, 1, sizeof ct, &ct_len, err);
    if (!rc) rc = get_hex(crypto, "crypto", "mac", mac, 32, 32, NULL, err);
    if (rc) goto done;
    if (ct_len > 32) {
        rc = gt_err_set(err, GT_EINVAL, "crypto.ciphertext is %zu bytes; a key is at most 32",
                        ct_len);
        goto done;
    }
    /* An "address" field is optional, but if present it must be well formed. */
    gt_addr claimed;
    int have_addr = 0;
    if (json_object_get(root, "address")) {
        rc = get_hex(root, "keystore", "address", claimed.b, 20, 20, NULL, err);
        if (rc) goto done;
        have_addr = 1;
    }
    kdf k;
    rc = parse_kdf(crypto, max_mem_bytes, max_work, &k, err);
    if (rc) goto done;
    if (strlen(password) > GT_LIMIT_PASSWORD_BYTES) {
        rc = gt_err_set(err, GT_ELIMIT, "password is over %d bytes", GT_LIMIT_PASSWORD_BYTES);
        goto done;
    }
    rc = derive(&k, password, dk, err);
    if (rc) goto done;
    compute_mac(dk, ct, ct_len, want);
    if (CRYPTO_memcmp(want, mac, 32) != 0) {
        rc = gt_err_set(err, GT_EPASSWORD, "wrong password (MAC mismatch)");
        goto done;
    }
    memset(plain, 0, sizeof plain);
    rc = aes_ctr(dk, iv, ct, ct_len, plain + (32 - ct_len), err);
    if (rc) goto done;
    gt_key key;
    rc = gt_key_from_bytes(&key, plain, err);
    if (rc) {
        gt_err_wrap(err, "keystore decrypts to an invalid key");
        goto done;
    }
    if (have_addr) {
        gt_addr real;
        gt_key_address(&key, &real);
        if (!gt_addr_eq(&real, &claimed)) {
            gt_key_wipe(&key);
            rc = gt_err_set(err, GT_EINVAL,
                            "keystore \"address\" field does not match the key it holds");
            goto done;
        }
    }
    *out = key;
    gt_key_wipe(&key);
done:
    OPENSSL_cleanse(dk, sizeof dk);
    OPENSSL_cleanse(plain, sizeof plain);
    json_decref(root);
    return rc;
}

/* gt_keystore_decrypt_bounded with the fixed limits of keystore.h only. */
int gt_keystore_decrypt(const char *json, size_t len, const char *password, gt_key *out,
                        gt_err *err) {
    return gt_keystore_decrypt_bounded(json, len, password, GT_KDF_MAX_SCRYPT_MEM_BYTES,
                                       UINT64_MAX, out, err);
}
