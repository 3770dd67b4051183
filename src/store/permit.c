/* permit.c: signed upload permits (see permit.h). */
#include "store/permit.h"

#include <stdio.h>
#include <string.h>

#include "base/num.h"
#include "crypto/addr.h"
#include "crypto/eip712.h"
#include "store/blob.h"

/* The typed-data digest: domain separator of the network, then the struct. */
void gt_blob_permit_digest(const gt_blob_permit *p, uint64_t chain_id, const uint8_t salt[32], uint8_t out[32]) {
    uint8_t type_hash[32], domain[32], st[32];
    gt_eip712_type_hash(GT_BLOB_PERMIT_TYPE, type_hash);
    gt_eip712_domain_separator_salt("gotong", "1", chain_id, salt, domain);
    gt_eip712_enc e;
    gt_eip712_enc_init(&e, type_hash);
    gt_eip712_enc_address(&e, &p->uploader);
    gt_eip712_enc_bytes32(&e, p->hash);
    gt_eip712_enc_uint(&e, p->size);
    gt_eip712_enc_uint(&e, p->expiry_s);
    gt_eip712_enc_final(&e, st);
    gt_eip712_digest(domain, st, out);
}

int gt_blob_permit_sign(gt_blob_permit *p, const gt_key *k, uint64_t chain_id, const uint8_t salt[32], gt_err *err) {
    gt_key_address(k, &p->uploader);
    uint8_t d[32];
    gt_blob_permit_digest(p, chain_id, salt, d);
    return gt_sign_digest(k, d, &p->sig, err);
}

int gt_blob_permit_check(const gt_blob_permit *p, uint64_t chain_id, const uint8_t salt[32], uint64_t now_s,
                         gt_err *err) {
    uint8_t d[32];
    gt_addr who;
    char want[43], got[200];
    gt_blob_permit_digest(p, chain_id, salt, d);
    gt_addr_to_str(&p->uploader, want);
    gt_err why = {0};
    if (gt_recover_digest(d, &p->sig, &who, &why) || memcmp(who.b, p->uploader.b, 20)) {
        /* why recovery failed (a high s, a bad v), as an action's refusal says it */
        if (why.code) snprintf(got, sizeof got, "no address (%.180s)", why.msg);
        else gt_addr_to_str(&who, got);
        return gt_err_set(err, GT_ESIG,
                          "upload permit: the signature recovers to %s, not to the uploader %s (sign "
                          "BlobUpload(uploader,hash,size,expiry) under this network's domain, GET /v1/chain)",
                          got, want);
    }
    if (p->expiry_s < now_s)
        return gt_err_set(err, GT_EPERM, "upload permit expired %llu s ago; sign a new one",
                          (unsigned long long)(now_s - p->expiry_s));
    if (p->expiry_s - now_s > GT_BLOB_PERMIT_MAX_TTL_S)
        return gt_err_set(err, GT_EPERM, "upload permit expires in %llu s; at most %d s ahead is accepted",
                          (unsigned long long)(p->expiry_s - now_s), GT_BLOB_PERMIT_MAX_TTL_S);
    return 0;
}

void gt_blob_permit_format(const gt_blob_permit *p, char *out, size_t cap) {
    char addr[43], id[GT_BLOB_ID_BYTES], sig[133];
    gt_addr_to_str(&p->uploader, addr);
    gt_blob_id_format(p->hash, id);
    gt_sig_to_hex(&p->sig, sig);
    snprintf(out, cap, "%s uploader=%s,hash=%s,size=%llu,expiry=%llu,sig=%s", GT_BLOB_PERMIT_SCHEME, addr, id,
             (unsigned long long)p->size, (unsigned long long)p->expiry_s, sig);
}

/* Sets field `key` of p from value; seen collects which were set. */
static int permit_field(gt_blob_permit *p, const char *key, const char *value, unsigned *seen, gt_err *err) {
    static const char *const keys[] = {"uploader", "hash", "size", "expiry", "sig"};
    int k = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(key, keys[i])) k = i;
    if (k < 0)
        return gt_err_set(err, GT_EINVAL, "upload permit: unknown field \"%.20s\"; expected uploader, hash, size, "
                                          "expiry and sig", key);
    if (*seen & (1u << k)) return gt_err_set(err, GT_EINVAL, "upload permit: field \"%s\" given twice", key);
    *seen |= 1u << k;
    switch (k) {
    case 0: return gt_addr_parse(value, &p->uploader, err) ? gt_err_wrap(err, "upload permit uploader") : 0;
    case 1: return gt_blob_id_parse(value, p->hash, err) ? gt_err_wrap(err, "upload permit hash") : 0;
    case 2: return gt_parse_u64(value, "upload permit size", 0, UINT64_MAX, &p->size, err);
    case 3: return gt_parse_u64(value, "upload permit expiry", 0, UINT64_MAX, &p->expiry_s, err);
    default: return gt_sig_from_hex(&p->sig, value, err) ? gt_err_wrap(err, "upload permit sig") : 0;
    }
}

int gt_blob_permit_parse(const char *header, gt_blob_permit *p, gt_err *err) {
    memset(p, 0, sizeof *p);
    size_t slen = strlen(GT_BLOB_PERMIT_SCHEME);
    if (strlen(header) >= GT_BLOB_PERMIT_HEADER_MAX)
        return gt_err_set(err, GT_EINVAL, "upload permit is over %d bytes", GT_BLOB_PERMIT_HEADER_MAX);
    if (strncmp(header, GT_BLOB_PERMIT_SCHEME, slen) || header[slen] != ' ')
        return gt_err_set(err, GT_EINVAL, "Authorization: expected \"%s uploader=..,hash=..,size=..,expiry=..,"
                                          "sig=..\"", GT_BLOB_PERMIT_SCHEME);
    char buf[GT_BLOB_PERMIT_HEADER_MAX];
    snprintf(buf, sizeof buf, "%s", header + slen + 1);
    unsigned seen = 0;
    char *save = NULL;
    for (char *part = strtok_r(buf, ",", &save); part; part = strtok_r(NULL, ",", &save)) {
        while (*part == ' ') part++;
        char *eq = strchr(part, '=');
        if (!eq) return gt_err_set(err, GT_EINVAL, "upload permit: expected key=value, got \"%.40s\"", part);
        *eq = 0;
        int rc = permit_field(p, part, eq + 1, &seen, err);
        if (rc) return rc;
    }
    if (seen != 0x1f)
        return gt_err_set(err, GT_EINVAL, "upload permit: expected the fields uploader, hash, size, expiry and sig");
    return 0;
}
