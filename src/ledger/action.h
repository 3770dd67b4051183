/* action.h: signed actions -- the only way state changes.
 *
 * An action is EIP-712 typed data signed by its sender. Every kind declares its
 * fields once (gt_action_kind); from that one declaration come the EIP-712 type
 * string and hash, the JSON encoding for the API and CLI, the canonical bytes
 * stored in the log, and the checks on each field. The ledger registers the core
 * kinds (transfer, mint, stake, unstake); higher layers (the market) register
 * their own kinds with gt_action_register before opening a ledger, so new rules
 * never change this core.
 *
 * JSON form (field order free, unknown fields refused):
 *   {"type":"transfer","chainId":1337,"from":"0xAb..","nonce":0,
 *    "to":"0xCd..","amount":1500000,"sig":"0x<65 bytes r||s||v>"}
 * Amounts and other uint64 fields are base units, as a JSON integer or a decimal
 * string (JSON numbers above 2^53 lose precision in most tools).
 * The EIP-712 struct is Kind(address from,uint64 nonce,<fields...>) under the
 * domain {name:"gotong",version:"1",chainId,salt}, salt being the network's
 * genesis block hash; its digest is the action's id. The salt binds a
 * signature to one network: an action signed for one gotong network is
 * refused by every other, even one that reuses its chain id. JSON carries it
 * as "salt" (optional on input: the verifier's own is used when absent). */
#ifndef GT_LEDGER_ACTION_H
#define GT_LEDGER_ACTION_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/key.h"

#define GT_ACTION_MAX_FIELDS 15     /* besides from and nonce (task_post has 15) */
#define GT_ACTION_TEXT_BYTES (24 * 1024) /* all string fields of one action together (a label item: 5 x 4 KiB) */
#define GT_ACTION_MAX_KINDS 64
#define GT_ACTION_NAME_MAX 32

typedef enum gt_ftype {
    GT_F_ADDRESS = 1, /* EIP-712 address */
    GT_F_U64 = 2,     /* EIP-712 uint64 */
    GT_F_BYTES32 = 3, /* EIP-712 bytes32; JSON "0x"+64 hex */
    GT_F_STRING = 4,  /* EIP-712 string; UTF-8, at most max_len bytes */
    GT_F_BOOL = 5,    /* EIP-712 bool */
} gt_ftype;

/* The EIP-712 type name of a field type ("uint64"), or "?" for none. */
const char *gt_action_ftype_name(gt_ftype t);

typedef struct gt_field_def {
    const char *name;  /* JSON and EIP-712 name, camelCase */
    gt_ftype type;
    uint32_t max_len;  /* strings only: byte limit */
} gt_field_def;

/* The signing domain of one network (see gt_ledger_domain). */
typedef struct gt_domain {
    uint64_t chain_id;
    uint8_t salt[32]; /* the network's genesis block hash */
} gt_domain;

typedef struct gt_action gt_action;
struct gt_tx; /* state transaction, see state.h */

typedef struct gt_action_kind {
    const char *name;        /* JSON "type": "transfer" */
    const char *struct_name; /* EIP-712 primary type: "Transfer" */
    const gt_field_def *fields;
    int n_fields;
    /* Applies a verified action to state. Must check everything it needs before
     * changing anything it cannot undo; state.h's primitives are undone by the
     * ledger when apply fails. Returns 0 or a GT_E* with a message in err. */
    int (*apply)(struct gt_tx *tx, const gt_action *a, gt_err *err);
    /* 1 when apply writes SQL tables of its own (the market's): the ledger then
     * wraps it in a SAVEPOINT so a refusal midway leaves nothing behind. */
    int uses_db;
    /* Filled by gt_action_register: */
    uint8_t type_hash[32];
    char encode_type[512];
    int id;
} gt_action_kind;

typedef struct gt_value {
    gt_addr addr;
    uint64_t u64;         /* also bool (0/1) */
    uint8_t b32[32];
    uint32_t str_off, str_len; /* into gt_action.text */
} gt_value;

struct gt_action {
    const gt_action_kind *kind;
    uint64_t chain_id;
    uint8_t salt[32];    /* the domain's salt (see gt_domain) */
    int has_salt;        /* 0: decoded without one (the log; JSON without "salt") */
    gt_addr from;
    uint64_t nonce;
    gt_value f[GT_ACTION_MAX_FIELDS];
    gt_sig sig;
    uint8_t id[32];      /* EIP-712 digest, set by gt_action_digest / decode */
    /* An "id" a client sent with no "salt": its digest needs the verifier's
     * domain, so it is compared once that is known (gt_action_check_signer). */
    uint8_t want_id[32];
    int has_want_id;
    uint32_t text_len;
    char text[GT_ACTION_TEXT_BYTES]; /* string field storage, NUL after each */
};

/* Registers a kind (static storage, must outlive all ledgers). Computes its
 * EIP-712 type string and hash. Registering the same pointer twice is a no-op;
 * another kind with the same name is refused, and so is (GT_EINVAL) a kind
 * with two fields of one name or a field named like a key of the JSON
 * envelope (type, chainId, from, nonce, sig, id, salt: a field "salt" would be
 * read as the network's signing salt). Not thread-safe: call at start. */
int gt_action_register(gt_action_kind *kind, gt_err *err);
const gt_action_kind *gt_action_kind_by_name(const char *name);
const gt_action_kind *gt_action_kind_by_id(int id);
/* Index of a field by name in kind, or -1. */
int gt_action_field(const gt_action_kind *kind, const char *name);

/* Starts an unsigned action of `kind` (all fields zero/empty). */
void gt_action_init(gt_action *a, const gt_action_kind *kind, const gt_domain *dom,
                    const gt_addr *from, uint64_t nonce);
/* Field setters by name; assert the field exists with that type (programmer
 * error otherwise). set_str fails with GT_ELIMIT when over the field's limit. */
void gt_action_set_addr(gt_action *a, const char *field, const gt_addr *v);
void gt_action_set_u64(gt_action *a, const char *field, uint64_t v);
void gt_action_set_b32(gt_action *a, const char *field, const uint8_t v[32]);
int gt_action_set_str(gt_action *a, const char *field, const char *s, size_t len, gt_err *err);
/* Field getters by index (apply functions use the indexes of their kind). */
static inline const char *gt_action_str(const gt_action *a, int i) { return a->text + a->f[i].str_off; }

/* Computes the EIP-712 digest (under a->chain_id and a->salt) into a->id. */
void gt_action_digest(gt_action *a);
/* Digest + sign with key (whose address must be a->from). */
int gt_action_sign(gt_action *a, const gt_key *key, gt_err *err);
/* Checks the action belongs to the network of dom (chain id, and salt when the
 * action names one), recomputes the digest under dom and checks the signature
 * recovers to a->from. GT_ECHAIN / GT_ESIG with a message otherwise. */
int gt_action_verify(gt_action *a, const gt_domain *dom, gt_err *err);
/* gt_action_verify in its three steps, for a caller that verifies many
 * actions: check_domain (the network checks; sets a's salt to dom's), then
 * gt_action_digest_many over the actions that passed (the same a->id as
 * gt_action_digest each, computed four at a time where four of one kind's
 * length are side by side), then check_signer (recovery, against a->from;
 * a->id must be the digest). */
int gt_action_check_domain(gt_action *a, const gt_domain *dom, gt_err *err);
void gt_action_digest_many(gt_action *const *a, size_t n);
int gt_action_check_signer(const gt_action *a, gt_err *err);
/* GT_EINVAL when the client sent an "id" (a->has_want_id) that is not a->id,
 * the digest; 0 otherwise. check_signer calls it first. */
int gt_action_check_id(const gt_action *a, gt_err *err);

/* JSON decoding with every check: kind known, fields present with the right
 * types and within limits, no unknown fields, address checksums, signature
 * shape. Does not verify the signature (gt_action_verify does). */
int gt_action_from_json(const json_t *obj, gt_action *out, gt_err *err);
int gt_action_from_json_text(const char *text, size_t len, gt_action *out, gt_err *err);
/* The fast path of the above for the common case, a single action object of
 * plain values (base/json.h's narrow form): 1 when text is such an object
 * and gt_action_from_json accepts it (out filled to the same bytes), 0
 * otherwise (out's content undefined; parse it with the full path, which
 * says what is wrong). */
int gt_action_from_flat_text(const char *text, size_t len, gt_action *out);
/* JSON encoding (new reference; caller json_decref). with_sig adds "sig" and "id". */
json_t *gt_action_to_json(const gt_action *a, int with_sig);
/* Field i of a, not a string field, as its value in gt_action_to_json's
 * JSON, written at out without quotes: an address, "0x" and hex, a uint64
 * in decimal, true or false. Returns 1 when that value is a JSON string
 * (an address, bytes32, or a uint64 above 2^53), 0 when a bare literal: for
 * writers of JSON text that name a few fields of many actions (the node's
 * task events), with gt_action_to_json's rules. */
#define GT_ACTION_SCALAR_MAX 67 /* "0x" + 64 hex and NUL; an address is 43 */
int gt_action_field_scalar(const gt_action *a, int i, char out[GT_ACTION_SCALAR_MAX]);

/* Compact binary form stored in the log (see action.c for the layout; the
 * salt is not stored: every action of a ledger has that ledger's).
 * encode returns the byte count (<= GT_ACTION_BIN_MAX). decode checks every
 * length against the buffer: a damaged log gives an error, not a crash; with
 * the ledger's salt it also computes a->id (salt NULL: id left zero). */
#define GT_ACTION_BIN_MAX (64 + GT_ACTION_NAME_MAX + GT_ACTION_MAX_FIELDS * 36 + GT_ACTION_TEXT_BYTES + 65)
size_t gt_action_encode(const gt_action *a, uint8_t *out);
int gt_action_decode(const uint8_t *in, size_t len, const uint8_t salt[32], gt_action *a, gt_err *err);

#endif
