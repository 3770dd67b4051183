/* cli_eval.c: `gotong eval`: run a benchmark on a local model.
 *
 *   gotong eval run -m MODEL.gguf --bench NAME|FILE [--threads K] [--limit N]
 *                   [--draw-seed 0xSEED | --draw-block H [--node URL]] [-o results.jsonl] [--json]
 *   gotong eval benches
 *   gotong eval leaderboard [--home DIR] [--bench NAME] [--all] [--json]
 *
 * The per-item results file has the same bytes on every run and thread
 * count (work/eval/eval.h), so anyone can re-run any item and compare; the
 * summary gives the score with its standard error, the model and benchmark
 * hashes and the results' Merkle root: what an attestation carries.
 * The leaderboard reads the attestations on the ledger (HOME/ledger.db,
 * read-only): models ranked by attested score, with who attested, the
 * market's standing of each attestation and how many validators'
 * re-executions agreed or disagreed (work/work.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "base/hex.h"
#include "base/json.h"
#include "base/pool.h"
#include "base/progress.h"
#include "agent/client.h"
#include "cli/cli.h"
#include "work/eval/eval.h"
#include "work/work.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: gotong eval run -m MODEL.gguf --bench NAME|FILE [options]\n"
            "       gotong eval benches\n"
            "       gotong eval leaderboard [--home DIR] [--bench NAME] [--all] [--json]\n\n"
            "Scores a model on a benchmark: multiple choice by log-likelihood (acc, acc_norm),\n"
            "generate-until by exact match, family-check by the task family's checker on the\n"
            "worked solution. Built-in benchmarks: arith-v1 units-v1 sort-v1 logic-v1 strings-v1,\n"
            "and in the worker model's format (\"Q: ...\\nA: \") worker-arith-v1 worker-logic-v1\n"
            "worker-sort-v1 (200 items each, generated from the verifiable task families), and\n"
            "held out: held-arith-v1 held-logic-v1 held-sort-v1, whose 200 items are drawn from the\n"
            "draw seed of the ledger block 2 after the one that posted their eval task (give it\n"
            "with --draw-seed: the \"seed\" of GET /v1/blocks/H, H the task's postedHeight + 2; or\n"
            "give --draw-block H and the node is asked for it).\n\n"
            "options:\n"
            "  -m, --model FILE      the model (GGUF)\n"
            "  --bench NAME|FILE     a built-in name or a benchmark JSONL file\n"
            "  -t, --threads K       threads (default: number of CPUs; results do not depend on it)\n"
            "  --limit N             only the first N items\n"
            "  --draw-seed 0xSEED    a drawn (held-out) benchmark's block seed (32 bytes, hex)\n"
            "  --draw-block H        the same, read from block H on the node (--node URL, default\n"
            "                        $GOTONG_NODE or http://127.0.0.1:8645)\n"
            "  -o, --output FILE     write the per-item results (JSONL) to FILE\n"
            "  --ctx N               context positions (default 2048)\n"
            "  --json                print the summary as JSON\n\n"
            "leaderboard: models ranked by attested score (attestations on HOME/ledger.db), with\n"
            "the items each judge re-executes under the task's spec (check), the attester, the\n"
            "market's standing, the drawn judges whose votes back it and the items they\n"
            "re-executed, and the validators' co-signs agreed/disagreed;\n"
            "--all also lists rejected attestations and every attestation of a model.\n");
}

/* The integer at key of o, or 0 (the board's counts are always there). */
static long long int_at(const json_t *o, const char *key) {
    return (long long)json_integer_value(json_object_get(o, key));
}

/* One leaderboard entry as a row of the table cmd_eval_leaderboard heads. */
static void print_entry(const json_t *e) {
    json_t *cs = json_object_get(e, "cosigns");
    const char *model = json_string_value(json_object_get(e, "model"));
    const char *att = json_string_value(json_object_get(e, "attester"));
    /* An entry no bonded judge accepted is listed, never ranked: "-". */
    json_t *rank = json_object_get(e, "rank");
    char rank_s[24] = "-";
    if (json_is_integer(rank)) snprintf(rank_s, sizeof rank_s, "%lld", (long long)json_integer_value(rank));
    /* Items each judge re-executes under the spec ("?": not known on this ledger). */
    json_t *check = json_object_get(e, "check");
    char check_s[24] = "?", judges_s[48];
    if (json_is_integer(check)) snprintf(check_s, sizeof check_s, "%lld", (long long)json_integer_value(check));
    snprintf(judges_s, sizeof judges_s, "%lld (%lld)", int_at(cs, "backed"), int_at(cs, "backedItemsChecked"));
    printf("%-4s %-12.12s %-10s %6lld %5s  %.18s %.13s %-11s %-14s %lld/%lld (%lld)\n", rank_s,
           json_string_value(json_object_get(e, "bench")), json_string_value(json_object_get(e, "score")),
           int_at(e, "items"), check_s, model ? model : "?", att ? att : "?",
           json_string_value(json_object_get(e, "status")), judges_s, int_at(cs, "agreed"), int_at(cs, "disagreed"),
           int_at(cs, "itemsChecked"));
    /* Why an entry is listed and not ranked, on a line of its own (the row is
     * already wide): the same words as the JSON's "unranked". */
    const char *why = json_string_value(json_object_get(e, "unranked"));
    if (why) printf("     not ranked: %s\n", why);
}

/* `gotong eval leaderboard`: prints gt_work_leaderboard over HOME/ledger.db. */
static int cmd_eval_leaderboard(int argc, char **argv) {
    const char *home_opt = NULL, *bench = NULL;
    int json = 0, all = 0;
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &home_opt, 0, 0, NULL},
        {"--bench", NULL, GT_CLI_OPT_STR, &bench, 0, 0, NULL},
        {"--all", NULL, GT_CLI_OPT_FLAG, &all, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &json, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("eval", argc, argv, 2, opts, NULL, 0, NULL, usage);
    if (rc >= 0) return rc;
    if (bench && (!*bench || strlen(bench) > GT_WORK_BENCH_NAME_MAX))
        return gt_cli_usage_error("eval", "--bench: expected a name of 1 to %d bytes", GT_WORK_BENCH_NAME_MAX);
    gt_err err = {0};
    char home[4096], path[4200];
    if (gt_cli_home(home_opt, home, sizeof home, &err)) return gt_cli_fail(&err);
    snprintf(path, sizeof path, "%s/ledger.db", home);
    if (!gt_file_exists(path)) {
        gt_err_set(&err, GT_ENOTFOUND, "no ledger at %s (make one with gotong ledger init, or give --home)", path);
        return gt_cli_fail(&err);
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        gt_err_set(&err, GT_EDB, "%s: %s", path, db ? sqlite3_errmsg(db) : "cannot open");
        sqlite3_close(db);
        return gt_cli_fail(&err);
    }
    sqlite3_busy_timeout(db, 5000);
    json_t *lb = gt_work_leaderboard(db, bench, all, &err);
    sqlite3_close(db);
    if (!lb) return gt_cli_fail(&err);
    json_t *ents = json_object_get(lb, "entries");
    if (json) {
        rc = gt_cli_json_out(json_incref(lb));
        json_decref(lb);
        return rc;
    } else if (json_array_size(ents) == 0) {
        printf("no attestations%s%s on this ledger\n", bench ? " for " : "", bench ? bench : "");
    } else {
        printf("%-4s %-12s %-10s %6s %5s  %-18s %-13s %-11s %-14s %s\n", "rank", "bench", "score", "items", "check",
               "model", "attester", "status", "judges (items)", "co-signs agreed/disagreed (items re-executed)");
        size_t i;
        json_t *e;
        json_array_foreach(ents, i, e) print_entry(e);
    }
    json_decref(lb);
    return 0;
}

static void on_progress(void *arg, size_t done, size_t total) {
    (void)total;
    gt_progress_update(arg, done);
}

/* Opens bench (a built-in name or a file); a drawn one drawn from the
 * block seed draw_seed (hex), which only a drawn one takes. */
static int open_bench(const char *bench, const char *draw_seed, gt_bench **b, gt_err *err) {
    uint8_t seed[32];
    gt_bench *d = NULL;
    int rc = gt_bench_open(bench, b, err);
    if (rc || (!(*b)->drawn && !draw_seed)) return rc;
    if (!(*b)->drawn) rc = gt_err_set(err, GT_EINVAL, "--draw-seed: %s is not a drawn benchmark", (*b)->name);
    else if (!draw_seed)
        rc = gt_err_set(err, GT_EINVAL, "%s is a drawn (held-out) benchmark: give --draw-seed, the seed of the block "
                        "its eval task names (postedHeight + %llu), or --draw-block with that height", (*b)->name,
                        (unsigned long long)(*b)->draw_delay);
    else if (!(rc = gt_hex_decode(draw_seed, seed, 32, "--draw-seed", err)))
        rc = gt_bench_draw(*b, seed, &d, err);
    gt_bench_free(*b);
    *b = d;
    return rc;
}

/* The draw seed of block h as the node shows it (GET /v1/blocks/h) into
 * hex (0x + 64 digits): what the agents draw a held-out task's items from. */
static int node_block_seed(const char *node, uint64_t h, char hex[67], gt_err *err) {
    uint8_t seed[32];
    gt_client *c = NULL;
    int rc = gt_client_new(gt_cli_node(node), &c, err);
    if (!rc && (rc = gt_client_block_seed(c, h, seed, err)))
        gt_err_wrap(err, "--draw-block %llu (node %s)", (unsigned long long)h, gt_client_url(c));
    gt_client_free(c);
    if (rc) return rc;
    hex[0] = '0', hex[1] = 'x';
    gt_hex_encode(seed, 32, hex + 2);
    return 0;
}

static int cmd_eval_run(int argc, char **argv) {
    const char *model = NULL, *bench = NULL, *out = NULL, *draw_seed = NULL, *node = NULL;
    uint64_t threads = (uint64_t)gt_cpu_count(), limit = 0, n_ctx = 0, draw_block = 0;
    char block_seed[67];
    const char *home = NULL; /* no home is used here; accepted as everywhere */
    int rc, json = 0;
    const gt_cli_opt opts[] = {
        {"--model", "-m", GT_CLI_OPT_STR, &model, 0, 0, NULL},
        {"--bench", NULL, GT_CLI_OPT_STR, &bench, 0, 0, NULL},
        {"--output", "-o", GT_CLI_OPT_STR, &out, 0, 0, NULL},
        {"--threads", "-t", GT_CLI_OPT_U64, &threads, 1, GT_POOL_MAX_THREADS, NULL},
        {"--limit", NULL, GT_CLI_OPT_U64, &limit, 1, GT_BENCH_MAX_ITEMS, NULL},
        {"--draw-seed", NULL, GT_CLI_OPT_STR, &draw_seed, 0, 0, NULL},
        {"--draw-block", NULL, GT_CLI_OPT_U64, &draw_block, 1, INT64_MAX, NULL},
        {"--node", NULL, GT_CLI_OPT_STR, &node, 0, 0, NULL},
        {"--ctx", NULL, GT_CLI_OPT_U64, &n_ctx, 16, 1 << 20, NULL},
        {"--home", NULL, GT_CLI_OPT_STR, &home, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &json, 0, 0, NULL},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    if ((rc = gt_cli_parse("eval", argc, argv, 2, opts, NULL, 0, NULL, usage)) >= 0) return rc;
    if (!model) return gt_cli_usage_error("eval", "no model: give -m MODEL.gguf");
    if (!bench) return gt_cli_usage_error("eval", "no benchmark: give --bench NAME|FILE");
    if (draw_seed && draw_block) return gt_cli_usage_error("eval", "give --draw-seed or --draw-block, not both");
    gt_err err = {0};
    gt_bench *b = NULL;
    gt_llm *l = NULL;
    gt_buf res = GT_BUF_INIT;
    gt_eval_summary sum;
    int code = 1;
    if (draw_block && node_block_seed(node, draw_block, block_seed, &err)) goto fail;
    if (draw_block) draw_seed = block_seed;
    if (open_bench(bench, draw_seed, &b, &err) || gt_llm_open(model, (int)threads, (int)n_ctx, &l, &err)) goto fail;
    gt_progress pr;
    size_t total = limit && (size_t)limit < b->n_items ? (size_t)limit : b->n_items;
    gt_progress_start(&pr, b->name, total);
    rc = gt_eval_run(b, l, (size_t)limit, on_progress, &pr, &res, &sum, &err);
    gt_progress_finish(&pr);
    if (rc) goto fail;
    if (out && gt_file_write_atomic(out, res.data, res.len, 0644, &err)) goto fail;
    json_t *s = gt_eval_summary_json(b, &sum);
    if (json) {
        if (gt_cli_json_out(json_incref(s))) {
            json_decref(s);
            goto done; /* code stays 1: said on stderr */
        }
    } else {
        printf("%s: %s = %.4f ± %.4f over %zu items", b->name, sum.metric, sum.score, sum.stderr_, sum.n);
        if (b->type == GT_BENCH_MC) printf(" (acc_norm %.4f ± %.4f)", sum.acc_norm, sum.acc_norm_stderr);
        printf("\nmodel:        %s\nbench:        %s\nresults root: %s\ntime:         %.1f s\n",
               json_string_value(json_object_get(s, "model")), json_string_value(json_object_get(s, "bench_hash")),
               json_string_value(json_object_get(s, "results_root")), sum.seconds);
        if (out) printf("results:      %s\n", out);
    }
    json_decref(s);
    code = 0;
    goto done;
fail:
    code = gt_cli_fail(&err);
done:
    gt_buf_free(&res);
    gt_llm_free(l);
    gt_bench_free(b);
    return code;
}

/* `gotong eval benches [--json]`: the built-in benchmarks, their kind, size
 * and hash (what an attestation names). */
static int cmd_eval_benches(int argc, char **argv) {
    int json = 0;
    const gt_cli_opt opts[] = {{"--json", NULL, GT_CLI_OPT_FLAG, &json, 0, 0, NULL}, {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("eval", argc, argv, 2, opts, NULL, 0, NULL, usage);
    if (rc >= 0) return rc;
    json_t *arr = json ? json_array() : NULL;
    for (int i = 0; gt_bench_builtins[i]; i++) {
        gt_err err = {0};
        gt_bench *b = NULL;
        if (gt_bench_open(gt_bench_builtins[i], &b, &err)) return json_decref(arr), gt_cli_fail(&err);
        char h[72];
        gt_llm_id_str(b->hash, h);
        const char *type = gt_bench_type_name(b->type);
        if (arr)
            json_array_append_new(arr, json_pack("{s:s,s:s,s:I,s:s,s:b}", "name", b->name, "type", type, "items",
                                                 (json_int_t)gt_bench_items(b), "hash", h, "drawn", b->drawn));
        else
            printf("%-15s %-16s %4zu items  %s%s\n", b->name, type, gt_bench_items(b), h,
                   b->drawn ? "  (held out: drawn from a block's seed)" : "");
        gt_bench_free(b);
    }
    return arr ? gt_cli_json_out(arr) : 0;
}

static int cmd_eval(int argc, char **argv) {
    static const char *const subs[] = {"run", "benches", "leaderboard", NULL};
    static int (*const fns[])(int, char **) = {cmd_eval_run, cmd_eval_benches, cmd_eval_leaderboard};
    int which, rc = gt_cli_subcommand("eval", argc, argv, subs, usage, &which);
    return rc >= 0 ? rc : fns[which](argc, argv);
}

GT_CLI_COMMAND(cmd_eval_def, "eval", "score a model on a benchmark; the leaderboard of attested scores", cmd_eval)
