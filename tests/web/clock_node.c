/* clock_node.c: `gotong node` for tests/web with a block clock the test sets,
 * so the browser test can move block time past a funding round's window and
 * past a points epoch's end (a day) without waiting. Everything else is the
 * node itself (gt_node_start on HOME, the same routes and rules).
 *
 *   web_clock_node HOME
 *
 * prints "listening on http://127.0.0.1:PORT", then reads commands on stdin,
 * one a line, answering each with one line:
 *   clock T   fixes the ledger's clock at T (Unix seconds) and writes a block
 *             stamped with it: "ok HEIGHT" (block times never go backwards:
 *             a T before the head's time stamps the head's time)
 * and stops at the end of stdin. Only for tests: a real node's clock is its
 * host's. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/api_impl.h"
#include "base/num.h"
#include "ledger/ledger.h"

/* Runs one command line; prints its answer. */
static void command(gt_node *n, const char *line) {
    gt_err err = {0};
    uint64_t t;
    gt_block b;
    if (strncmp(line, "clock ", 6) || gt_parse_u64(line + 6, "clock", 1, UINT32_MAX, &t, &err)) {
        printf("error %s\n", err.msg[0] ? err.msg : "expected: clock T");
    } else {
        gt_ledger_set_time(n->ledger, t);
        if (gt_node_tick(n, &err) || gt_ledger_head(n->ledger, &b, &err))
            printf("error %s\n", err.msg);
        else
            printf("ok %llu\n", (unsigned long long)b.height);
    }
    fflush(stdout);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: web_clock_node HOME\n");
        return 2;
    }
    gt_node_config c;
    gt_node_config_default(&c);
    c.home = argv[1];
    c.listen = "127.0.0.1:0";
    gt_node *n = NULL;
    gt_err err = {0};
    if (gt_node_start(&c, &n, &err)) {
        fprintf(stderr, "web_clock_node: %s\n", err.msg);
        return 1;
    }
    printf("listening on http://127.0.0.1:%u\n", (unsigned)gt_node_port(n));
    fflush(stdout);
    char line[128];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = 0;
        command(n, line);
    }
    gt_node_stop(n);
    return 0;
}
