/* fuzz_keystore.c: the two wallet parsers that take files from outside: the
 * V3 keystore decoder and the EIP-712 typed-data hasher. Every input goes to
 * both. KDF costs are bounded (1 MiB, 4096 work units) so a mutation that
 * raises n or c cannot make a run hang; seeds use tiny costs and the password
 * "fuzz", so unmutated seeds reach the success path.
 * Invariants checked: a successful decrypt yields a valid key; hashing the
 * same typed data twice gives the same digest. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/eip712.h"
#include "crypto/keystore.h"

#define FUZZ_KDF_MAX_MEM_BYTES (1u << 20)
#define FUZZ_KDF_MAX_WORK 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    gt_key k;
    gt_err err = {0};
    if (gt_keystore_decrypt_bounded((const char *)data, size, "fuzz", FUZZ_KDF_MAX_MEM_BYTES,
                                    FUZZ_KDF_MAX_WORK, &k, &err) == 0) {
        gt_addr a;
        if (gt_key_address(&k, &a) != 0) abort();
        gt_key_wipe(&k);
    } else if (err.msg[0] == 0) {
        abort(); /* every refusal must say why */
    }
    uint8_t d1[32], d2[32];
    gt_err_clear(&err);
    if (gt_eip712_hash_json((const char *)data, size, d1, &err) == 0) {
        if (gt_eip712_hash_json((const char *)data, size, d2, &err) != 0) abort();
        if (memcmp(d1, d2, 32) != 0) abort();
    } else if (err.msg[0] == 0) {
        abort();
    }
    return 0;
}
