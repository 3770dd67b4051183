/* key.c: secp256k1 keys, signing and ecrecover over libsecp256k1.
 *
 * One context serves the whole process. It is built once (pthread_once) in a
 * static buffer with the preallocated API, so no heap is involved, and is
 * randomised once for side-channel blinding of signing; after that it is
 * only read, which libsecp256k1 documents as safe from any number of threads.
 *
 * Range checks on signatures are done here, before libsecp256k1 sees them,
 * so a caller learns exactly which rule a bad signature broke. */
#include "crypto/key.h"

#include <assert.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <secp256k1.h>
#include <secp256k1_preallocated.h>
#include <secp256k1_recovery.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "crypto/keccak.h"

/* The group order n and n/2 (big-endian), for range checks (EIP-2 low-s). */
static const uint8_t order_n[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
    0xba, 0xae, 0xdc, 0xe6, 0xaf, 0x48, 0xa0, 0x3b, 0xbf, 0xd2, 0x5e, 0x8c, 0xd0, 0x36, 0x41, 0x41};
static const uint8_t half_n[32] = {
    0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0x5d, 0x57, 0x6e, 0x73, 0x57, 0xa4, 0x50, 0x1d, 0xdf, 0xe9, 0x2f, 0x46, 0x68, 0x1b, 0x20, 0xa0};

/* libsecp256k1 0.2's context is ~200 bytes; the assert in ctx_init keeps us
 * honest if a later version grows it. */
#define CTX_BUF_BYTES 1024
static _Alignas(64) unsigned char ctx_buf[CTX_BUF_BYTES];
static secp256k1_context *ctx;
static pthread_once_t ctx_once = PTHREAD_ONCE_INIT;

/* Builds and randomises the shared context (runs once per process). */
static void ctx_init(void) {
    size_t need = secp256k1_context_preallocated_size(SECP256K1_CONTEXT_NONE);
    assert(need <= sizeof ctx_buf);
    ctx = secp256k1_context_preallocated_create(ctx_buf, SECP256K1_CONTEXT_NONE);
    assert(ctx);
    /* Blinding is a defence in depth; signing is correct without it, so a
     * failing RNG here only skips it (gt_key_generate reports RNG failure). */
    unsigned char seed[32];
    if (RAND_bytes(seed, sizeof seed) == 1) {
        int ok = secp256k1_context_randomize(ctx, seed);
        assert(ok);
        (void)ok;
    }
    OPENSSL_cleanse(seed, sizeof seed);
}

/* Returns the shared context, creating it on first use. */
static const secp256k1_context *get_ctx(void) {
    pthread_once(&ctx_once, ctx_init);
    return ctx;
}

/* Big-endian compare of two 32-byte numbers: <0, 0, >0. */
static int cmp32(const uint8_t *a, const uint8_t *b) {
    return memcmp(a, b, 32);
}

/* 1 if all 32 bytes are zero (constant time: used on secrets). */
static int is_zero32(const uint8_t *a) {
    uint8_t acc = 0;
    for (int i = 0; i < 32; i++) acc |= a[i];
    return acc == 0;
}

/* Fills k from the OS RNG via OpenSSL until the bytes are a valid secret
 * (the chance of a retry is about 2^-128). */
int gt_key_generate(gt_key *k, gt_err *err) {
    for (int tries = 0; tries < 64; tries++) {
        if (RAND_bytes(k->priv, sizeof k->priv) != 1) {
            gt_key_wipe(k);
            return gt_err_set(err, GT_EIO, "the system random number generator failed");
        }
        if (secp256k1_ec_seckey_verify(get_ctx(), k->priv)) return 0;
    }
    gt_key_wipe(k);
    return gt_err_set(err, GT_EIO, "random number generator keeps producing invalid keys");
}

/* Copies priv into k after checking 0 < priv < n. k is untouched on failure. */
int gt_key_from_bytes(gt_key *k, const uint8_t priv[32], gt_err *err) {
    if (is_zero32(priv)) return gt_err_set(err, GT_EINVAL, "private key is zero");
    if (cmp32(priv, order_n) >= 0)
        return gt_err_set(err, GT_EINVAL,
                          "private key is not below the secp256k1 group order n");
    memcpy(k->priv, priv, 32);
    return 0;
}

/* Address of a 64-byte uncompressed public key (x || y). */
static void pub_to_addr(const uint8_t pub64[64], gt_addr *out) {
    uint8_t h[32];
    gt_keccak256(pub64, 64, h);
    memcpy(out->b, h + 12, 20);
}

/* Writes k's public key as x || y (64 bytes). */
int gt_key_pubkey(const gt_key *k, uint8_t pub_out[64], gt_err *err) {
    const secp256k1_context *c = get_ctx();
    secp256k1_pubkey pk;
    if (!secp256k1_ec_pubkey_create(c, &pk, k->priv))
        return gt_err_set(err, GT_EINVAL, "invalid private key");
    uint8_t ser[65];
    size_t len = sizeof ser;
    int ok = secp256k1_ec_pubkey_serialize(c, ser, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
    assert(ok && len == 65 && ser[0] == 0x04);
    (void)ok;
    memcpy(pub_out, ser + 1, 64);
    return 0;
}

/* Derives the Ethereum address of k. */
int gt_key_address(const gt_key *k, gt_addr *out) {
    uint8_t pub[64];
    int rc = gt_key_pubkey(k, pub, NULL);
    if (rc) return rc;
    pub_to_addr(pub, out);
    return 0;
}

/* Signs digest with k (RFC 6979 nonce; libsecp256k1 always emits low-s). */
int gt_sign_digest(const gt_key *k, const uint8_t digest[32], gt_sig *out, gt_err *err) {
    const secp256k1_context *c = get_ctx();
    secp256k1_ecdsa_recoverable_signature rs;
    if (!secp256k1_ecdsa_sign_recoverable(c, &rs, digest, k->priv, NULL, NULL))
        return gt_err_set(err, GT_EINVAL, "cannot sign: invalid private key");
    uint8_t compact[64];
    int recid = -1;
    int ok = secp256k1_ecdsa_recoverable_signature_serialize_compact(c, compact, &recid, &rs);
    assert(ok && (recid == 0 || recid == 1));
    (void)ok;
    memcpy(out->r, compact, 32);
    memcpy(out->s, compact + 32, 32);
    out->v = (uint8_t)(27 + recid);
    assert(cmp32(out->s, half_n) <= 0);
    return 0;
}

/* Checks r, s and v and returns the recovery id (0/1) or a negative code. */
static int check_sig(const gt_sig *sig, gt_err *err) {
    int recid;
    if (sig->v == 27 || sig->v == 28) recid = sig->v - 27;
    else if (sig->v == 0 || sig->v == 1) recid = sig->v;
    else
        return gt_err_set(err, GT_ESIG, "signature v is %u; expected 27 or 28 (or 0 or 1)",
                          sig->v);
    if (is_zero32(sig->r)) return gt_err_set(err, GT_ESIG, "signature r is zero");
    if (cmp32(sig->r, order_n) >= 0)
        return gt_err_set(err, GT_ESIG, "signature r is not below the group order n");
    if (is_zero32(sig->s)) return gt_err_set(err, GT_ESIG, "signature s is zero");
    if (cmp32(sig->s, half_n) > 0)
        return gt_err_set(err, GT_ESIG,
                          "signature s is in the upper half of the group order (high-s, "
                          "malleable; EIP-2 requires s <= n/2)");
    return recid;
}

/* ecrecover: the address whose key made sig over digest. */
int gt_recover_digest(const uint8_t digest[32], const gt_sig *sig, gt_addr *out, gt_err *err) {
    int recid = check_sig(sig, err);
    if (recid < 0) return recid;
    const secp256k1_context *c = get_ctx();
    uint8_t compact[64];
    memcpy(compact, sig->r, 32);
    memcpy(compact + 32, sig->s, 32);
    secp256k1_ecdsa_recoverable_signature rs;
    if (!secp256k1_ecdsa_recoverable_signature_parse_compact(c, &rs, compact, recid))
        return gt_err_set(err, GT_ESIG, "malformed signature");
    secp256k1_pubkey pk;
    if (!secp256k1_ecdsa_recover(c, &pk, &rs, digest))
        return gt_err_set(err, GT_ESIG,
                          "signature does not recover to any public key (r is not the x of a "
                          "curve point)");
    uint8_t ser[65];
    size_t len = sizeof ser;
    int ok = secp256k1_ec_pubkey_serialize(c, ser, &len, &pk, SECP256K1_EC_UNCOMPRESSED);
    assert(ok && len == 65);
    (void)ok;
    pub_to_addr(ser + 1, out);
    return 0;
}

/* r || s || v, as ecrecover and wallets expect. */
void gt_sig_to_bytes(const gt_sig *s, uint8_t out[65]) {
    memcpy(out, s->r, 32);
    memcpy(out + 32, s->s, 32);
    out[64] = s->v;
}

/* Splits r || s || v; v 0/1 is normalised to 27/28. */
int gt_sig_from_bytes(gt_sig *s, const uint8_t in[65], gt_err *err) {
    uint8_t v = in[64];
    if (v == 0 || v == 1) v = (uint8_t)(v + 27);
    if (v != 27 && v != 28)
        return gt_err_set(err, GT_ESIG, "signature v is %u; expected 27 or 28 (or 0 or 1)", in[64]);
    memcpy(s->r, in, 32);
    memcpy(s->s, in + 32, 32);
    s->v = v;
    return 0;
}

/* "0x" + hex of r || s || v (132 chars + NUL). */
void gt_sig_to_hex(const gt_sig *s, char out[133]) {
    uint8_t b[65];
    gt_sig_to_bytes(s, b);
    out[0] = '0';
    out[1] = 'x';
    gt_hex_encode(b, 65, out + 2);
}

/* Parses 65 bytes of hex (0x optional); see gt_sig_from_bytes. */
int gt_sig_from_hex(gt_sig *s, const char *hex, gt_err *err) {
    uint8_t b[65];
    int rc = gt_hex_decode(hex, b, 65, "signature", err);
    if (rc) return rc;
    return gt_sig_from_bytes(s, b, err);
}

/* OPENSSL_cleanse cannot be optimised away, unlike memset before free. */
void gt_key_wipe(gt_key *k) {
    OPENSSL_cleanse(k->priv, sizeof k->priv);
}

/* EIP-191 version 0x45: the prefix, the decimal length, then the message. */
void gt_personal_digest(const void *msg, size_t len, uint8_t out[32]) {
    static const char prefix[] = "\x19" "Ethereum Signed Message:\n";
    char num[24];
    int n = snprintf(num, sizeof num, "%zu", len);
    assert(n > 0 && (size_t)n < sizeof num);
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, prefix, sizeof prefix - 1);
    gt_keccak_update(&k, num, (size_t)n);
    gt_keccak_update(&k, msg, len);
    gt_keccak_final(&k, out);
}
