/* permit.h: the signed permit that pays for a blob upload with its signer's
 * standing. An upload to a node names, in one header, who uploads, the
 * blob's SHA-256 and size, and until when the permit holds, signed with the
 * uploader's key as EIP-712 typed data:
 *
 *   BlobUpload(address uploader,bytes32 hash,uint64 size,uint64 expiry)
 *
 * under the network's signing domain {name:"gotong",version:"1",chainId,salt}
 * (the domain of every action), so a permit for one network is refused by
 * every other, and any Ethereum wallet can sign one. The header:
 *
 *   Authorization: Gotong-Permit uploader=0x..,hash=sha256:..,size=N,expiry=T,sig=0x..
 *
 * (expiry in Unix seconds; sig 65 bytes r||s||v as hex). The node decides
 * what a valid permit buys (funds held, a quota); this module only builds,
 * signs, parses and checks permits. */
#ifndef GT_STORE_PERMIT_H
#define GT_STORE_PERMIT_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"

#define GT_BLOB_PERMIT_TYPE "BlobUpload(address uploader,bytes32 hash,uint64 size,uint64 expiry)"
#define GT_BLOB_PERMIT_SCHEME "Gotong-Permit"
/* The longest a permit may be valid for, from the moment it is checked: a
 * leaked permit can only store its one blob, and only for this long. */
#define GT_BLOB_PERMIT_MAX_TTL_S 3600
/* How long a permit the client signs holds. */
#define GT_BLOB_PERMIT_TTL_S 600
/* The longest header value accepted (a permit is about 330 bytes). */
#define GT_BLOB_PERMIT_HEADER_MAX 512

typedef struct gt_blob_permit {
    gt_addr uploader;
    uint8_t hash[32]; /* SHA-256 of the blob */
    uint64_t size;    /* its exact length in bytes */
    uint64_t expiry_s;
    gt_sig sig;
} gt_blob_permit;

/* The EIP-712 digest the uploader signs, under {chain_id, salt}. */
void gt_blob_permit_digest(const gt_blob_permit *p, uint64_t chain_id, const uint8_t salt[32], uint8_t out[32]);
/* Sets p->uploader to k's address and p->sig to k's signature. */
int gt_blob_permit_sign(gt_blob_permit *p, const gt_key *k, uint64_t chain_id, const uint8_t salt[32], gt_err *err);
/* Checks the signature (it must recover to p->uploader) and the expiry
 * against now_s (not passed, and not more than GT_BLOB_PERMIT_MAX_TTL_S
 * ahead). GT_ESIG or GT_EPERM with a message saying what is wrong. */
int gt_blob_permit_check(const gt_blob_permit *p, uint64_t chain_id, const uint8_t salt[32], uint64_t now_s,
                         gt_err *err);
/* Writes the Authorization header's value into out (cap >= GT_BLOB_PERMIT_HEADER_MAX). */
void gt_blob_permit_format(const gt_blob_permit *p, char *out, size_t cap);
/* Parses an Authorization header's value; GT_EINVAL saying what was expected. */
int gt_blob_permit_parse(const char *header, gt_blob_permit *p, gt_err *err);

#endif
