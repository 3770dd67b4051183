/* eip712.h: EIP-712 typed structured data hashing, at two levels.
 *
 * (1) Building blocks for code that hashes its own fixed structs (the ledger
 *     hashes each action this way): a type hash from the encodeType string, an
 *     encoder that accumulates the 32-byte words of encodeData, the domain
 *     separator and the final digest keccak(0x19 0x01 || domain || struct).
 * (2) Generic typed data as wallets send it (eth_signTypedData_v4 JSON with
 *     types, primaryType, domain and message), with nested structs, arrays,
 *     and every atomic type, so `gotong wallet sign --typed-data` signs exactly
 *     what MetaMask or cast would. */
#ifndef GT_CRYPTO_EIP712_H
#define GT_CRYPTO_EIP712_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "crypto/keccak.h"
#include "crypto/key.h"

/* Limits on typed-data JSON from outside (wallet requests, CLI files). */
#define GT_EIP712_MAX_JSON_BYTES (256 * 1024) /* MetaMask-sized requests are a few KiB */
#define GT_EIP712_MAX_TYPES 64                /* struct types in one request */
#define GT_EIP712_MAX_FIELDS 64               /* fields of one struct type */
#define GT_EIP712_MAX_NAME_BYTES 128          /* type and field names */
#define GT_EIP712_MAX_DEPTH 16                /* struct/array nesting of the message */
#define GT_EIP712_MAX_ARRAY_ITEMS 4096        /* items of one array value */
#define GT_EIP712_MAX_ENCODE_TYPE_BYTES 16384 /* the encodeType string of one type */

/* keccak256 of an encodeType string such as
 * "Mail(Person from,Person to,string contents)Person(string name,address wallet)". */
void gt_eip712_type_hash(const char *encode_type, uint8_t out[32]);

/* encodeData accumulator: typeHash then one 32-byte word per field. */
typedef struct gt_eip712_enc {
    gt_keccak k;
} gt_eip712_enc;

/* Starts a struct hash with its type hash as the first word. */
void gt_eip712_enc_init(gt_eip712_enc *e, const uint8_t type_hash[32]);
void gt_eip712_enc_uint(gt_eip712_enc *e, uint64_t v);            /* uint256, big-endian */
void gt_eip712_enc_address(gt_eip712_enc *e, const gt_addr *a);    /* left-padded to 32 */
void gt_eip712_enc_bytes32(gt_eip712_enc *e, const uint8_t b[32]); /* also a nested struct hash */
void gt_eip712_enc_bool(gt_eip712_enc *e, int v);
void gt_eip712_enc_string(gt_eip712_enc *e, const char *s, size_t len); /* keccak(s) */
void gt_eip712_enc_bytes(gt_eip712_enc *e, const void *b, size_t len);  /* keccak(b) */
/* Finishes: struct_hash = keccak(typeHash || words...). */
void gt_eip712_enc_final(gt_eip712_enc *e, uint8_t struct_hash[32]);

/* hashStruct(EIP712Domain) for {name, version, chainId[, verifyingContract]};
 * verifying_contract NULL omits the field (and from the type string). */
void gt_eip712_domain_separator(const char *name, const char *version, uint64_t chain_id,
                                const gt_addr *verifying_contract, uint8_t out[32]);
/* hashStruct(EIP712Domain) for {name, version, chainId, salt}: the domain
 * that binds a signature to one network (gotong uses its genesis hash). */
void gt_eip712_domain_separator_salt(const char *name, const char *version, uint64_t chain_id,
                                     const uint8_t salt[32], uint8_t out[32]);
/* keccak(0x19 0x01 || domain_sep || struct_hash): the digest that is signed.
 * struct_hash NULL gives keccak(0x19 0x01 || domain_sep), what wallets sign
 * when primaryType is EIP712Domain itself. */
void gt_eip712_digest(const uint8_t domain_sep[32], const uint8_t struct_hash[32],
                      uint8_t out[32]);

/* Hashes eth_signTypedData_v4 JSON ({types, primaryType, domain, message}) to
 * the digest a wallet signs. Types: structs (nested; a type may refer to
 * itself, as the EIP allows, since values are finite), T[] and T[n] arrays,
 * string, bytes, bytes1..32, uint8..256, int8..256, address, bool. Integers
 * may be JSON numbers or decimal / 0x-hex strings and must fit their width;
 * unsized uint/int mean 256 bits. Message fields not declared in the type are
 * refused. Without an EIP712Domain entry in types, the domain type is built
 * from the domain's keys (as ethers and viem do). Errors name the path
 * ("message.to[0].wallet: ...") and what was expected. */
int gt_eip712_hash_json(const char *json, size_t len, uint8_t digest_out[32], gt_err *err);

/* As gt_eip712_hash_json but also returns the domain separator and the
 * primary struct hash (either out pointer may be NULL). */
int gt_eip712_hash_json_parts(const char *json, size_t len, uint8_t domain_out[32],
                              uint8_t struct_out[32], uint8_t digest_out[32], gt_err *err);

#endif
