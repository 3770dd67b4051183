/* erc8004.h: ERC-8004's reputation and validation registries
 * (contracts/ReputationRegistry.sol, ValidationRegistry.sol) from C: the
 * feedbackAuth an agent's owner signs for a client, feedback given and
 * revoked, validation requested and answered, and the registries' summaries.
 * Every write is one transaction waited for (client.h); a call the contract
 * would refuse is refused before anything is sent, with its reason. */
#ifndef GT_CHAIN_ERC8004_H
#define GT_CHAIN_ERC8004_H
#include <stddef.h>
#include <stdint.h>
#include "base/err.h"
#include "chain/client.h"

#define GT_ERC8004_AUTH_BYTES (7 * 32 + 65) /* the encoded tuple, then r ‖ s ‖ v */
#define GT_ERC8004_MAX_FILTER 256           /* addresses in one summary's filter */

/* (agentId, clientAddress, indexLimit, expiry, chainId, identityRegistry, signerAddress) */
typedef struct gt_erc8004_auth {
    uint64_t agent_id;
    gt_addr client;
    uint64_t index_limit, expiry, chain_id;
    gt_addr registry, signer;
} gt_erc8004_auth;

typedef struct gt_erc8004_status {
    gt_addr validator;
    uint64_t agent_id, response, last_update;
    uint8_t tag[32];
} gt_erc8004_status;

/* Signs a (EIP-191 personal_sign of keccak(abi.encode(tuple))) with the
 * owner's key; out gets the tuple and the signature. a->signer must be k's
 * address. */
int gt_erc8004_sign_auth(const gt_key *k, const gt_erc8004_auth *a, uint8_t out[GT_ERC8004_AUTH_BYTES], gt_err *err);
/* giveFeedback(agentId, score, tag1, tag2, fileuri, filehash, feedbackAuth) from client. */
int gt_erc8004_give_feedback(gt_chain *c, const gt_addr *reputation, gt_chain_account *client, uint64_t agent_id,
                             unsigned score, const uint8_t tag1[32], const uint8_t tag2[32], const char *fileuri,
                             const uint8_t filehash[32], const uint8_t auth[GT_ERC8004_AUTH_BYTES], uint64_t *gas,
                             gt_err *err);
int gt_erc8004_revoke(gt_chain *c, const gt_addr *reputation, gt_chain_account *client, uint64_t agent_id,
                      uint64_t index, gt_err *err);
/* getSummary of either registry: reputation (tag1, tag2) or validation (tag1
 * as its tag, tag2 ignored); filter NULL or n addresses (clients or
 * validators); *count and *avg (0..100). */
int gt_erc8004_summary(gt_chain *c, const gt_addr *registry, int validation, uint64_t agent_id, const gt_addr *filter,
                       size_t n, const uint8_t tag1[32], const uint8_t tag2[32], uint64_t *count, uint64_t *avg,
                       gt_err *err);
/* validationRequest(validator, agentId, requestUri, requestHash) from the agent's owner. */
int gt_erc8004_request(gt_chain *c, const gt_addr *validation, gt_chain_account *owner, const gt_addr *validator,
                       uint64_t agent_id, const char *uri, const uint8_t hash[32], uint64_t *gas, gt_err *err);
/* validationResponse(requestHash, response, responseUri, responseHash, tag) from the validator. */
int gt_erc8004_respond(gt_chain *c, const gt_addr *validation, gt_chain_account *validator, const uint8_t hash[32],
                       unsigned response, const char *uri, const uint8_t evidence[32], const uint8_t tag[32],
                       uint64_t *gas, gt_err *err);
int gt_erc8004_status_get(gt_chain *c, const gt_addr *validation, const uint8_t hash[32], gt_erc8004_status *out,
                          gt_err *err);
#endif
