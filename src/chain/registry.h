/* registry.h: agents finding each other across nodes: the agent registry
 * (contracts/AgentRegistry.sol, after ERC-8004's identity registry) driven
 * from C, and the agent card each registered URI points at (A2A-style
 * `/.well-known/agent-card.json`, with a "gotong" member naming the agent's
 * wallet, chain, escrow, price and roles).
 *
 * A card is outside input: it is fetched with a size and time bound, every
 * field is checked, and gt_card_check refuses one whose wallet is not the
 * registered owner or whose chain or escrow is not ours, so a card cannot
 * claim another agent's wallet or send a client to another escrow. */
#ifndef GT_CHAIN_REGISTRY_H
#define GT_CHAIN_REGISTRY_H
#include <stddef.h>
#include <stdint.h>
#include "base/buf.h"
#include "base/err.h"
#include "base/json.h"
#include "chain/client.h"

#define GT_REGISTRY_URI_MAX 2048     /* AgentRegistry.MAX_URI_BYTES */
#define GT_CARD_MAX_BYTES (16u << 10) /* a fetched card, at most */
/* Where a node serves its card, under its base URL (what it registers as its agentURI). */
#define GT_CARD_PATH "/.well-known/agent-card.json"
/* An ERC-8004 registration file's "type" (the card is one too: gt_card_to_json). */
#define GT_CARD_REGISTRATION_TYPE "https://eips.ethereum.org/EIPS/eip-8004#registration-v1"
#define GT_CARD_URL_MAX 256
#define GT_CARD_NAME_MAX 128
#define GT_CARD_MAX_SKILLS 16
#define GT_CARD_SKILL_MAX 64
#define GT_CARD_FETCH_MS 5000
#define GT_CARD_ROLE_WORKER 1u
#define GT_CARD_ROLE_EVALUATOR 2u

typedef struct gt_card {
    char name[GT_CARD_NAME_MAX + 1];
    char url[GT_CARD_URL_MAX + 1]; /* the node's base URL (no trailing slash) */
    char skills[GT_CARD_MAX_SKILLS][GT_CARD_SKILL_MAX + 1];
    size_t n_skills;
    gt_addr wallet, escrow, registry;
    uint64_t chain_id, agent_id, price; /* price: base units a job must budget at least */
    unsigned roles;                     /* GT_CARD_ROLE_* */
} gt_card;

/* register(uri) when a has no agent yet, setAgentURI when its URI differs;
 * *id gets a's agent id. */
int gt_registry_publish(gt_chain *c, const gt_addr *registry, gt_chain_account *a, const char *uri, uint64_t *id,
                        gt_err *err);
int gt_registry_agent_of(gt_chain *c, const gt_addr *registry, const gt_addr *who, uint64_t *id, gt_err *err);
int gt_registry_count(gt_chain *c, const gt_addr *registry, uint64_t *n, gt_err *err);
/* Agent id's owner and URI (uri holds GT_REGISTRY_URI_MAX + 1 bytes). */
int gt_registry_get(gt_chain *c, const gt_addr *registry, uint64_t id, gt_addr *owner, char *uri, gt_err *err);

/* The card as JSON (new reference): an A2A agent card that is also the agent's ERC-8004
 * registration file (type, services, registrations, supportedTrust...). */
json_t *gt_card_to_json(const gt_card *card);
/* Parses and checks a card's JSON text (at most GT_CARD_MAX_BYTES). */
int gt_card_parse(const char *text, size_t len, gt_card *out, gt_err *err);
/* GETs url (http or https, GT_CARD_FETCH_MS at most) and parses the card. */
int gt_card_fetch(const char *url, gt_card *out, gt_err *err);
/* GET url (body NULL) or POST body to it, GT_CARD_FETCH_MS at most; *status
 * the HTTP status (any), answer its body (over max_answer is GT_ELIMIT). */
int gt_agent_http(const char *url, const void *body, size_t len, size_t max_answer, long *status, gt_buf *answer,
                  gt_err *err);
/* Refuses a card of another wallet than owner, or another chain or escrow. */
int gt_card_check(const gt_card *card, const gt_addr *owner, uint64_t chain_id, const gt_addr *escrow, gt_err *err);
int gt_card_has_skill(const gt_card *card, const char *skill);
#endif
