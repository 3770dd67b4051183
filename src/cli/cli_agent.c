/* cli_agent.c: `gotong agent`: runs one agent (src/agent) against a node
 * until SIGINT/SIGTERM: its wallet from the --home keystore, its model from
 * a GGUF file, its skills, price and roles from the command line. Progress
 * lines go to stderr, one per thing the agent does. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/limits.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"
#include "market/market.h"
#include "work/work.h"

static volatile int stop_requested;

static void on_signal(int sig) { stop_requested = 1; }

static void usage(FILE *f) {
    fprintf(f,
            "usage: gotong agent --model M.gguf [--skills S] [--price AMT] [--roles R] [options]\n\n"
            "Runs an agent against a node: registers (or updates) its card, then as a worker\n"
            "claims open tasks of its skills whose bounty is at least its price, does the work\n"
            "with its model, uploads and submits the result, settles what was accepted, and\n"
            "disputes a rejection its own re-run reproduces; as a poster verifies results of\n"
            "its tasks by re-running them; as an evaluator verifies tasks naming it; as a\n"
            "validator re-runs disputed work and votes. Stops on SIGINT/SIGTERM.\n\n"
            "options:\n"
            "  --home DIR            keystore location (default ~/.gotong or $GOTONG_HOME)\n"
            "  --from ADDR           which key (when the keystore holds several)\n"
            "  --password-file FILE  the key's password (else asked on the terminal)\n"
            "  --node URL            the node (default %s)\n"
            "  --model FILE          the GGUF model it runs (its sha256 goes on the card)\n"
            "  --name NAME           card name (default agent-<address prefix>)\n"
            "  --skills LIST         task kinds it takes (default complete; known: %s)\n"
            "  --price AMT           least bounty it works for, in tokens (default 1)\n"
            "  --roles LIST          worker,poster,evaluator,validator (default worker)\n"
            "  --max-prompts N       complete: do N prompts, subcontract the rest (default: all)\n"
            "  --threads N           inference threads (default 1)\n"
            "  --poll-ms MS          pause between idle passes (default %d)\n"
            "  --once                one pass over the market, then exit\n"
            "  --json                at exit, print the agent's counters as one JSON object\n"
            "  --max-tasks N         exit after submitting N results\n"
            "  --misbehave KIND      garbage | reject-all | forge-score (eval: attest a perfect\n"
            "                        score): act badly on purpose, to watch the market slash it\n"
            "                        (tests and demos only)\n"
            "A poster exports the datasets of its finished data jobs (skill generate) to\n"
            "HOME/datasets/ and publishes their Merkle roots on the ledger.\n",
            GT_CLIENT_DEFAULT_URL, gt_skill_names(), GT_AGENT_DEFAULT_POLL_MS);
}

static int parse_roles(const char *s, int *out) {
    int r = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", s);
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (!strcmp(t, "worker")) r |= GT_ROLE_WORKER;
        else if (!strcmp(t, "poster")) r |= GT_ROLE_POSTER;
        else if (!strcmp(t, "evaluator")) r |= GT_ROLE_EVALUATOR;
        else if (!strcmp(t, "validator")) r |= GT_ROLE_VALIDATOR;
        else return gt_cli_usage_error("agent", "--roles: unknown role \"%s\" (worker, poster, evaluator, validator)", t);
    }
    if (!r) return gt_cli_usage_error("agent", "--roles: give at least one role");
    *out = r;
    return 0;
}

static int parse_u64(const char *name, const char *v, uint64_t lo, uint64_t hi, uint64_t *out) {
    char *end;
    unsigned long long x = strtoull(v, &end, 10);
    if (!*v || *end || v[0] == '-' || x < lo || x > hi)
        return gt_cli_usage_error("agent", "%s: expected an integer %llu..%llu, got \"%s\"", name,
                                  (unsigned long long)lo, (unsigned long long)hi, v);
    *out = x;
    return 0;
}

static void log_line(void *arg, const char *name, const char *line) {
    fprintf(stderr, "%s: %s\n", name, line);
    fflush(stderr);
}

static int cmd_agent(int argc, char **argv) {
    const char *home_opt = NULL, *from = NULL, *pwfile = NULL, *node = NULL, *model_path = NULL, *name = NULL;
    const char *skills = "complete";
    gt_agent_config cfg = {.price_units = GT_AMOUNT_UNIT, .roles = GT_ROLE_WORKER, .n_threads = 1};
    int once = 0, json = 0, rc;
    uint64_t v;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--once")) { once = 1; continue; }
        if (!strcmp(a, "--json")) { json = 1; continue; }
        if (!val) return gt_cli_usage_error("agent", "%s needs a value", a);
        i++;
        gt_err err = {0};
        if (!strcmp(a, "--home")) home_opt = val;
        else if (!strcmp(a, "--from")) from = val;
        else if (!strcmp(a, "--password-file")) pwfile = val;
        else if (!strcmp(a, "--node")) node = val;
        else if (!strcmp(a, "--model")) model_path = val;
        else if (!strcmp(a, "--name")) name = val;
        else if (!strcmp(a, "--skills")) skills = val;
        else if (!strcmp(a, "--price")) {
            if (gt_cli_amount("--price", val, &cfg.price_units, &err)) return gt_cli_usage_error("agent", "%s", err.msg);
        } else if (!strcmp(a, "--roles")) {
            if ((rc = parse_roles(val, &cfg.roles))) return rc;
        } else if (!strcmp(a, "--max-prompts")) {
            if ((rc = parse_u64(a, val, 0, GT_AGENT_MAX_PROMPTS, &v))) return rc;
            cfg.max_prompts = (int)v;
        } else if (!strcmp(a, "--threads")) {
            if ((rc = parse_u64(a, val, 1, 256, &v))) return rc;
            cfg.n_threads = (int)v;
        } else if (!strcmp(a, "--poll-ms")) {
            if ((rc = parse_u64(a, val, 10, 3600000, &cfg.poll_ms))) return rc;
        } else if (!strcmp(a, "--max-tasks")) {
            if ((rc = parse_u64(a, val, 1, 1000000000, &cfg.max_tasks))) return rc;
        } else if (!strcmp(a, "--misbehave")) {
            if (!strcmp(val, "garbage")) cfg.faults |= GT_FAULT_GARBAGE;
            else if (!strcmp(val, "reject-all")) cfg.faults |= GT_FAULT_REJECT_ALL;
            else if (!strcmp(val, "forge-score")) cfg.faults |= GT_FAULT_FORGE_SCORE;
            else return gt_cli_usage_error("agent", "--misbehave: expected garbage, reject-all or forge-score, got \"%s\"",
                                           val);
        } else {
            return gt_cli_unknown_option("agent", a, usage);
        }
    }
    if (!model_path && (cfg.roles & (GT_ROLE_WORKER | GT_ROLE_POSTER | GT_ROLE_EVALUATOR | GT_ROLE_VALIDATOR)))
        return gt_cli_usage_error("agent", "--model M.gguf is required: every role runs the model (work or re-runs)");
    cfg.skills = skills;

    gt_err err = {0};
    char home[4096], pw[GT_LIMIT_PASSWORD_BYTES], as[43], prompt[96], card_name[GT_MARKET_NAME_MAX + 1];
    gt_addr addr;
    gt_key key;
    if (gt_work_register(&err) || gt_cli_home(home_opt, home, sizeof home, &err)) return gt_cli_fail(&err);
    char datasets[4096 + 16];
    snprintf(datasets, sizeof datasets, "%s/datasets", home);
    if (cfg.roles & GT_ROLE_POSTER) cfg.datasets_dir = datasets;
    if (from) {
        if (gt_addr_parse(from, &addr, &err)) return gt_cli_fail(&err);
    } else {
        gt_addr *addrs = NULL;
        size_t n = 0;
        if (gt_keystore_list(home, &addrs, &n, &err)) return gt_cli_fail(&err);
        if (n != 1) {
            gt_free(addrs);
            gt_err_set(&err, GT_EINVAL, "%s/keystore %s; pass --from ADDRESS", home,
                       n ? "holds several keys" : "holds no key (gotong wallet new)");
            return gt_cli_fail(&err);
        }
        addr = addrs[0];
        gt_free(addrs);
    }
    gt_addr_to_str(&addr, as);
    snprintf(prompt, sizeof prompt, "Password for %s: ", as);
    rc = gt_cli_password(pwfile, prompt, 0, pw, sizeof pw, &err);
    if (!rc) rc = gt_keystore_load(home, &addr, pw, &key, &err);
    memset(pw, 0, sizeof pw);
    if (rc) return gt_cli_fail(&err);
    snprintf(card_name, sizeof card_name, "%s", name ? name : "");
    if (!name) snprintf(card_name, sizeof card_name, "agent-%.8s", as + 2);
    cfg.name = card_name;
    cfg.log = log_line;

    gt_agent_model *model = NULL;
    gt_agent *agent = NULL;
    if (model_path) {
        double t0 = gt_now_s();
        if (gt_agent_model_load(model_path, &model, &err)) {
            gt_key_wipe(&key);
            return gt_cli_fail(&err);
        }
        fprintf(stderr, "%s: model %s (%s) loaded in %.1f s\n", card_name, model_path, gt_agent_model_id(model),
                gt_now_s() - t0);
    }
    cfg.model = model;
    rc = gt_agent_new(&cfg, &key, node, &agent, &err);
    gt_key_wipe(&key);
    if (rc) {
        gt_agent_model_free(model);
        return gt_cli_fail(&err);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "%s: %s on %s\n", card_name, as, gt_client_url(gt_agent_client(agent)));
    int acted = 0;
    if (once) {
        rc = gt_agent_register(agent, &err);
        if (!rc) rc = gt_agent_step(agent, &acted, &err);
    } else {
        rc = gt_agent_run(agent, &stop_requested, &err);
    }
    gt_agent_stats st;
    gt_agent_stats_get(agent, &st);
    fprintf(stderr,
            "%s: %s; claimed %llu, submitted %llu, settled %llu, verdicts %llu, votes %llu, disputes %llu, "
            "subcontracts %llu, errors %llu\n",
            card_name, stop_requested ? "stopped by signal" : "done", (unsigned long long)st.claimed,
            (unsigned long long)st.submitted, (unsigned long long)st.settled, (unsigned long long)st.verified,
            (unsigned long long)st.votes, (unsigned long long)st.disputes_opened, (unsigned long long)st.subcontracts,
            (unsigned long long)st.errors);
    if (json) {
        json_t *j = json_pack("{s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "address", as, "name",
                              card_name, "acted", acted, "claimed", (json_int_t)st.claimed, "submitted",
                              (json_int_t)st.submitted, "settled", (json_int_t)st.settled, "verdicts",
                              (json_int_t)st.verified, "accepted", (json_int_t)st.accepted_given, "rejected",
                              (json_int_t)st.rejected_given, "votes", (json_int_t)st.votes, "disputes",
                              (json_int_t)st.disputes_opened, "conceded", (json_int_t)st.conceded, "subcontracts",
                              (json_int_t)st.subcontracts, "errors", (json_int_t)st.errors, "ok", rc == 0);
        if (gt_cli_json_out(j) && !rc) rc = gt_err_set(&err, GT_ENOMEM, "the JSON counters could not be printed");
    }
    gt_agent_free(agent);
    gt_agent_model_free(model);
    if (rc) return gt_cli_fail(&err);
    return 0;
}

GT_CLI_COMMAND(agent_cmd, "agent", "run an agent: register, claim and do work, verify, vote", cmd_agent)
