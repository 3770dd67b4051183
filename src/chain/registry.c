/* registry.c: the agent registry and agent cards (see registry.h). */
#include "chain/registry.h"

#include <assert.h>
#include <curl/curl.h>
#include <string.h>

#include "base/alloc.h"
#include "chain/abi_decode.h"
#include "chain/escrow.h"
#include "crypto/addr.h"

/* One number-or-address view call: word 0 of sig(args) as a u64. */
static int view_u64(gt_chain *c, const gt_addr *to, const char *sig, const gt_abi_val *args, size_t n, uint64_t *out,
                    gt_err *err) {
    int rc = gt_chain_view_u64(c, to, sig, args, n, 0, out, err);
    return rc ? gt_err_wrap(err, "registry") : 0;
}

int gt_registry_agent_of(gt_chain *c, const gt_addr *registry, const gt_addr *who, uint64_t *id, gt_err *err) {
    gt_abi_val a[] = {gt_abi_address(who)};
    return view_u64(c, registry, "agentOf(address)", a, 1, id, err);
}

int gt_registry_count(gt_chain *c, const gt_addr *registry, uint64_t *n, gt_err *err) {
    return view_u64(c, registry, "agentCount()", NULL, 0, n, err);
}

int gt_registry_get(gt_chain *c, const gt_addr *registry, uint64_t id, gt_addr *owner, char *uri, gt_err *err) {
    gt_abi_val a[] = {gt_abi_uint(id)};
    gt_buf d = GT_BUF_INIT, res = GT_BUF_INIT;
    const uint8_t *p = NULL;
    size_t len = 0;
    int rc = gt_abi_calldata("ownerOf(uint256)", a, 1, &d, err);
    if (!rc) rc = gt_chain_call(c, NULL, registry, d.data, d.len, &res, err);
    if (!rc) rc = gt_abi_get_address(res.data, res.len, 0, owner, err);
    d.len = res.len = 0;
    if (!rc) rc = gt_abi_calldata("agentURI(uint256)", a, 1, &d, err);
    if (!rc) rc = gt_chain_call(c, NULL, registry, d.data, d.len, &res, err);
    if (!rc) rc = gt_abi_get_bytes(res.data, res.len, 0, &p, &len, err);
    if (!rc && (len == 0 || len > GT_REGISTRY_URI_MAX || memchr(p, 0, len)))
        rc = gt_err_set(err, GT_EINVAL, "agent %llu's URI: expected 1..%d bytes without NUL", (unsigned long long)id,
                        GT_REGISTRY_URI_MAX);
    if (!rc) memcpy(uri, p, len), uri[len] = 0;
    gt_buf_free(&d);
    gt_buf_free(&res);
    return rc ? gt_err_wrap(err, "registry agent %llu", (unsigned long long)id) : 0;
}

int gt_registry_publish(gt_chain *c, const gt_addr *registry, gt_chain_account *a, const char *uri, uint64_t *id,
                        gt_err *err) {
    size_t n = strlen(uri);
    if (n == 0 || n > GT_REGISTRY_URI_MAX)
        return gt_err_set(err, GT_EINVAL, "agent URI of %zu bytes: expected 1..%d", n, GT_REGISTRY_URI_MAX);
    int rc = gt_registry_agent_of(c, registry, &a->addr, id, err);
    if (rc) return rc;
    gt_chain_receipt r = {0};
    if (*id == 0) {
        gt_abi_val args[] = {gt_abi_string(uri)};
        rc = gt_chain_invoke(c, registry, a, "register(string)", args, 1, &r, NULL, err);
        gt_chain_receipt_free(&r);
        return rc ? rc : gt_registry_agent_of(c, registry, &a->addr, id, err);
    }
    gt_addr owner;
    char *now = gt_malloc(GT_REGISTRY_URI_MAX + 1);
    if (!now) return gt_err_set(err, GT_ENOMEM, "out of memory");
    rc = gt_registry_get(c, registry, *id, &owner, now, err);
    if (!rc && strcmp(now, uri)) {
        gt_abi_val args[] = {gt_abi_uint(*id), gt_abi_string(uri)};
        rc = gt_chain_invoke(c, registry, a, "setAgentURI(uint256,string)", args, 2, &r, NULL, err);
        gt_chain_receipt_free(&r);
    }
    gt_free(now);
    return rc;
}

/* ---- cards ---- */

/* The card is also the agent's ERC-8004 registration file (the registry's
 * agentURI points at it): the fields that file has beside A2A's, added to j.
 * Its service is the A2A card itself; registrations name the agent id in
 * the identity registry as eip155:CHAIN:REGISTRY once it has one; trust is
 * by stake (re-execution, the court) and the reputation registry. Jobs are
 * paid through the escrow, not per request: x402Support false. */
static json_t *card_registration_fields(const gt_card *card, const char *registry, json_t *j) {
    char card_url[GT_CARD_URL_MAX + 32], agent_registry[64];
    snprintf(card_url, sizeof card_url, "%s" GT_CARD_PATH, card->url);
    snprintf(agent_registry, sizeof agent_registry, "eip155:%llu:%s", (unsigned long long)card->chain_id, registry);
    json_t *regs = card->agent_id ? json_pack("[{s:o,s:s}]", "agentId", gt_json_u64(card->agent_id), "agentRegistry",
                                              agent_registry)
                                  : json_array();
    /* | not ||: each call takes its value, so none is left unowned when one fails */
    int rc = json_object_set_new(j, "type", json_string(GT_CARD_REGISTRATION_TYPE)) |
             json_object_set_new(j, "image", json_string("")) |
             json_object_set_new(j, "services", json_pack("[{s:s,s:s,s:s}]", "name", "A2A", "endpoint", card_url,
                                                          "version", "0.3.0")) |
             json_object_set_new(j, "x402Support", json_false()) | json_object_set_new(j, "active", json_true()) |
             json_object_set_new(j, "registrations", regs) |
             json_object_set_new(j, "supportedTrust", json_pack("[s,s]", "crypto-economic", "reputation"));
    if (rc) json_decref(j);
    return rc ? NULL : j;
}

json_t *gt_card_to_json(const gt_card *card) {
    char wallet[GT_ADDR_STR_BYTES], escrow[GT_ADDR_STR_BYTES], registry[GT_ADDR_STR_BYTES];
    gt_addr_to_str(&card->wallet, wallet);
    gt_addr_to_str(&card->escrow, escrow);
    gt_addr_to_str(&card->registry, registry);
    json_t *skills = json_array(), *roles = json_array();
    for (size_t i = 0; i < card->n_skills; i++)
        json_array_append_new(skills, json_pack("{s:s,s:s,s:[s]}", "id", card->skills[i], "name", card->skills[i],
                                                "tags", "gotong"));
    if (card->roles & GT_CARD_ROLE_WORKER) json_array_append_new(roles, json_string("worker"));
    if (card->roles & GT_CARD_ROLE_EVALUATOR) json_array_append_new(roles, json_string("evaluator"));
    /* past INT64_MAX a number is a decimal string (gt_json_u64), as gt_card_parse reads it */
    json_t *g = json_pack("{s:s,s:o,s:s,s:s,s:o,s:o,s:o}", "wallet", wallet, "chainId", gt_json_u64(card->chain_id),
                          "escrow", escrow, "registry", registry, "agentId", gt_json_u64(card->agent_id), "price",
                          gt_json_u64(card->price), "roles", roles);
    json_t *j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:{},s:[s],s:[s],s:o,s:o}", "protocolVersion", "0.3.0", "name",
                          card->name, "description",
                          "a gotong agent: hired through the job escrow, paid when its work is verified", "url",
                          card->url, "version", "1", "capabilities", "defaultInputModes", "text/plain",
                          "defaultOutputModes", "application/json", "skills", skills, "gotong", g);
    return j ? card_registration_fields(card, registry, j) : NULL;
}

/* A string field of at most max bytes copied into out (max + 1 bytes). */
static int copy_str(const json_t *o, const char *field, size_t max, char *out, gt_err *err) {
    const char *s = NULL;
    int rc = gt_json_get_str(o, field, max, &s, err);
    if (!rc) snprintf(out, max + 1, "%s", s);
    return rc;
}

static int parse_addr(const json_t *o, const char *field, gt_addr *out, gt_err *err) {
    const char *s = NULL;
    int rc = gt_json_get_str(o, field, GT_ADDR_STR_BYTES - 1, &s, err);
    return rc ? rc : gt_addr_parse(s, out, err);
}

/* The card's skills and roles. */
static int parse_lists(const json_t *j, const json_t *g, gt_card *out, gt_err *err) {
    const json_t *skills = json_object_get(j, "skills"), *roles = json_object_get(g, "roles"), *v;
    size_t i;
    if (!json_is_array(skills) || json_array_size(skills) > GT_CARD_MAX_SKILLS)
        return gt_err_set(err, GT_EINVAL, "card.skills: expected an array of at most %d", GT_CARD_MAX_SKILLS);
    json_array_foreach(skills, i, v) {
        int rc = copy_str(v, "id", GT_CARD_SKILL_MAX, out->skills[i], err);
        if (rc) return gt_err_wrap(err, "card.skills[%zu]", i);
    }
    out->n_skills = json_array_size(skills);
    if (!json_is_array(roles) || json_array_size(roles) > 2)
        return gt_err_set(err, GT_EINVAL, "card.gotong.roles: expected an array of \"worker\" and/or \"evaluator\"");
    json_array_foreach(roles, i, v) {
        const char *r = json_string_value(v);
        if (r && !strcmp(r, "worker")) out->roles |= GT_CARD_ROLE_WORKER;
        else if (r && !strcmp(r, "evaluator")) out->roles |= GT_CARD_ROLE_EVALUATOR;
        else return gt_err_set(err, GT_EINVAL, "card.gotong.roles[%zu]: expected \"worker\" or \"evaluator\"", i);
    }
    return 0;
}

/* The card's base URL in place: http(s), a host, no trailing slash (every
 * one cut: a path is appended to it, and its card must write back as it was
 * read). */
static int card_url(char *url, gt_err *err) {
    size_t scheme = !strncmp(url, "http://", 7) ? 7 : !strncmp(url, "https://", 8) ? 8 : 0, ul = strlen(url);
    while (ul > scheme && url[ul - 1] == '/') url[--ul] = 0;
    if (!scheme || ul == scheme || url[scheme] == '/')
        return gt_err_set(err, GT_EINVAL, "card.url: expected an http:// or https:// URL with a host");
    return 0;
}

int gt_card_parse(const char *text, size_t len, gt_card *out, gt_err *err) {
    memset(out, 0, sizeof *out);
    json_t *j = NULL;
    int rc = gt_json_parse(text, len, GT_CARD_MAX_BYTES, &j, err);
    const json_t *g = rc ? NULL : json_object_get(j, "gotong");
    if (!rc && !json_is_object(g)) rc = gt_err_set(err, GT_EINVAL, "card.gotong: missing (not a gotong agent)");
    if (!rc) rc = copy_str(j, "name", GT_CARD_NAME_MAX, out->name, err);
    if (!rc) rc = copy_str(j, "url", GT_CARD_URL_MAX, out->url, err);
    if (!rc) rc = card_url(out->url, err);
    if (!rc) rc = parse_addr(g, "wallet", &out->wallet, err);
    if (!rc) rc = parse_addr(g, "escrow", &out->escrow, err);
    if (!rc) rc = parse_addr(g, "registry", &out->registry, err);
    if (!rc) rc = gt_json_get_u64(g, "chainId", &out->chain_id, err);
    if (!rc) rc = gt_json_get_u64(g, "agentId", &out->agent_id, err);
    if (!rc) rc = gt_json_get_u64(g, "price", &out->price, err);
    if (!rc) rc = parse_lists(j, g, out, err);
    json_decref(j);
    return rc ? gt_err_wrap(err, "agent card") : 0;
}

int gt_card_check(const gt_card *card, const gt_addr *owner, uint64_t chain_id, const gt_addr *escrow, gt_err *err) {
    if (!gt_addr_eq(&card->wallet, owner))
        return gt_err_set(err, GT_EPERM, "agent card %s: its wallet is not the agent's registered owner", card->url);
    if (card->chain_id != chain_id || !gt_addr_eq(&card->escrow, escrow))
        return gt_err_set(err, GT_EPERM, "agent card %s: another chain (%llu) or escrow than ours", card->url,
                          (unsigned long long)card->chain_id);
    return 0;
}

int gt_card_has_skill(const gt_card *card, const char *skill) {
    for (size_t i = 0; i < card->n_skills; i++)
        if (!strcmp(card->skills[i], skill)) return 1;
    return 0;
}

typedef struct fetched {
    gt_buf *body;
    size_t max;
    int over;
} fetched;

static size_t on_answer(char *p, size_t size, size_t n, void *arg) {
    fetched *f = arg;
    size_t len = size * n;
    if (f->body->len + len > f->max) return f->over = 1, 0;
    return gt_buf_append(f->body, p, len) ? 0 : len;
}

int gt_agent_http(const char *url, const void *body, size_t len, size_t max_answer, long *status, gt_buf *answer,
                  gt_err *err) {
    CURL *h = curl_easy_init();
    if (!h) return gt_err_set(err, GT_EIO, "libcurl: no handle");
    fetched f = {answer, max_answer, 0};
    struct curl_slist *hdr = body ? curl_slist_append(NULL, "Content-Type: application/octet-stream") : NULL;
    *status = 0;
    answer->len = 0;
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &f);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)GT_CARD_FETCH_MS);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    if (body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)len);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
    }
    CURLcode cc = body && !hdr ? CURLE_OUT_OF_MEMORY : curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(h);
    if (f.over) return gt_err_set(err, GT_ELIMIT, "%s: answer over %zu bytes", url, max_answer);
    if (cc != CURLE_OK) return gt_err_set(err, GT_EIO, "%s: %s", url, curl_easy_strerror(cc));
    return 0;
}

int gt_card_fetch(const char *url, gt_card *out, gt_err *err) {
    gt_buf body = GT_BUF_INIT;
    long status = 0;
    int rc = gt_agent_http(url, NULL, 0, GT_CARD_MAX_BYTES, &status, &body, err);
    if (!rc && status != 200) rc = gt_err_set(err, GT_EIO, "%s answered %ld", url, status);
    if (!rc) rc = gt_card_parse((const char *)body.data, body.len, out, err);
    gt_buf_free(&body);
    return rc;
}
