/* test_card.c: agent cards (chain/registry.h) without a chain: the card a
 * node serves parses back to the same card, and a card's URL is read as a
 * base URL (http or https, a host, no trailing slash). Cases found by
 * fuzz_agent_card. */
#include <stdlib.h>

#include "../test.h"
#include "chain/registry.h"

/* A card as a node makes it. */
static gt_card sample_card(void) {
    gt_card c;
    memset(&c, 0, sizeof c);
    snprintf(c.name, sizeof c.name, "worker");
    snprintf(c.url, sizeof c.url, "http://127.0.0.1:8645");
    snprintf(c.skills[0], sizeof c.skills[0], "complete");
    c.n_skills = 1;
    memset(c.wallet.b, 0x11, 20), memset(c.escrow.b, 0x22, 20), memset(c.registry.b, 0x33, 20);
    c.chain_id = 31337, c.agent_id = 3, c.price = 1000, c.roles = GT_CARD_ROLE_WORKER;
    return c;
}

/* The card's JSON text, parsed; 0 or the parser's error code. */
static int reparse(const gt_card *c, gt_card *back, gt_err *err) {
    json_t *j = gt_card_to_json(c);
    char *t = j ? gt_json_dump(j) : NULL;
    int rc = t ? gt_card_parse(t, strlen(t), back, err) : GT_ENOMEM;
    free(t);
    json_decref(j);
    return rc;
}

/* Numbers past INT64_MAX (a price in base units) write back as the parser
 * reads them: they were written as negative integers, and refused. */
static void test_card_u64(void) {
    gt_card c = sample_card(), back;
    gt_err err = {0};
    c.price = UINT64_MAX, c.chain_id = (uint64_t)INT64_MAX + 1, c.agent_id = UINT64_MAX - 1;
    CHECK_MSG(reparse(&c, &back, &err) == 0, "%s", err.msg);
    CHECK(!memcmp(&c, &back, sizeof c));
    c = sample_card();
    CHECK_MSG(reparse(&c, &back, &err) == 0, "%s", err.msg);
    CHECK(!memcmp(&c, &back, sizeof c));
}

/* The card's url with `url` in place of the sample's; the parse's code, back filled. */
static int parse_url(const char *url, gt_card *back, gt_err *err) {
    gt_card c = sample_card();
    json_t *j = gt_card_to_json(&c);
    json_object_set_new(j, "url", json_string(url));
    char *t = gt_json_dump(j);
    int rc = gt_card_parse(t, strlen(t), back, err);
    free(t);
    json_decref(j);
    return rc;
}

/* Every trailing slash is cut (one was: "http://h//" read as "http://h/",
 * which wrote back as another card), and a URL without a host is refused
 * ("http:///" was read as "http://"). */
static void test_card_url(void) {
    gt_card back;
    gt_err err = {0};
    CHECK_MSG(parse_url("http://h.example//", &back, &err) == 0, "%s", err.msg);
    CHECK_STR(back.url, "http://h.example");
    CHECK_MSG(parse_url("https://h.example/api/", &back, &err) == 0, "%s", err.msg);
    CHECK_STR(back.url, "https://h.example/api");
    const char *bad[] = {"http:///", "https://", "http:///h.example", "ftp://h.example", "h.example"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_MSG(parse_url(bad[i], &back, &err) == GT_EINVAL, "%s was taken", bad[i]);
        CHECK_CONTAINS(err.msg, "card.url");
    }
}

int main(void) {
    RUN(test_card_u64);
    RUN(test_card_url);
    return gt_test_finish();
}
