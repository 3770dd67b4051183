/* eip712.c: EIP-712 typed data hashing, fixed-struct encoder and generic JSON.
 *
 * The encoder half is a thin layer over keccak: each field contributes one
 * 32-byte word. The JSON half follows the EIP's definitions directly:
 *   encodeType(T) = T's own "Name(type name,...)" then each struct type T
 *                   depends on (transitively, not T itself), sorted by name;
 *   hashStruct(s) = keccak(typeHash || encodeData(s));
 *   digest        = keccak(0x19 0x01 || hashStruct(domain) || hashStruct(msg)).
 * Type hashes are computed once per type and cached, so a large array of
 * structs costs one keccak per element, not one encodeType per element.
 * Input comes from outside (wallet requests, CLI files), so every type and
 * value is checked against the limits in eip712.h and every error names its
 * path ("message.to[0].wallet"). */
#include "crypto/eip712.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/hex.h"
#include "base/json.h"
#include "crypto/addr.h"

/* ---- level 1: fixed structs ---------------------------------------------- */

void gt_eip712_type_hash(const char *encode_type, uint8_t out[32]) {
    gt_keccak256(encode_type, strlen(encode_type), out);
}

/* Starts a struct hash: the type hash is the first word. */
void gt_eip712_enc_init(gt_eip712_enc *e, const uint8_t type_hash[32]) {
    gt_keccak_init(&e->k);
    gt_keccak_update(&e->k, type_hash, 32);
}

/* A uint up to 64 bits as a big-endian uint256 word. */
void gt_eip712_enc_uint(gt_eip712_enc *e, uint64_t v) {
    uint8_t w[32] = {0};
    for (int i = 0; i < 8; i++) w[31 - i] = (uint8_t)(v >> (8 * i));
    gt_keccak_update(&e->k, w, 32);
}

/* An address as uint160: 12 zero bytes then the 20 address bytes. */
void gt_eip712_enc_address(gt_eip712_enc *e, const gt_addr *a) {
    uint8_t w[32] = {0};
    memcpy(w + 12, a->b, 20);
    gt_keccak_update(&e->k, w, 32);
}

/* bytes32, or the hash of a nested struct or array, as is. */
void gt_eip712_enc_bytes32(gt_eip712_enc *e, const uint8_t b[32]) {
    gt_keccak_update(&e->k, b, 32);
}

/* A bool as uint256 0 or 1. */
void gt_eip712_enc_bool(gt_eip712_enc *e, int v) {
    gt_eip712_enc_uint(e, v ? 1 : 0);
}

/* A string is dynamic: its word is keccak of its UTF-8 bytes. */
void gt_eip712_enc_string(gt_eip712_enc *e, const char *s, size_t len) {
    gt_eip712_enc_bytes(e, s, len);
}

/* Dynamic bytes: the word is keccak of the bytes. */
void gt_eip712_enc_bytes(gt_eip712_enc *e, const void *b, size_t len) {
    uint8_t h[32];
    gt_keccak256(b, len, h);
    gt_keccak_update(&e->k, h, 32);
}

/* Finishes hashStruct; e must be re-initialised before reuse. */
void gt_eip712_enc_final(gt_eip712_enc *e, uint8_t struct_hash[32]) {
    gt_keccak_final(&e->k, struct_hash);
}

/* The domain type string depends on which optional field is present. */
void gt_eip712_domain_separator(const char *name, const char *version, uint64_t chain_id,
                                const gt_addr *verifying_contract, uint8_t out[32]) {
    uint8_t th[32];
    gt_eip712_type_hash(verifying_contract
                            ? "EIP712Domain(string name,string version,uint256 chainId,"
                              "address verifyingContract)"
                            : "EIP712Domain(string name,string version,uint256 chainId)",
                        th);
    gt_eip712_enc e;
    gt_eip712_enc_init(&e, th);
    gt_eip712_enc_string(&e, name, strlen(name));
    gt_eip712_enc_string(&e, version, strlen(version));
    gt_eip712_enc_uint(&e, chain_id);
    if (verifying_contract) gt_eip712_enc_address(&e, verifying_contract);
    gt_eip712_enc_final(&e, out);
}

/* The salted domain: fields in the order EIP-712 lists them. */
void gt_eip712_domain_separator_salt(const char *name, const char *version, uint64_t chain_id,
                                     const uint8_t salt[32], uint8_t out[32]) {
    uint8_t th[32];
    gt_eip712_type_hash("EIP712Domain(string name,string version,uint256 chainId,bytes32 salt)", th);
    gt_eip712_enc e;
    gt_eip712_enc_init(&e, th);
    gt_eip712_enc_string(&e, name, strlen(name));
    gt_eip712_enc_string(&e, version, strlen(version));
    gt_eip712_enc_uint(&e, chain_id);
    gt_eip712_enc_bytes32(&e, salt);
    gt_eip712_enc_final(&e, out);
}

/* The EIP-191 version 0x01 envelope; struct_hash NULL signs the domain only. */
void gt_eip712_digest(const uint8_t domain_sep[32], const uint8_t struct_hash[32],
                      uint8_t out[32]) {
    gt_keccak k;
    gt_keccak_init(&k);
    gt_keccak_update(&k, "\x19\x01", 2);
    gt_keccak_update(&k, domain_sep, 32);
    if (struct_hash) gt_keccak_update(&k, struct_hash, 32);
    gt_keccak_final(&k, out);
}

/* ---- level 2: generic typed data JSON ------------------------------------ */

typedef struct field {
    const char *name; /* borrowed from the parsed JSON */
    const char *type;
} field;

typedef struct stype {
    const char *name;
    field fields[GT_EIP712_MAX_FIELDS];
    size_t n_fields;
    int hashed; /* type_hash computed */
    uint8_t type_hash[32];
} stype;

#define PATH_MAX_BYTES 256

typedef struct ctx {
    stype types[GT_EIP712_MAX_TYPES];
    size_t n_types;
    char path[PATH_MAX_BYTES]; /* where we are in the value, for errors */
    gt_err *err;
} ctx;

/* Appends ".name" to the path; returns the old length to restore. */
static size_t path_push_field(ctx *c, const char *name) {
    size_t old = strlen(c->path);
    if (old < sizeof c->path - 1) snprintf(c->path + old, sizeof c->path - old, ".%s", name);
    return old;
}

/* Appends "[i]" to the path; returns the old length to restore. */
static size_t path_push_index(ctx *c, size_t i) {
    size_t old = strlen(c->path);
    if (old < sizeof c->path - 1) snprintf(c->path + old, sizeof c->path - old, "[%zu]", i);
    return old;
}

/* Restores the path to a length path_push_* returned. */
static void path_pop(ctx *c, size_t old) {
    c->path[old] = 0;
}

/* Identifiers as Solidity allows them: [A-Za-z_$][A-Za-z0-9_$]*. */
static int is_ident(const char *s) {
    if (!*s || (*s >= '0' && *s <= '9')) return 0;
    for (; *s; s++) {
        char ch = *s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '_' || ch == '$'))
            return 0;
    }
    return 1;
}

/* The declared struct type named name[0..len), or NULL. */
static stype *find_type(ctx *c, const char *name, size_t len) {
    for (size_t i = 0; i < c->n_types; i++)
        if (strlen(c->types[i].name) == len && !memcmp(c->types[i].name, name, len))
            return &c->types[i];
    return NULL;
}

/* Atomic type kinds. For uint/int, *bits gets the width; for bytesN, N. */
enum { K_NONE, K_ADDRESS, K_BOOL, K_STRING, K_BYTES, K_BYTESN, K_UINT, K_INT };

/* Classifies an atomic type name of length len; K_NONE if not atomic. */
static int atomic_kind(const char *t, size_t len, unsigned *bits) {
#define IS(lit) (len == sizeof(lit) - 1 && !memcmp(t, lit, len))
    if (IS("address")) return K_ADDRESS;
    if (IS("bool")) return K_BOOL;
    if (IS("string")) return K_STRING;
    if (IS("bytes")) return K_BYTES;
#undef IS
    const char *num = NULL;
    int kind = K_NONE;
    if (len > 5 && !memcmp(t, "bytes", 5)) num = t + 5, kind = K_BYTESN;
    else if (len >= 4 && !memcmp(t, "uint", 4)) num = t + 4, kind = K_UINT;
    else if (len >= 3 && !memcmp(t, "int", 3)) num = t + 3, kind = K_INT;
    else return K_NONE;
    size_t nlen = len - (size_t)(num - t);
    if (nlen == 0) { /* "uint"/"int" are Solidity aliases of the 256-bit types */
        if (kind == K_BYTESN) return K_NONE;
        *bits = 256;
        return kind;
    }
    if (nlen > 3 || num[0] == '0') return K_NONE;
    unsigned v = 0;
    for (size_t i = 0; i < nlen; i++) {
        if (num[i] < '0' || num[i] > '9') return K_NONE;
        v = v * 10 + (unsigned)(num[i] - '0');
    }
    if (kind == K_BYTESN) {
        if (v < 1 || v > 32) return K_NONE;
    } else if (v < 8 || v > 256 || v % 8) {
        return K_NONE;
    }
    *bits = v;
    return kind;
}

/* Splits "T[2][]" into the element type "T[2]" and the last dimension:
 * returns 1 and *elem_len, *dim (0 for []) if t is an array, 0 if not, -1 if
 * the suffix is malformed. */
static int split_array(const char *t, size_t len, size_t *elem_len, uint64_t *dim) {
    if (len == 0 || t[len - 1] != ']') return 0;
    size_t open = len - 1;
    while (open > 0 && t[open] != '[') open--;
    if (t[open] != '[' || open == 0) return -1;
    uint64_t d = 0;
    for (size_t i = open + 1; i < len - 1; i++) {
        if (t[i] < '0' || t[i] > '9') return -1;
        d = d * 10 + (uint64_t)(t[i] - '0');
        if (d > GT_EIP712_MAX_ARRAY_ITEMS) return -1;
    }
    if (open + 1 < len - 1 && d == 0) return -1; /* T[0] */
    *elem_len = open;
    *dim = d;
    return 1;
}

/* Strips all array suffixes: the base type's length. */
static size_t base_len(const char *t, size_t len) {
    size_t el;
    uint64_t d;
    while (split_array(t, len, &el, &d) == 1) len = el;
    return len;
}

/* Checks a field type string: array suffixes well formed, base type atomic or
 * a declared struct. */
static int check_field_type(ctx *c, const char *tname, const field *f) {
    size_t len = strlen(f->type), el;
    uint64_t d;
    int depth = 0;
    for (;;) {
        int r = split_array(f->type, len, &el, &d);
        if (r < 0)
            return gt_err_set(c->err, GT_EINVAL,
                              "types.%s.%s: malformed array type \"%.64s\" (expected T[] or "
                              "T[n] with 1 <= n <= %d)",
                              tname, f->name, f->type, GT_EIP712_MAX_ARRAY_ITEMS);
        if (r == 0) break;
        len = el;
        if (++depth > GT_EIP712_MAX_DEPTH)
            return gt_err_set(c->err, GT_ELIMIT, "types.%s.%s: more than %d array dimensions",
                              tname, f->name, GT_EIP712_MAX_DEPTH);
    }
    unsigned bits;
    if (atomic_kind(f->type, len, &bits) != K_NONE || find_type(c, f->type, len)) return 0;
    return gt_err_set(c->err, GT_EINVAL,
                      "types.%s.%s: unknown type \"%.*s\" (expected a struct declared in types, "
                      "or address, bool, string, bytes, bytes1..bytes32, uint8..uint256, "
                      "int8..int256)",
                      tname, f->name, (int)(len > 64 ? 64 : len), f->type);
}

/* Reads and checks the "types" object into c->types. */
static int load_types(ctx *c, json_t *types) {
    if (!json_is_object(types))
        return gt_err_set(c->err, GT_EINVAL, "\"types\": expected an object of struct types");
    if (json_object_size(types) > GT_EIP712_MAX_TYPES)
        return gt_err_set(c->err, GT_ELIMIT, "\"types\" declares %zu types; at most %d accepted",
                          json_object_size(types), GT_EIP712_MAX_TYPES);
    const char *name;
    json_t *arr;
    json_object_foreach(types, name, arr) {
        if (strlen(name) > GT_EIP712_MAX_NAME_BYTES || !is_ident(name))
            return gt_err_set(c->err, GT_EINVAL,
                              "types: \"%.64s\" is not a valid type name (letters, digits, _ "
                              "and $, at most %d bytes)",
                              name, GT_EIP712_MAX_NAME_BYTES);
        unsigned bits;
        if (atomic_kind(name, strlen(name), &bits) != K_NONE)
            return gt_err_set(c->err, GT_EINVAL, "types: \"%s\" is an atomic type name", name);
        if (!json_is_array(arr))
            return gt_err_set(c->err, GT_EINVAL,
                              "types.%s: expected an array of {\"name\", \"type\"} objects", name);
        if (json_array_size(arr) > GT_EIP712_MAX_FIELDS)
            return gt_err_set(c->err, GT_ELIMIT, "types.%s has %zu fields; at most %d accepted",
                              name, json_array_size(arr), GT_EIP712_MAX_FIELDS);
        stype *t = &c->types[c->n_types++];
        t->name = name;
        size_t i;
        json_t *fo;
        json_array_foreach(arr, i, fo) {
            static const char *const allowed[] = {"name", "type", NULL};
            char what[160];
            snprintf(what, sizeof what, "types.%s[%zu]", name, i);
            const char *fname, *ftype;
            int rc = gt_json_only_fields(fo, allowed, what, c->err);
            if (!rc) rc = gt_json_get_str(fo, "name", GT_EIP712_MAX_NAME_BYTES, &fname, c->err);
            if (!rc) rc = gt_json_get_str(fo, "type", GT_EIP712_MAX_NAME_BYTES, &ftype, c->err);
            if (rc) return gt_err_wrap(c->err, "%s", what);
            if (!is_ident(fname))
                return gt_err_set(c->err, GT_EINVAL, "%s: \"%.64s\" is not a valid field name",
                                  what, fname);
            for (size_t j = 0; j < i; j++)
                if (!strcmp(t->fields[j].name, fname))
                    return gt_err_set(c->err, GT_EINVAL, "types.%s: field \"%s\" declared twice",
                                      name, fname);
            t->fields[i].name = fname;
            t->fields[i].type = ftype;
        }
        t->n_fields = json_array_size(arr);
    }
    for (size_t i = 0; i < c->n_types; i++)
        for (size_t j = 0; j < c->types[i].n_fields; j++) {
            int rc = check_field_type(c, c->types[i].name, &c->types[i].fields[j]);
            if (rc) return rc;
        }
    return 0;
}

/* Marks every struct type reachable from t (t included) in seen[]. */
static void collect_deps(ctx *c, const stype *t, unsigned char *seen) {
    size_t idx = (size_t)(t - c->types);
    if (seen[idx]) return;
    seen[idx] = 1;
    for (size_t i = 0; i < t->n_fields; i++) {
        const char *ft = t->fields[i].type;
        stype *d = find_type(c, ft, base_len(ft, strlen(ft)));
        if (d) collect_deps(c, d, seen);
    }
}

/* qsort order for dependencies: by name, bytewise, as the EIP says. */
static int cmp_type_name(const void *a, const void *b) {
    return strcmp((*(const stype *const *)a)->name, (*(const stype *const *)b)->name);
}

/* Appends "Name(type1 name1,type2 name2)". */
static int append_type_def(gt_buf *b, const stype *t) {
    int rc = gt_buf_printf(b, "%s(", t->name);
    for (size_t i = 0; !rc && i < t->n_fields; i++)
        rc = gt_buf_printf(b, "%s%s %s", i ? "," : "", t->fields[i].type, t->fields[i].name);
    if (!rc) rc = gt_buf_putc(b, ')');
    return rc;
}

/* Computes (once) and returns t's type hash from its encodeType string. */
static int type_hash(ctx *c, stype *t, const uint8_t **out) {
    if (t->hashed) {
        *out = t->type_hash;
        return 0;
    }
    unsigned char seen[GT_EIP712_MAX_TYPES] = {0};
    collect_deps(c, t, seen);
    const stype *deps[GT_EIP712_MAX_TYPES];
    size_t nd = 0;
    for (size_t i = 0; i < c->n_types; i++)
        if (seen[i] && &c->types[i] != t) deps[nd++] = &c->types[i];
    qsort(deps, nd, sizeof deps[0], cmp_type_name);
    gt_buf b = GT_BUF_INIT;
    int rc = append_type_def(&b, t);
    for (size_t i = 0; !rc && i < nd; i++) rc = append_type_def(&b, deps[i]);
    if (rc) {
        gt_buf_free(&b);
        return gt_err_set(c->err, GT_ENOMEM, "out of memory building the type of %s", t->name);
    }
    if (b.len > GT_EIP712_MAX_ENCODE_TYPE_BYTES) {
        gt_buf_free(&b);
        return gt_err_set(c->err, GT_ELIMIT, "encodeType(%s) is over %d bytes", t->name,
                          GT_EIP712_MAX_ENCODE_TYPE_BYTES);
    }
    gt_keccak256(b.data, b.len, t->type_hash);
    gt_buf_free(&b);
    t->hashed = 1;
    *out = t->type_hash;
    return 0;
}

/* 256-bit arithmetic on big-endian words, for integer parsing. */

/* w = w * mul + add; returns 1 on overflow past 256 bits. */
static int u256_muladd(uint8_t w[32], unsigned mul, unsigned add) {
    unsigned carry = add;
    for (int i = 31; i >= 0; i--) {
        unsigned v = (unsigned)w[i] * mul + carry;
        w[i] = (uint8_t)v;
        carry = v >> 8;
    }
    return carry != 0;
}

/* Two's complement negation of a 256-bit big-endian word, in place. */
static void u256_negate(uint8_t w[32]) {
    unsigned carry = 1;
    for (int i = 31; i >= 0; i--) {
        unsigned v = (unsigned)(uint8_t)~w[i] + carry;
        w[i] = (uint8_t)v;
        carry = v >> 8;
    }
}

/* Parses a JSON integer value (number, decimal string, or 0x-hex string,
 * optionally negative) into magnitude w and sign *neg. */
static int parse_integer(ctx *c, json_t *v, uint8_t w[32], int *neg) {
    memset(w, 0, 32);
    *neg = 0;
    if (json_is_integer(v)) {
        json_int_t x = json_integer_value(v);
        uint64_t mag = x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x;
        *neg = x < 0;
        for (int i = 0; i < 8; i++) w[31 - i] = (uint8_t)(mag >> (8 * i));
        return 0;
    }
    if (!json_is_string(v))
        return gt_err_set(c->err, GT_EINVAL,
                          "%s: expected an integer (JSON number, decimal string or 0x-hex "
                          "string)",
                          c->path);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len > 0 && s[0] == '-') *neg = 1, s++, len--;
    int hex = len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (hex) s += 2, len -= 2;
    if (len == 0 || len > 80) goto bad;
    for (size_t i = 0; i < len; i++) {
        int d;
        char ch = s[i];
        if (ch >= '0' && ch <= '9') d = ch - '0';
        else if (hex && ch >= 'a' && ch <= 'f') d = ch - 'a' + 10;
        else if (hex && ch >= 'A' && ch <= 'F') d = ch - 'A' + 10;
        else goto bad;
        if (u256_muladd(w, hex ? 16 : 10, (unsigned)d))
            return gt_err_set(c->err, GT_EOVERFLOW, "%s: integer does not fit in 256 bits",
                              c->path);
    }
    return 0;
bad:
    return gt_err_set(c->err, GT_EINVAL, "%s: \"%.80s\" is not a decimal or 0x-hex integer",
                      c->path, json_string_value(v));
}

/* Encodes an integer of kind K_UINT/K_INT and width bits into a word. */
static int enc_integer(ctx *c, json_t *v, int kind, unsigned bits, uint8_t out[32]) {
    int neg;
    int rc = parse_integer(c, v, out, &neg);
    if (rc) return rc;
    int zero = 1;
    for (int i = 0; i < 32; i++) zero &= out[i] == 0;
    if (zero) neg = 0;
    const char *tn = kind == K_UINT ? "uint" : "int";
    if (kind == K_UINT && neg)
        return gt_err_set(c->err, GT_EINVAL, "%s: uint%u must not be negative", c->path, bits);
    /* Range: uintN < 2^N; intN in [-2^(N-1), 2^(N-1) - 1]. Compare bit lengths
     * of the magnitude, with -2^(N-1) (a lone top bit) the one extra case. */
    unsigned bitlen = 0, ones = 0;
    for (int i = 0; i < 32; i++)
        for (int b = 7; b >= 0; b--)
            if (out[i] >> b & 1) {
                if (!bitlen) bitlen = (unsigned)(8 * (31 - i) + b + 1);
                ones++;
            }
    unsigned max_bits = kind == K_UINT ? bits : bits - 1;
    int ok = bitlen <= max_bits || (kind == K_INT && neg && bitlen == bits && ones == 1);
    if (!ok)
        return gt_err_set(c->err, GT_EOVERFLOW, "%s: value out of range for %s%u", c->path, tn,
                          bits);
    if (neg) u256_negate(out);
    return 0;
}

/* Decodes a 0x-hex JSON string into a fresh buffer (caller frees). */
static int hex_value(ctx *c, json_t *v, uint8_t **out, size_t *n) {
    if (!json_is_string(v))
        return gt_err_set(c->err, GT_EINVAL, "%s: expected a 0x-hex string", c->path);
    const char *s = json_string_value(v);
    size_t len = json_string_length(v);
    if (len < 2 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return gt_err_set(c->err, GT_EINVAL, "%s: expected a 0x-hex string", c->path);
    uint8_t *b = gt_malloc(len / 2 + 1);
    if (!b) return gt_err_set(c->err, GT_ENOMEM, "%s: out of memory", c->path);
    int rc = gt_hex_decode_var(s, b, len / 2 + 1, n, c->path, c->err);
    if (rc) {
        gt_free(b);
        return rc;
    }
    *out = b;
    return 0;
}

static int enc_value(ctx *c, const char *type, size_t tlen, json_t *v, int depth,
                     uint8_t out[32]);

/* hashStruct of value v of struct type t. */
static int hash_struct(ctx *c, stype *t, json_t *v, int depth, uint8_t out[32]) {
    if (depth > GT_EIP712_MAX_DEPTH)
        return gt_err_set(c->err, GT_ELIMIT, "%s: nested more than %d levels deep", c->path,
                          GT_EIP712_MAX_DEPTH);
    if (!json_is_object(v))
        return gt_err_set(c->err, GT_EINVAL, "%s: expected an object of type %s", c->path,
                          t->name);
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val) {
        int known = 0;
        for (size_t i = 0; i < t->n_fields && !known; i++) known = !strcmp(t->fields[i].name, key);
        if (!known)
            return gt_err_set(c->err, GT_EINVAL,
                              "%s: field \"%.64s\" is not declared in type %s", c->path, key,
                              t->name);
    }
    const uint8_t *th = NULL;
    int rc = type_hash(c, t, &th);
    if (rc) return rc;
    gt_eip712_enc e;
    gt_eip712_enc_init(&e, th);
    for (size_t i = 0; i < t->n_fields; i++) {
        const field *f = &t->fields[i];
        size_t old = path_push_field(c, f->name);
        json_t *fv = json_object_get(v, f->name);
        uint8_t w[32];
        if (!fv) rc = gt_err_set(c->err, GT_EINVAL, "%s: missing (type %s)", c->path, f->type);
        else rc = enc_value(c, f->type, strlen(f->type), fv, depth + 1, w);
        if (rc) return rc;
        path_pop(c, old);
        gt_eip712_enc_bytes32(&e, w);
    }
    gt_eip712_enc_final(&e, out);
    return 0;
}

/* encodeData of one value of type (type, tlen) into a 32-byte word: arrays
 * hash their element words, structs recurse, atomics encode in place. */
static int enc_value(ctx *c, const char *type, size_t tlen, json_t *v, int depth,
                     uint8_t out[32]) {
    if (depth > GT_EIP712_MAX_DEPTH)
        return gt_err_set(c->err, GT_ELIMIT, "%s: nested more than %d levels deep", c->path,
                          GT_EIP712_MAX_DEPTH);
    size_t elem_len;
    uint64_t dim;
    int arr = split_array(type, tlen, &elem_len, &dim);
    assert(arr >= 0); /* types were checked in load_types */
    if (arr) {
        if (!json_is_array(v))
            return gt_err_set(c->err, GT_EINVAL, "%s: expected an array (%.*s)", c->path,
                              (int)tlen, type);
        size_t n = json_array_size(v);
        if (n > GT_EIP712_MAX_ARRAY_ITEMS)
            return gt_err_set(c->err, GT_ELIMIT, "%s: %zu items; at most %d accepted", c->path,
                              n, GT_EIP712_MAX_ARRAY_ITEMS);
        if (dim && n != dim)
            return gt_err_set(c->err, GT_EINVAL, "%s: %zu items, but %.*s needs exactly %llu",
                              c->path, n, (int)tlen, type, (unsigned long long)dim);
        gt_keccak k;
        gt_keccak_init(&k);
        for (size_t i = 0; i < n; i++) {
            size_t old = path_push_index(c, i);
            uint8_t w[32];
            int rc = enc_value(c, type, elem_len, json_array_get(v, i), depth + 1, w);
            if (rc) return rc;
            path_pop(c, old);
            gt_keccak_update(&k, w, 32);
        }
        gt_keccak_final(&k, out);
        return 0;
    }
    stype *st = find_type(c, type, tlen);
    if (st) return hash_struct(c, st, v, depth, out);
    unsigned bits = 0;
    int kind = atomic_kind(type, tlen, &bits);
    memset(out, 0, 32);
    switch (kind) {
    case K_ADDRESS: {
        if (!json_is_string(v))
            return gt_err_set(c->err, GT_EINVAL, "%s: expected an address string", c->path);
        const char *s = json_string_value(v);
        char buf[64];
        if (json_string_length(v) == 40) { /* some wallets omit the 0x */
            snprintf(buf, sizeof buf, "0x%s", s);
            s = buf;
        }
        gt_addr a;
        int rc = gt_addr_parse(s, &a, c->err);
        if (rc) return gt_err_wrap(c->err, "%s", c->path);
        memcpy(out + 12, a.b, 20);
        return 0;
    }
    case K_BOOL:
        if (!json_is_boolean(v))
            return gt_err_set(c->err, GT_EINVAL, "%s: expected true or false", c->path);
        out[31] = json_is_true(v) ? 1 : 0;
        return 0;
    case K_STRING:
        if (!json_is_string(v))
            return gt_err_set(c->err, GT_EINVAL, "%s: expected a string", c->path);
        gt_keccak256(json_string_value(v), json_string_length(v), out);
        return 0;
    case K_BYTES:
    case K_BYTESN: {
        uint8_t *b = NULL;
        size_t n = 0;
        int rc = hex_value(c, v, &b, &n);
        if (rc) return rc;
        if (kind == K_BYTES) {
            gt_keccak256(b, n, out);
        } else if (n != bits) {
            rc = gt_err_set(c->err, GT_EINVAL, "%s: bytes%u needs exactly %u bytes, got %zu",
                            c->path, bits, bits, n);
        } else {
            memcpy(out, b, n); /* bytesN is left-aligned, zero-padded on the right */
        }
        gt_free(b);
        return rc;
    }
    case K_UINT:
    case K_INT:
        return enc_integer(c, v, kind, bits, out);
    default:
        assert(0 && "type checked in load_types");
        return gt_err_set(c->err, GT_EINVAL, "%s: unknown type", c->path);
    }
}

/* Builds the EIP712Domain type from the domain object's keys when the request
 * leaves it out of "types" (as ethers and viem do), in the EIP's field order. */
static int add_implicit_domain(ctx *c, json_t *domain) {
    static const char *const names[] = {"name", "version", "chainId", "verifyingContract",
                                        "salt"};
    static const char *const tys[] = {"string", "string", "uint256", "address", "bytes32"};
    if (c->n_types == GT_EIP712_MAX_TYPES)
        return gt_err_set(c->err, GT_ELIMIT, "too many types");
    stype *t = &c->types[c->n_types++];
    t->name = "EIP712Domain";
    for (size_t i = 0; i < 5; i++)
        if (json_object_get(domain, names[i])) {
            t->fields[t->n_fields].name = names[i];
            t->fields[t->n_fields].type = tys[i];
            t->n_fields++;
        }
    return 0;
}

/* Parses, checks the types, hashes domain and message (see eip712.h). */
int gt_eip712_hash_json_parts(const char *json, size_t len, uint8_t domain_out[32],
                              uint8_t struct_out[32], uint8_t digest_out[32], gt_err *err) {
    json_t *root = NULL;
    ctx *c = NULL;
    int rc = gt_json_parse(json, len, GT_EIP712_MAX_JSON_BYTES, &root, err);
    if (rc) return gt_err_wrap(err, "typed data");
    c = gt_calloc(1, sizeof *c);
    if (!c) {
        rc = gt_err_set(err, GT_ENOMEM, "out of memory");
        goto done;
    }
    c->err = err;
    static const char *const allowed[] = {"types", "primaryType", "domain", "message", NULL};
    rc = gt_json_only_fields(root, allowed, "typed data", err);
    if (rc) goto done;
    json_t *types = json_object_get(root, "types");
    json_t *domain = json_object_get(root, "domain");
    json_t *message = json_object_get(root, "message");
    const char *primary;
    if (!types || !domain) {
        rc = gt_err_set(err, GT_EINVAL, "typed data: \"%s\" is missing (expected types, "
                        "primaryType, domain, message)", types ? "domain" : "types");
        goto done;
    }
    rc = gt_json_get_str(root, "primaryType", GT_EIP712_MAX_NAME_BYTES, &primary, err);
    if (rc) goto done;
    rc = load_types(c, types);
    if (rc) goto done;
    stype *dt = find_type(c, "EIP712Domain", 12);
    if (!dt) {
        if (!json_is_object(domain)) {
            rc = gt_err_set(err, GT_EINVAL, "domain: expected an object");
            goto done;
        }
        rc = add_implicit_domain(c, domain);
        if (rc) goto done;
        dt = find_type(c, "EIP712Domain", 12);
    }
    uint8_t ds[32], sh[32];
    strcpy(c->path, "domain");
    rc = hash_struct(c, dt, domain, 0, ds);
    if (rc) goto done;
    int domain_only = !strcmp(primary, "EIP712Domain");
    if (!domain_only) {
        stype *pt = find_type(c, primary, strlen(primary));
        if (!pt) {
            rc = gt_err_set(err, GT_EINVAL, "primaryType \"%.64s\" is not declared in types",
                            primary);
            goto done;
        }
        if (!message) {
            rc = gt_err_set(err, GT_EINVAL, "typed data: \"message\" is missing");
            goto done;
        }
        strcpy(c->path, "message");
        rc = hash_struct(c, pt, message, 0, sh);
        if (rc) goto done;
    }
    /* primaryType EIP712Domain signs the domain alone (as eth-sig-util does). */
    if (domain_out) memcpy(domain_out, ds, 32);
    if (struct_out) {
        if (domain_only) memset(struct_out, 0, 32);
        else memcpy(struct_out, sh, 32);
    }
    gt_eip712_digest(ds, domain_only ? NULL : sh, digest_out);
done:
    gt_free(c);
    json_decref(root);
    return rc;
}

/* The digest alone; see gt_eip712_hash_json_parts. */
int gt_eip712_hash_json(const char *json, size_t len, uint8_t digest_out[32], gt_err *err) {
    return gt_eip712_hash_json_parts(json, len, NULL, NULL, digest_out, err);
}
