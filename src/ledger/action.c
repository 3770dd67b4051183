/* action.c: action kinds, EIP-712 digests, signatures and the JSON codec. */
#include "ledger/action.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "base/hex.h"
#include "base/json.h"
#include "base/limits.h"
#include "crypto/addr.h"
#include "crypto/eip712.h"
#include "crypto/keccak.h"

static gt_action_kind *kinds[GT_ACTION_MAX_KINDS];
static int n_kinds;

/* See action.h. */
const char *gt_action_ftype_name(gt_ftype t) {
    switch (t) {
    case GT_F_ADDRESS: return "address";
    case GT_F_U64: return "uint64";
    case GT_F_BYTES32: return "bytes32";
    case GT_F_STRING: return "string";
    case GT_F_BOOL: return "bool";
    }
    return "?";
}

/* The keys of an action's JSON envelope (gt_action_from_json/to_json): a
 * field of one of these names would be read as the envelope's value (a field
 * "salt" as the network's signing salt), so no kind may declare one. */
static const char *const envelope_keys[] = {"type", "chainId", "from", "nonce", "sig", "id", "salt"};

/* 0 when kind's field names are distinct and none is an envelope key; else
 * GT_EINVAL naming the field. */
static int check_field_names(const gt_action_kind *kind, gt_err *err) {
    for (int i = 0; i < kind->n_fields; i++) {
        const char *f = kind->fields[i].name;
        for (size_t k = 0; k < sizeof envelope_keys / sizeof envelope_keys[0]; k++)
            if (!strcmp(f, envelope_keys[k]))
                return gt_err_set(err, GT_EINVAL,
                                  "action kind \"%s\": a field may not be named \"%s\", a key of every action's "
                                  "envelope (reserved: type, chainId, from, nonce, sig, id, salt)",
                                  kind->name, f);
        for (int j = 0; j < i; j++)
            if (!strcmp(f, kind->fields[j].name))
                return gt_err_set(err, GT_EINVAL, "action kind \"%s\": field \"%s\" declared twice", kind->name, f);
    }
    return 0;
}

int gt_action_register(gt_action_kind *kind, gt_err *err) {
    int rc = check_field_names(kind, err);
    if (rc) return rc;
    for (int i = 0; i < n_kinds; i++) {
        if (kinds[i] == kind) return 0;
        if (!strcmp(kinds[i]->name, kind->name))
            return gt_err_set(err, GT_EEXIST, "action kind \"%s\" registered twice", kind->name);
    }
    if (n_kinds == GT_ACTION_MAX_KINDS)
        return gt_err_set(err, GT_ELIMIT, "too many action kinds (max %d)", GT_ACTION_MAX_KINDS);
    assert(kind->n_fields >= 0 && kind->n_fields <= GT_ACTION_MAX_FIELDS);
    assert(strlen(kind->name) < GT_ACTION_NAME_MAX);
    size_t off = 0;
    int n = snprintf(kind->encode_type, sizeof kind->encode_type, "%s(address from,uint64 nonce",
                     kind->struct_name);
    assert(n > 0 && (size_t)n < sizeof kind->encode_type);
    off = (size_t)n;
    for (int i = 0; i < kind->n_fields; i++) {
        n = snprintf(kind->encode_type + off, sizeof kind->encode_type - off, ",%s %s",
                     gt_action_ftype_name(kind->fields[i].type), kind->fields[i].name);
        assert(n > 0 && off + (size_t)n < sizeof kind->encode_type);
        off += (size_t)n;
    }
    assert(off + 2 <= sizeof kind->encode_type);
    kind->encode_type[off++] = ')';
    kind->encode_type[off] = 0;
    gt_eip712_type_hash(kind->encode_type, kind->type_hash);
    kind->id = n_kinds;
    kinds[n_kinds++] = kind;
    return 0;
}

const gt_action_kind *gt_action_kind_by_name(const char *name) {
    for (int i = 0; i < n_kinds; i++)
        if (!strcmp(kinds[i]->name, name)) return kinds[i];
    return NULL;
}

const gt_action_kind *gt_action_kind_by_id(int id) {
    return id >= 0 && id < n_kinds ? kinds[id] : NULL;
}

int gt_action_field(const gt_action_kind *kind, const char *name) {
    for (int i = 0; i < kind->n_fields; i++)
        if (!strcmp(kind->fields[i].name, name)) return i;
    return -1;
}

void gt_action_init(gt_action *a, const gt_action_kind *kind, const gt_domain *dom,
                    const gt_addr *from, uint64_t nonce) {
    memset(a, 0, offsetof(gt_action, text));
    a->text[0] = 0;
    a->kind = kind;
    a->chain_id = dom->chain_id;
    memcpy(a->salt, dom->salt, 32);
    a->has_salt = 1;
    a->from = *from;
    a->nonce = nonce;
    /* every string field starts as "" at offset 0 */
}

/* Looks up a field that must exist with the given type (programmer error otherwise). */
static int field_of(const gt_action *a, const char *field, gt_ftype t) {
    int i = gt_action_field(a->kind, field);
    assert(i >= 0 && "no such field in this action kind");
    assert(a->kind->fields[i].type == t && "field has another type");
    return i;
}

void gt_action_set_addr(gt_action *a, const char *field, const gt_addr *v) {
    a->f[field_of(a, field, GT_F_ADDRESS)].addr = *v;
}

void gt_action_set_u64(gt_action *a, const char *field, uint64_t v) {
    int i = gt_action_field(a->kind, field);
    assert(i >= 0 && (a->kind->fields[i].type == GT_F_U64 || a->kind->fields[i].type == GT_F_BOOL));
    a->f[i].u64 = a->kind->fields[i].type == GT_F_BOOL ? !!v : v;
}

void gt_action_set_b32(gt_action *a, const char *field, const uint8_t v[32]) {
    memcpy(a->f[field_of(a, field, GT_F_BYTES32)].b32, v, 32);
}

/* Stores a string value into the action's text area. */
static int store_str(gt_action *a, int i, const char *s, size_t len, gt_err *err) {
    const gt_field_def *fd = &a->kind->fields[i];
    if (len > fd->max_len)
        return gt_err_set(err, GT_ELIMIT, "field \"%s\" is %zu bytes; at most %u accepted",
                          fd->name, len, fd->max_len);
    if (memchr(s, 0, len))
        return gt_err_set(err, GT_EINVAL, "field \"%s\" contains a NUL character", fd->name);
    /* offset 0 is reserved for the empty string */
    uint32_t off = a->text_len ? a->text_len : 1;
    if ((size_t)off + len + 1 > GT_ACTION_TEXT_BYTES)
        return gt_err_set(err, GT_ELIMIT, "the action's text fields exceed %d bytes in all",
                          GT_ACTION_TEXT_BYTES);
    memcpy(a->text + off, s, len);
    a->text[off + len] = 0;
    a->f[i].str_off = off;
    a->f[i].str_len = (uint32_t)len;
    a->text_len = off + (uint32_t)len + 1;
    return 0;
}

int gt_action_set_str(gt_action *a, const char *field, const char *s, size_t len, gt_err *err) {
    return store_str(a, field_of(a, field, GT_F_STRING), s, len, err);
}

/* The most bytes of an action's EIP-712 struct encoding: the type hash,
 * from, nonce and a word per field. */
#define STRUCT_BYTES_MAX (32 * (3 + GT_ACTION_MAX_FIELDS))

/* Writes a's EIP-712 struct encoding (encodeData: typeHash, then a 32-byte
 * word per member, strings as the keccak of their bytes) into out and
 * returns its length, 32 * (3 + the kind's fields): the same for every
 * action of one kind. */
static size_t struct_bytes(const gt_action *a, uint8_t out[STRUCT_BYTES_MAX]) {
    const gt_action_kind *k = a->kind;
    assert(k->n_fields >= 0 && k->n_fields <= GT_ACTION_MAX_FIELDS);
    size_t n = 32 * (3 + (size_t)k->n_fields);
    memset(out, 0, n);
    memcpy(out, k->type_hash, 32);
    memcpy(out + 32 + 12, a->from.b, 20);
    for (int b = 0; b < 8; b++) out[64 + 31 - b] = (uint8_t)(a->nonce >> (8 * b));
    for (int i = 0; i < k->n_fields; i++) {
        const gt_value *v = &a->f[i];
        uint8_t *w = out + 32 * (3 + i);
        switch (k->fields[i].type) {
        case GT_F_ADDRESS: memcpy(w + 12, v->addr.b, 20); break;
        case GT_F_BOOL: w[31] = (int)v->u64 ? 1 : 0; break; /* as gt_eip712_enc_bool((int)u64) */
        case GT_F_U64:
            for (int b = 0; b < 8; b++) w[31 - b] = (uint8_t)(v->u64 >> (8 * b));
            break;
        case GT_F_BYTES32: memcpy(w, v->b32, 32); break;
        case GT_F_STRING: gt_keccak256(a->text + v->str_off, v->str_len, w); break;
        }
    }
    return n;
}

/* The domain separator of a's chain id and salt: the last one is kept per
 * thread (it depends on nothing else, and a batch shares it). */
static void domain_of(const gt_action *a, uint8_t domain[32]) {
    static _Thread_local uint64_t cached_chain = UINT64_MAX;
    static _Thread_local uint8_t cached_salt[32], cached_domain[32];
    if (cached_chain != a->chain_id || memcmp(cached_salt, a->salt, 32)) {
        gt_eip712_domain_separator_salt("gotong", "1", a->chain_id, a->salt, cached_domain);
        cached_chain = a->chain_id;
        memcpy(cached_salt, a->salt, 32);
    }
    memcpy(domain, cached_domain, 32);
}

void gt_action_digest(gt_action *a) {
    uint8_t enc[STRUCT_BYTES_MAX], struct_hash[32], domain[32];
    gt_keccak256(enc, struct_bytes(a, enc), struct_hash);
    domain_of(a, domain);
    gt_eip712_digest(domain, struct_hash, a->id);
}

/* The digests of four actions of one struct length at once: the struct
 * hashes, then the EIP-191 envelopes (0x19 0x01 || domain || struct hash),
 * each four abreast (gt_keccak256_x4). */
static void digest_x4(gt_action *const a[4]) {
    uint8_t enc[4][STRUCT_BYTES_MAX], env[4][66];
    const uint8_t *msg[4];
    uint8_t *out[4];
    size_t len = 0;
    for (int k = 0; k < 4; k++) {
        size_t n = struct_bytes(a[k], enc[k]);
        assert(k == 0 || n == len); /* the caller grouped one length */
        len = n;
        msg[k] = enc[k];
        out[k] = env[k] + 34; /* the struct hash's place in the envelope */
    }
    gt_keccak256_x4(msg, len, out);
    for (int k = 0; k < 4; k++) {
        env[k][0] = 0x19, env[k][1] = 0x01;
        domain_of(a[k], env[k] + 2);
        msg[k] = env[k];
        out[k] = a[k]->id;
    }
    gt_keccak256_x4(msg, 66, out);
}

void gt_action_digest_many(gt_action *const *a, size_t n) {
    assert(n == 0 || a);
    size_t i = 0;
    while (i + 4 <= n) {
        int same = 1; /* one struct length: one kind's field count */
        for (int k = 1; k < 4; k++) same &= a[i + k]->kind->n_fields == a[i]->kind->n_fields;
        if (!same) { gt_action_digest(a[i++]); continue; }
        digest_x4(a + i);
        i += 4;
    }
    for (; i < n; i++) gt_action_digest(a[i]);
}

int gt_action_sign(gt_action *a, const gt_key *key, gt_err *err) {
    gt_addr signer;
    gt_key_address(key, &signer);
    if (!gt_addr_eq(&signer, &a->from)) {
        char s1[43], s2[43];
        gt_addr_to_str(&signer, s1);
        gt_addr_to_str(&a->from, s2);
        return gt_err_set(err, GT_EPERM, "key %s cannot sign for %s", s1, s2);
    }
    gt_action_digest(a);
    return gt_sign_digest(key, a->id, &a->sig, err);
}

int gt_action_check_domain(gt_action *a, const gt_domain *dom, gt_err *err) {
    if (a->chain_id != dom->chain_id)
        return gt_err_set(err, GT_ECHAIN,
                          "wrong chain id %llu: the action was signed for another network; this ledger is chain %llu",
                          (unsigned long long)a->chain_id, (unsigned long long)dom->chain_id);
    if (a->has_salt && memcmp(a->salt, dom->salt, 32)) {
        char mine[67] = "0x", theirs[67] = "0x";
        gt_hex_encode(a->salt, 32, mine + 2);
        gt_hex_encode(dom->salt, 32, theirs + 2);
        return gt_err_set(err, GT_ECHAIN,
                          "the action was signed for another network (salt %s); this ledger's genesis hash is %s "
                          "(get the domain from GET /v1/chain)",
                          mine, theirs);
    }
    /* The signature is checked under this ledger's domain, whatever the
     * action says: one signed elsewhere recovers to another address. */
    memcpy(a->salt, dom->salt, 32);
    a->has_salt = 1;
    return 0;
}

int gt_action_check_id(const gt_action *a, gt_err *err) {
    if (!a->has_want_id || !memcmp(a->want_id, a->id, 32)) return 0;
    char want[67] = "0x", is[67] = "0x";
    gt_hex_encode(a->want_id, 32, want + 2);
    gt_hex_encode(a->id, 32, is + 2);
    return gt_err_set(err, GT_EINVAL,
                      "field \"id\" %s is not this action's EIP-712 digest %s (under this ledger's domain)", want, is);
}

int gt_action_check_signer(const gt_action *a, gt_err *err) {
    int rc = gt_action_check_id(a, err);
    if (rc) return rc;
    gt_addr signer;
    rc = gt_recover_digest(a->id, &a->sig, &signer, err);
    if (rc) { gt_err_wrap(err, "bad signature"); return GT_ESIG; }
    if (!gt_addr_eq(&signer, &a->from)) {
        char s1[43], s2[43];
        gt_addr_to_str(&signer, s1);
        gt_addr_to_str(&a->from, s2);
        return gt_err_set(err, GT_ESIG,
                          "bad signature: it was made by %s, not by the sender %s "
                          "(or the action was altered after signing, or signed for another network)",
                          s1, s2);
    }
    return 0;
}

int gt_action_verify(gt_action *a, const gt_domain *dom, gt_err *err) {
    int rc = gt_action_check_domain(a, dom, err);
    if (rc) return rc;
    gt_action_digest(a);
    return gt_action_check_signer(a, err);
}

/* Reads one declared field from JSON into the action. */
static int field_from_json(const json_t *obj, gt_action *a, int i, gt_err *err) {
    const gt_field_def *fd = &a->kind->fields[i];
    json_t *v = json_object_get(obj, fd->name);
    if (!v) return gt_err_set(err, GT_EINVAL, "field \"%s\" is missing", fd->name);
    const char *s;
    int rc;
    switch (fd->type) {
    case GT_F_ADDRESS:
        if (!json_is_string(v))
            return gt_err_set(err, GT_EINVAL, "field \"%s\": expected an address string", fd->name);
        rc = gt_addr_parse(json_string_value(v), &a->f[i].addr, err);
        return rc ? gt_err_wrap(err, "field \"%s\"", fd->name) : 0;
    case GT_F_U64:
        return gt_json_get_u64(obj, fd->name, &a->f[i].u64, err);
    case GT_F_BOOL: {
        int b;
        rc = gt_json_get_bool(obj, fd->name, &b, err);
        a->f[i].u64 = (uint64_t)b;
        return rc;
    }
    case GT_F_BYTES32:
        rc = gt_json_get_str(obj, fd->name, 66, &s, err);
        if (rc) return rc;
        return gt_hex_decode(s, a->f[i].b32, 32, fd->name, err);
    case GT_F_STRING:
        if (!json_is_string(v))
            return gt_err_set(err, GT_EINVAL, "field \"%s\": expected a string", fd->name);
        return store_str(a, i, json_string_value(v), json_string_length(v), err);
    }
    return gt_err_set(err, GT_EINVAL, "field \"%s\": unknown type", fd->name);
}

int gt_action_from_json(const json_t *obj, gt_action *a, gt_err *err) {
    if (!json_is_object(obj)) return gt_err_set(err, GT_EINVAL, "an action must be a JSON object");
    const char *type;
    int rc = gt_json_get_str(obj, "type", GT_ACTION_NAME_MAX, &type, err);
    if (rc) return rc;
    const gt_action_kind *k = gt_action_kind_by_name(type);
    if (!k) return gt_err_set(err, GT_EINVAL, "unknown action type \"%s\"", type);
    /* Refuse unknown fields: a field the signer did not sign must not ride along. */
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)obj, key, val) {
        if (!strcmp(key, "type") || !strcmp(key, "chainId") || !strcmp(key, "from") ||
            !strcmp(key, "nonce") || !strcmp(key, "sig") || !strcmp(key, "id") || !strcmp(key, "salt"))
            continue;
        if (gt_action_field(k, key) < 0)
            return gt_err_set(err, GT_EINVAL, "%s: unknown field \"%.64s\" (fields: %s)", type, key,
                              k->encode_type);
    }
    gt_addr from;
    const char *s;
    uint64_t chain_id, nonce;
    if ((rc = gt_json_get_u64(obj, "chainId", &chain_id, err))) return rc;
    if ((rc = gt_json_get_str(obj, "from", 64, &s, err))) return rc;
    if ((rc = gt_addr_parse(s, &from, err))) return gt_err_wrap(err, "field \"from\"");
    if ((rc = gt_json_get_u64(obj, "nonce", &nonce, err))) return rc;
    gt_domain dom = {.chain_id = chain_id};
    gt_action_init(a, k, &dom, &from, nonce);
    a->has_salt = 0;
    if (json_object_get(obj, "salt")) {
        if ((rc = gt_json_get_str(obj, "salt", 66, &s, err))) return rc;
        if ((rc = gt_hex_decode(s, a->salt, 32, "salt", err))) return rc;
        a->has_salt = 1;
    }
    for (int i = 0; i < k->n_fields; i++)
        if ((rc = field_from_json(obj, a, i, err))) return rc;
    if (json_object_get(obj, "sig")) {
        if ((rc = gt_json_get_str(obj, "sig", 140, &s, err))) return rc;
        if ((rc = gt_sig_from_hex(&a->sig, s, err))) return gt_err_wrap(err, "field \"sig\"");
    } else {
        return gt_err_set(err, GT_ESIG, "the action is not signed (field \"sig\" is missing)");
    }
    if (json_object_get(obj, "id")) {
        /* An id given by the client must be the digest we compute: now, or
         * without a salt once the verifier's domain gives the digest. */
        if ((rc = gt_json_get_str(obj, "id", 66, &s, err))) return rc;
        if ((rc = gt_hex_decode(s, a->want_id, 32, "id", err))) return rc;
        a->has_want_id = 1;
    }
    if (!a->has_salt) return 0; /* the digest needs the verifier's domain (gt_action_verify) */
    gt_action_digest(a);
    return gt_action_check_id(a, err);
}

/* ---- The narrow form: an action read from a flat object in place ----
 * It accepts only what gt_action_from_json accepts, to the same bytes
 * (fuzz_action checks both on every input), and declines everything else
 * with no message: the caller then parses with jansson, whose path names
 * the fault. Hence no error text here, and one set of messages. */

/* A string item of at most max_len bytes copied NUL-terminated into buf
 * (max_len + 1 bytes); 0 when absent or not such a string. */
static int flat_cstr(const gt_json_flat *f, const char *key, size_t max_len, char *buf) {
    const gt_json_flat_item *it = gt_json_flat_get(f, key);
    if (!it || it->kind != GT_JF_STRING || it->str_len > max_len) return 0;
    memcpy(buf, it->str, it->str_len);
    buf[it->str_len] = 0;
    return 1;
}

/* A uint64 item as gt_json_get_u64 reads one: an integer, or a string of 1
 * to 20 digits that fits. */
static int flat_u64(const gt_json_flat *f, const char *key, uint64_t *out) {
    const gt_json_flat_item *it = gt_json_flat_get(f, key);
    if (!it) return 0;
    if (it->kind == GT_JF_INT) return *out = it->num, 1;
    if (it->kind != GT_JF_STRING || it->str_len == 0 || it->str_len > 20) return 0;
    uint64_t x = 0;
    for (size_t i = 0; i < it->str_len; i++) {
        unsigned d = (unsigned)(it->str[i] - '0');
        if (d > 9 || x > (UINT64_MAX - d) / 10) return 0;
        x = x * 10 + d;
    }
    *out = x;
    return 1;
}

/* Field i of a from its item, as field_from_json reads it. */
static int flat_field(const gt_json_flat *f, gt_action *a, int i) {
    const gt_field_def *fd = &a->kind->fields[i];
    const gt_json_flat_item *it = gt_json_flat_get(f, fd->name);
    char s[160];
    if (!it) return 0;
    switch (fd->type) {
    case GT_F_ADDRESS: return flat_cstr(f, fd->name, sizeof s - 1, s) && !gt_addr_parse(s, &a->f[i].addr, NULL);
    case GT_F_U64: return flat_u64(f, fd->name, &a->f[i].u64);
    case GT_F_BOOL:
        if (it->kind != GT_JF_TRUE && it->kind != GT_JF_FALSE) return 0;
        a->f[i].u64 = it->kind == GT_JF_TRUE;
        return 1;
    case GT_F_BYTES32: return flat_cstr(f, fd->name, 66, s) && !gt_hex_decode(s, a->f[i].b32, 32, fd->name, NULL);
    case GT_F_STRING: return it->kind == GT_JF_STRING && !store_str(a, i, it->str, it->str_len, NULL);
    }
    return 0;
}

/* The action in the flat object f: 1 when gt_action_from_json would accept
 * it (out filled the same way, fields in the kind's order so the text
 * fields lie where it puts them), 0 to decline. */
static int action_from_flat(const gt_json_flat *f, gt_action *a) {
    char type[GT_ACTION_NAME_MAX + 1], s[160];
    if (!flat_cstr(f, "type", GT_ACTION_NAME_MAX, type)) return 0;
    const gt_action_kind *k = gt_action_kind_by_name(type);
    if (!k) return 0;
    for (int i = 0; i < f->n; i++) { /* only the envelope and the kind's fields */
        const gt_json_flat_item *it = &f->item[i];
        if (it->key_len >= sizeof s) return 0;
        memcpy(s, it->key, it->key_len);
        s[it->key_len] = 0;
        int envelope = 0;
        for (size_t e = 0; e < sizeof envelope_keys / sizeof envelope_keys[0]; e++)
            envelope |= !strcmp(s, envelope_keys[e]);
        if (!envelope && gt_action_field(k, s) < 0) return 0;
    }
    gt_addr from;
    uint64_t chain_id, nonce;
    if (!flat_u64(f, "chainId", &chain_id) || !flat_cstr(f, "from", 64, s) || gt_addr_parse(s, &from, NULL) ||
        !flat_u64(f, "nonce", &nonce))
        return 0;
    gt_domain dom = {.chain_id = chain_id};
    gt_action_init(a, k, &dom, &from, nonce);
    a->has_salt = 0;
    if (gt_json_flat_get(f, "salt")) {
        if (!flat_cstr(f, "salt", 66, s) || gt_hex_decode(s, a->salt, 32, "salt", NULL)) return 0;
        a->has_salt = 1;
    }
    for (int i = 0; i < k->n_fields; i++)
        if (!flat_field(f, a, i)) return 0;
    if (!flat_cstr(f, "sig", 140, s) || gt_sig_from_hex(&a->sig, s, NULL)) return 0;
    if (gt_json_flat_get(f, "id")) {
        if (!flat_cstr(f, "id", 66, s) || gt_hex_decode(s, a->want_id, 32, "id", NULL)) return 0;
        a->has_want_id = 1;
    }
    if (!a->has_salt) return 1; /* as from_json: no digest without the verifier's domain, "id" kept */
    gt_action_digest(a);
    return gt_action_check_id(a, NULL) == 0;
}

int gt_action_from_flat_text(const char *text, size_t len, gt_action *out) {
    gt_json_flat f;
    return len <= GT_LIMIT_JSON_BYTES && gt_json_flat_scan(text, len, &f) && action_from_flat(&f, out);
}

int gt_action_from_json_text(const char *text, size_t len, gt_action *out, gt_err *err) {
    if (gt_action_from_flat_text(text, len, out)) return 0;
    json_t *v;
    int rc = gt_json_parse(text, len, GT_LIMIT_JSON_BYTES, &v, err);
    if (rc) return rc;
    rc = gt_action_from_json(v, out, err);
    json_decref(v);
    return rc;
}

/* A uint64 in JSON is an integer when a double holds it exactly (most
 * clients read numbers as doubles), else a decimal string. */
static int u64_as_string(uint64_t v) { return v > (1ull << 53); }

/* A uint64 as JSON (new reference), by u64_as_string's rule. */
static json_t *u64_json(uint64_t v) {
    if (!u64_as_string(v)) return json_integer((json_int_t)v);
    char s[24];
    snprintf(s, sizeof s, "%llu", (unsigned long long)v);
    return json_string(s);
}

int gt_action_field_scalar(const gt_action *a, int i, char out[GT_ACTION_SCALAR_MAX]) {
    assert(i >= 0 && i < a->kind->n_fields);
    const gt_value *v = &a->f[i];
    switch (a->kind->fields[i].type) {
    case GT_F_ADDRESS: gt_addr_to_str(&v->addr, out); return 1;
    case GT_F_U64:
        snprintf(out, GT_ACTION_SCALAR_MAX, "%llu", (unsigned long long)v->u64);
        return u64_as_string(v->u64);
    case GT_F_BOOL: strcpy(out, v->u64 ? "true" : "false"); return 0;
    case GT_F_BYTES32:
        out[0] = '0', out[1] = 'x';
        gt_hex_encode(v->b32, 32, out + 2);
        return 1;
    case GT_F_STRING: break;
    }
    assert(0 && "a string field has no fixed-width form: gt_action_to_json escapes it");
    return -1;
}

/* Field i of a as JSON (new reference), as gt_action_to_json writes it. */
static json_t *field_json(const gt_action *a, int i) {
    const gt_value *v = &a->f[i];
    gt_ftype t = a->kind->fields[i].type;
    if (t == GT_F_STRING) return json_stringn(a->text + v->str_off, v->str_len);
    if (t == GT_F_U64) return u64_json(v->u64);
    if (t == GT_F_BOOL) return json_boolean(v->u64);
    char s[GT_ACTION_SCALAR_MAX];
    gt_action_field_scalar(a, i, s); /* an address or "0x" and hex: a string */
    return json_string(s);
}

json_t *gt_action_to_json(const gt_action *a, int with_sig) {
    const gt_action_kind *k = a->kind;
    json_t *o = json_object();
    char s[140];
    json_object_set_new(o, "type", json_string(k->name));
    json_object_set_new(o, "chainId", u64_json(a->chain_id));
    if (a->has_salt) {
        s[0] = '0', s[1] = 'x';
        gt_hex_encode(a->salt, 32, s + 2);
        json_object_set_new(o, "salt", json_string(s));
    }
    gt_addr_to_str(&a->from, s);
    json_object_set_new(o, "from", json_string(s));
    json_object_set_new(o, "nonce", u64_json(a->nonce));
    for (int i = 0; i < k->n_fields; i++) json_object_set_new(o, k->fields[i].name, field_json(a, i));
    if (with_sig) {
        gt_sig_to_hex(&a->sig, s);
        json_object_set_new(o, "sig", json_string(s));
        s[0] = '0', s[1] = 'x';
        gt_hex_encode(a->id, 32, s + 2);
        json_object_set_new(o, "id", json_string(s));
    }
    return o;
}

/* Binary layout (all integers little-endian):
 *   u8 version (1) | u8 name_len | name | u64 chain_id | from[20] | u64 nonce |
 *   per field: address 20 | uint64 8 | bytes32 32 | bool 1 | string u32 len + bytes |
 *   sig r[32] s[32] v[1] */
static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) { p[i] = (uint8_t)v; v >>= 8; }
}
static uint64_t get_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

size_t gt_action_encode(const gt_action *a, uint8_t *out) {
    const gt_action_kind *k = a->kind;
    size_t o = 0, nl = strlen(k->name);
    out[o++] = 1;
    out[o++] = (uint8_t)nl;
    memcpy(out + o, k->name, nl), o += nl;
    put_le(out + o, a->chain_id, 8), o += 8;
    memcpy(out + o, a->from.b, 20), o += 20;
    put_le(out + o, a->nonce, 8), o += 8;
    for (int i = 0; i < k->n_fields; i++) {
        const gt_value *v = &a->f[i];
        switch (k->fields[i].type) {
        case GT_F_ADDRESS: memcpy(out + o, v->addr.b, 20), o += 20; break;
        case GT_F_U64: put_le(out + o, v->u64, 8), o += 8; break;
        case GT_F_BYTES32: memcpy(out + o, v->b32, 32), o += 32; break;
        case GT_F_BOOL: out[o++] = (uint8_t)v->u64; break;
        case GT_F_STRING:
            put_le(out + o, v->str_len, 4), o += 4;
            memcpy(out + o, a->text + v->str_off, v->str_len), o += v->str_len;
            break;
        }
    }
    uint8_t sig[65];
    gt_sig_to_bytes(&a->sig, sig);
    memcpy(out + o, sig, 65), o += 65;
    assert(o <= GT_ACTION_BIN_MAX);
    return o;
}

int gt_action_decode(const uint8_t *in, size_t len, const uint8_t salt[32], gt_action *a, gt_err *err) {
    size_t o = 0;
#define NEED(n) do { if (len - o < (size_t)(n)) return gt_err_set(err, GT_EINVAL, "stored action is truncated"); } while (0)
    NEED(2);
    if (in[0] != 1) return gt_err_set(err, GT_EINVAL, "stored action has unknown version %u", in[0]);
    size_t nl = in[1];
    o = 2;
    NEED(nl);
    char name[GT_ACTION_NAME_MAX];
    if (nl >= sizeof name) return gt_err_set(err, GT_EINVAL, "stored action has a bad kind name");
    memcpy(name, in + o, nl), name[nl] = 0, o += nl;
    const gt_action_kind *k = gt_action_kind_by_name(name);
    if (!k) return gt_err_set(err, GT_EINVAL, "stored action has unknown kind \"%s\"", name);
    NEED(36);
    gt_addr from;
    uint64_t chain_id = get_le(in + o, 8);
    memcpy(from.b, in + o + 8, 20);
    uint64_t nonce = get_le(in + o + 28, 8);
    o += 36;
    gt_domain dom = {.chain_id = chain_id};
    if (salt) memcpy(dom.salt, salt, 32);
    gt_action_init(a, k, &dom, &from, nonce);
    a->has_salt = salt != NULL;
    for (int i = 0; i < k->n_fields; i++) {
        gt_value *v = &a->f[i];
        switch (k->fields[i].type) {
        case GT_F_ADDRESS: NEED(20); memcpy(v->addr.b, in + o, 20), o += 20; break;
        case GT_F_U64: NEED(8); v->u64 = get_le(in + o, 8), o += 8; break;
        case GT_F_BYTES32: NEED(32); memcpy(v->b32, in + o, 32), o += 32; break;
        case GT_F_BOOL: NEED(1); v->u64 = in[o++] ? 1 : 0; break;
        case GT_F_STRING: {
            NEED(4);
            uint64_t sl = get_le(in + o, 4);
            o += 4;
            NEED(sl);
            int rc = store_str(a, i, (const char *)in + o, (size_t)sl, err);
            if (rc) return rc;
            o += sl;
            break;
        }
        }
    }
    NEED(65);
    int rc = gt_sig_from_bytes(&a->sig, in + o, err);
    if (rc) return rc;
    o += 65;
    if (o != len) return gt_err_set(err, GT_EINVAL, "stored action has %zu trailing bytes", len - o);
#undef NEED
    if (salt) gt_action_digest(a);
    return 0;
}
