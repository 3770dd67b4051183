/* fuzz_blob_permit.c: the parser of upload permits (the Authorization header
 * of POST /v1/blobs, store/permit.h) on hostile headers. Properties beyond
 * not crashing: a parse that fails says why; one that succeeds formats back
 * to a header that parses to the very same permit (every field round-trips),
 * and checking it never accepts a signature that does not recover to the
 * uploader it names. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store/permit.h"

/* One input: the header's value (NUL bytes end it, as in HTTP). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *in = malloc(size + 1);
    memcpy(in, data, size);
    in[size] = 0;
    gt_blob_permit p, q;
    gt_err err = {0};
    if (gt_blob_permit_parse(in, &p, &err)) {
        assert(err.msg[0]);
    } else {
        char back[GT_BLOB_PERMIT_HEADER_MAX];
        gt_blob_permit_format(&p, back, sizeof back);
        assert(gt_blob_permit_parse(back, &q, NULL) == 0);
        assert(!memcmp(&p, &q, sizeof p));
        uint8_t salt[32] = {0};
        gt_err e2 = {0};
        if (gt_blob_permit_check(&p, 1337, salt, p.expiry_s, &e2) == 0) {
            /* only a real signature by the named uploader passes */
            uint8_t d[32];
            gt_addr who;
            gt_blob_permit_digest(&p, 1337, salt, d);
            assert(gt_recover_digest(d, &p.sig, &who, NULL) == 0 && !memcmp(who.b, p.uploader.b, 20));
        }
    }
    free(in);
    return 0;
}
