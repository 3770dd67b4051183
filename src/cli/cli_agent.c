/* cli_agent.c: `gotong agent`: runs one agent (src/agent) against a node
 * until SIGINT/SIGTERM: its wallet from the --home keystore, its model from
 * a GGUF file, its skills, price and roles from the command line. Progress
 * lines go to stderr, one per thing the agent does. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/oai.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/json.h"
#include "base/limits.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "crypto/addr.h"
#include "crypto/keystore.h"
#include "ledger/rules.h"
#include "market/market.h"
#include "work/work.h"

static volatile int stop_requested;

static void on_signal(int sig) { stop_requested = 1; }

static void usage(FILE *f) {
    fprintf(f,
            "usage: gotong agent --model M.gguf [--skills S] [--price AMT] [--roles R] [options]\n"
            "       gotong agent register [--name NAME] [--skills S] [--price AMT] [--endpoint URL]\n"
            "                             [--stake AMT] [--model M.gguf]\n\n"
            "`agent register` puts this key's card on the node (or updates it) and bonds --stake,\n"
            "so a person can then claim, submit, verify, settle and dispute with `gotong task`.\n\n"
            "Runs an agent against a node: registers (or updates) its card, then as a worker\n"
            "claims open tasks of its skills whose bounty is at least its price, does the work\n"
            "with its model, uploads and submits the result, settles what was accepted, and\n"
            "disputes a rejection its own re-run reproduces; as a poster verifies results of\n"
            "its tasks by re-running them; as an evaluator verifies tasks naming it; as a\n"
            "validator re-runs disputed work and votes. Stops on SIGINT/SIGTERM. One agent runs\n"
            "per key and home: a second is refused while the first holds HOME/agent-ADDR.lock.\n"
            "A result made but not yet submitted is kept in HOME/agent-ADDR.kept-TASK-SLOT-ATTEMPT\n"
            "until it is, so a restarted agent sends it instead of working the slot again.\n\n"
            "options:\n"
            "  --home DIR            keystore location (default ~/.gotong or $GOTONG_HOME)\n"
            "  --from ADDR           which key (when the keystore holds several)\n"
            "  --password-file FILE  the key's password (else asked on the terminal)\n"
            "  --node URL            the node (default %s)\n"
            "  --model FILE          the GGUF model it runs (its sha256 goes on the card)\n"
            "  --name NAME           card name (default agent-<address prefix>)\n"
            "  --skills LIST         task kinds it takes (default complete; known: %s)\n"
            "  --price AMT           least bounty it works for, in tokens (default 1)\n"
            "  --endpoint URL        where the agent can be reached, on its card (default none)\n"
            "  --stake AMT           register: bond AMT tokens as stake (claims lock stake)\n"
            "  --roles LIST          worker,poster,evaluator,validator (default worker)\n"
            "  --max-prompts N       complete: do N prompts, subcontract the rest (default: all)\n"
            "  --threads N           inference threads (default 1)\n"
            "  --model-url URL       run inference on the OpenAI-compatible server at URL (http://HOST:PORT/v1,\n"
            "                        e.g. a `gotong serve`) instead of in-process: complete, generate (data,\n"
            "                        judge, spot checks) and eval (answers, scores); same bytes; it must serve\n"
            "                        --model's file (checked by sha256). train still runs here\n"
            "  --model-name NAME     the server's name of the model (default: the one with --model's sha256)\n"
            "  --model-timeout-ms MS one inference request's limit (default %d)\n"
            "  --model-budget AMT    pay a --model-url that prices its requests (x402) from the agent's\n"
            "                        account on its node's ledger, at most AMT tokens in all (default 0:\n"
            "                        pay nothing; a 402 fails the work)\n"
            "  --poll-ms MS          pause between idle passes (default %d)\n"
            "  --once                one pass over the market, then exit\n"
            "  --json                at exit, print the agent's counters as one JSON object\n"
            "  --max-tasks N         exit after submitting N results\n"
            "  --misbehave KIND      garbage | reject-all | forge-score (eval: attest a perfect\n"
            "                        score): act badly on purpose, to watch the market slash it\n"
            "                        (tests and demos only)\n"
            "A poster exports the datasets of its finished data jobs (skill generate) to\n"
            "HOME/datasets/ and publishes their Merkle roots on the ledger.\n",
            GT_CLIENT_DEFAULT_URL, gt_skill_names(), GT_OAI_DEFAULT_TIMEOUT_MS, GT_AGENT_DEFAULT_POLL_MS);
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

static void log_line(void *arg, const char *name, const char *line) {
    fprintf(stderr, "%s: %s\n", name, line);
    fflush(stderr);
}

/* Everything `gotong agent` and `gotong agent register` take. */
typedef struct agent_opts {
    const char *home_opt, *from, *pwfile, *node, *model_path, *name, *skills;
    gt_agent_config cfg;
    int once, json;
    int have_stake;
    uint64_t stake_units; /* register: bond this much stake after the card */
} agent_opts;

/* Most --misbehave options one line gives (one per kind of fault). */
#define AGENT_MAX_FAULTS 3

/* Checks the values the table could not: --endpoint's length, --roles and
 * --misbehave's words. Returns -1 to go on, else the exit code. */
static int check_agent_opts(agent_opts *o, const char *roles, const char **faults, int n_faults) {
    int rc;
    /* The card holds GT_MARKET_NAME_MAX bytes: a longer name is refused here,
     * never cut to fit (a card under a name the user did not give). */
    if (o->name && strlen(o->name) > GT_MARKET_NAME_MAX)
        return gt_cli_usage_error("agent", "--name: at most %d bytes, got %zu", GT_MARKET_NAME_MAX, strlen(o->name));
    if (o->cfg.endpoint && strlen(o->cfg.endpoint) > GT_MARKET_ENDPOINT_MAX)
        return gt_cli_usage_error("agent", "--endpoint: at most %d bytes", GT_MARKET_ENDPOINT_MAX);
    if (roles && (rc = parse_roles(roles, &o->cfg.roles))) return rc;
    if ((o->cfg.model_name || o->cfg.model_timeout_ms || o->cfg.model_budget_units) && !o->cfg.model_url)
        return gt_cli_usage_error("agent", "--model-name, --model-timeout-ms and --model-budget go with --model-url");
    for (int i = 0; i < n_faults; i++) {
        const char *f = faults[i];
        if (!strcmp(f, "garbage")) o->cfg.faults |= GT_FAULT_GARBAGE;
        else if (!strcmp(f, "reject-all")) o->cfg.faults |= GT_FAULT_REJECT_ALL;
        else if (!strcmp(f, "forge-score")) o->cfg.faults |= GT_FAULT_FORGE_SCORE;
        else
            return gt_cli_usage_error("agent", "--misbehave: expected garbage, reject-all or forge-score, got \"%s\"",
                                      f);
    }
    o->cfg.skills = o->skills;
    return -1;
}

/* Parses argv[first..] with the CLI's option table; returns -1 to go on,
 * else the exit code (0 after --help). */
static int parse_agent_opts(int argc, char **argv, int first, agent_opts *o) {
    memset(o, 0, sizeof *o);
    o->skills = "complete";
    o->cfg = (gt_agent_config){.price_units = GT_AMOUNT_UNIT, .roles = GT_ROLE_WORKER, .n_threads = 1};
    const char *roles = NULL, *faults[AGENT_MAX_FAULTS];
    uint64_t max_prompts = 0, threads = 1;
    int n_faults = 0;
    const gt_cli_opt opts[] = {
        {"--home", NULL, GT_CLI_OPT_STR, &o->home_opt, 0, 0, NULL},
        {"--from", NULL, GT_CLI_OPT_STR, &o->from, 0, 0, NULL},
        {"--password-file", NULL, GT_CLI_OPT_STR, &o->pwfile, 0, 0, NULL},
        {"--node", NULL, GT_CLI_OPT_STR, &o->node, 0, 0, NULL},
        {"--model", NULL, GT_CLI_OPT_STR, &o->model_path, 0, 0, NULL},
        {"--name", NULL, GT_CLI_OPT_STR, &o->name, 0, 0, NULL},
        {"--skills", NULL, GT_CLI_OPT_STR, &o->skills, 0, 0, NULL},
        {"--price", NULL, GT_CLI_OPT_AMOUNT, &o->cfg.price_units, 0, 0, NULL},
        {"--endpoint", NULL, GT_CLI_OPT_STR, &o->cfg.endpoint, 0, 0, NULL},
        {"--stake", NULL, GT_CLI_OPT_AMOUNT, &o->stake_units, 0, 0, &o->have_stake},
        {"--roles", NULL, GT_CLI_OPT_STR, &roles, 0, 0, NULL},
        {"--max-prompts", NULL, GT_CLI_OPT_U64, &max_prompts, 0, GT_AGENT_MAX_PROMPTS, NULL},
        {"--threads", NULL, GT_CLI_OPT_U64, &threads, 1, 256, NULL},
        {"--model-url", NULL, GT_CLI_OPT_STR, &o->cfg.model_url, 0, 0, NULL},
        {"--model-name", NULL, GT_CLI_OPT_STR, &o->cfg.model_name, 0, 0, NULL},
        {"--model-timeout-ms", NULL, GT_CLI_OPT_U64, &o->cfg.model_timeout_ms, 100, 86400000, NULL},
        {"--model-budget", NULL, GT_CLI_OPT_AMOUNT, &o->cfg.model_budget_units, 0, 0, NULL},
        {"--poll-ms", NULL, GT_CLI_OPT_U64, &o->cfg.poll_ms, 10, 3600000, NULL},
        {"--once", NULL, GT_CLI_OPT_FLAG, &o->once, 0, 0, NULL},
        {"--json", NULL, GT_CLI_OPT_FLAG, &o->json, 0, 0, NULL},
        {"--max-tasks", NULL, GT_CLI_OPT_U64, &o->cfg.max_tasks, 1, 1000000000, NULL},
        {"--misbehave", NULL, GT_CLI_OPT_LIST, faults, 0, AGENT_MAX_FAULTS, &n_faults},
        {NULL, NULL, 0, NULL, 0, 0, NULL}};
    int rc = gt_cli_parse("agent", argc, argv, first, opts, NULL, 0, NULL, usage);
    if (rc >= 0) return rc;
    o->cfg.max_prompts = (int)max_prompts, o->cfg.n_threads = (int)threads;
    return check_agent_opts(o, roles, faults, n_faults);
}

/* Takes HOME/agent-<address>.lock for the life of the process, its pid
 * written in it; *fd_out keeps it. flock: the kernel drops it when the
 * process ends, however it ends (kill -9 included), so no stale lock is
 * left behind. Two agents on one key would race each other's nonces and
 * claims, and work (and stake on) the same slots twice: the second is
 * refused (GT_EEXIST), naming the first's pid. 0 or an error. */
static int lock_key(const char *home, const char *as, int *fd_out, gt_err *err) {
    char path[4200], pid[32] = "";
    snprintf(path, sizeof path, "%s/agent-%s.lock", home, as);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return gt_err_set(err, GT_EIO, "%s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB)) {
        int busy = errno == EWOULDBLOCK;
        ssize_t n = busy ? pread(fd, pid, sizeof pid - 1, 0) : -1;
        pid[n > 0 ? strcspn(pid, "\n") : 0] = 0;
        close(fd);
        if (!busy) return gt_err_set(err, GT_EIO, "%s: %s", path, strerror(errno));
        return gt_err_set(err, GT_EEXIST,
                          "another `gotong agent` (pid %s) is running with key %s (lock %s): two agents on one key "
                          "race each other's claims and nonces; stop it first", pid[0] ? pid : "?", as, path);
    }
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    /* The pid is for a second agent's message only: a failed write is no reason to stop. */
    if (ftruncate(fd, 0) == 0 && pwrite(fd, pid, (size_t)len, 0) != len) pid[0] = 0;
    *fd_out = fd;
    return 0;
}

/* Loads the key and (when given) the model, and makes the agent: card name
 * from --name or the address. as gets the address. With lock_fd (a run),
 * first takes the key's lock in the home (lock_key). 0 or an error. */
static int make_agent(agent_opts *o, char as[43], char *card_name, size_t name_cap, gt_agent_model **model,
                      gt_agent **agent, int *lock_fd, gt_err *err) {
    char home[4096], datasets[4096 + 16];
    gt_addr addr;
    gt_key key;
    int rc;
    if ((rc = gt_work_register(err)) || (rc = gt_cli_home(o->home_opt, home, sizeof home, err))) return rc;
    snprintf(datasets, sizeof datasets, "%s/datasets", home);
    if ((rc = gt_cli_load_key(o->home_opt, o->from, o->pwfile, &key, &addr, err))) return rc;
    gt_addr_to_str(&addr, as);
    if (lock_fd && (rc = lock_key(home, as, lock_fd, err))) {
        gt_key_wipe(&key);
        return rc;
    }
    if (o->name) snprintf(card_name, name_cap, "%s", o->name);
    else snprintf(card_name, name_cap, "agent-%.8s", as + 2);
    o->cfg.name = card_name;
    o->cfg.log = log_line;
    *model = NULL;
    if (o->model_path) {
        double t0 = gt_now_s();
        if ((rc = gt_agent_model_load(o->model_path, model, err))) {
            gt_key_wipe(&key);
            return rc;
        }
        fprintf(stderr, "%s: model %s (%s) loaded in %.1f s\n", card_name, o->model_path, gt_agent_model_id(*model),
                gt_now_s() - t0);
    }
    o->cfg.model = *model;
    /* A poster exports its datasets; the path outlives this frame (freed by the caller). */
    o->cfg.datasets_dir = o->cfg.roles & GT_ROLE_POSTER ? gt_strdup(datasets) : NULL;
    /* Its results made but not yet submitted, kept under the home only by a
     * run holding the key's lock: no second process writes them. */
    o->cfg.kept_dir = lock_fd ? gt_strdup(home) : NULL;
    rc = gt_agent_new(&o->cfg, &key, gt_cli_node(o->node), agent, err);
    gt_key_wipe(&key);
    if (rc) {
        gt_agent_model_free(*model);
        *model = NULL;
    }
    return rc;
}

/* Fills a stake action's amount (gt_agent_act callback). */
static int fill_stake(void *arg, gt_action *act, gt_err *err) {
    (void)err;
    gt_action_set_u64(act, "amount", *(const uint64_t *)arg);
    return 0;
}

/* `gotong agent register`: the card (name, skills, price, endpoint, model)
 * on the node, then --stake bonded; prints the card as the node has it. A
 * person does this once, then claims, submits, verifies by hand. */
static int cmd_agent_register(agent_opts *o) {
    gt_err err = {0};
    char as[43], card_name[GT_MARKET_NAME_MAX + 1], path[96];
    gt_agent_model *model = NULL;
    gt_agent *agent = NULL;
    json_t *card = NULL;
    int rc = make_agent(o, as, card_name, sizeof card_name, &model, &agent, NULL, &err);
    if (!rc) rc = gt_agent_register(agent, &err);
    if (!rc && o->have_stake && o->stake_units)
        rc = gt_agent_act(agent, &gt_kind_stake, fill_stake, &o->stake_units, NULL, &err);
    snprintf(path, sizeof path, "/v1/agents/%s", as);
    if (!rc) rc = gt_client_get_json(gt_agent_client(agent), path, &card, &err);
    if (!rc && o->json) {
        rc = gt_cli_json_out(json_incref(card)) ? GT_EIO : 0;
    } else if (!rc) {
        char p[GT_AMOUNT_TOKENS_MAX], st[GT_AMOUNT_TOKENS_MAX];
        printf("agent %s registered as \"%s\": skills %s, price %s%s%s%s%s\n", as, card_name, o->skills,
               gt_json_tokens(card, "price", p), o->cfg.endpoint ? ", endpoint " : "", o->cfg.endpoint ? o->cfg.endpoint : "",
               o->have_stake ? "; staked " : "", o->have_stake ? gt_amount_tokens(o->stake_units, st) : "");
    }
    json_decref(card);
    gt_free((void *)o->cfg.datasets_dir);
    gt_free((void *)o->cfg.kept_dir);
    gt_agent_free(agent);
    gt_agent_model_free(model);
    return rc ? gt_cli_fail(&err) : 0;
}

/* Prints the counters at exit: a line on stderr, and with --json an object. */
static int print_stats(const agent_opts *o, gt_agent *agent, const char *as, const char *card_name, int acted, int rc) {
    gt_agent_stats st;
    gt_agent_stats_get(agent, &st);
    fprintf(stderr,
            "%s: %s; claimed %llu, submitted %llu, settled %llu, verdicts %llu, votes %llu, disputes %llu, "
            "subcontracts %llu, errors %llu\n",
            card_name, stop_requested ? "stopped by signal" : "done", (unsigned long long)st.claimed,
            (unsigned long long)st.submitted, (unsigned long long)st.settled, (unsigned long long)st.verified,
            (unsigned long long)st.votes, (unsigned long long)st.disputes_opened, (unsigned long long)st.subcontracts,
            (unsigned long long)st.errors);
    if (!o->json) return 0;
    json_t *j = json_pack("{s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:b}", "address", as, "name",
                          card_name, "acted", acted, "claimed", (json_int_t)st.claimed, "submitted",
                          (json_int_t)st.submitted, "settled", (json_int_t)st.settled, "verdicts",
                          (json_int_t)st.verified, "accepted", (json_int_t)st.accepted_given, "rejected",
                          (json_int_t)st.rejected_given, "votes", (json_int_t)st.votes, "disputes",
                          (json_int_t)st.disputes_opened, "conceded", (json_int_t)st.conceded, "subcontracts",
                          (json_int_t)st.subcontracts, "errors", (json_int_t)st.errors, "ok", rc == 0);
    return gt_cli_json_out(j);
}

/* `gotong agent`: runs the agent until a signal (or one pass with --once). */
static int cmd_agent_run(agent_opts *o) {
    if (!o->model_path)
        return gt_cli_usage_error("agent", "--model M.gguf is required: every role runs the model (work or re-runs)");
    if (o->have_stake) return gt_cli_usage_error("agent", "--stake belongs to `gotong agent register`");
    gt_err err = {0};
    char as[43], card_name[GT_MARKET_NAME_MAX + 1];
    gt_agent_model *model = NULL;
    gt_agent *agent = NULL;
    int lock_fd = -1; /* held until the process ends */
    int rc = make_agent(o, as, card_name, sizeof card_name, &model, &agent, &lock_fd, &err);
    if (rc) {
        if (lock_fd >= 0) close(lock_fd);
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
    if (o->once) {
        rc = gt_agent_register(agent, &err);
        if (!rc) rc = gt_agent_step(agent, &acted, &err);
    } else {
        rc = gt_agent_run(agent, &stop_requested, &err);
    }
    int json_bad = print_stats(o, agent, as, card_name, acted, rc); /* said on stderr */
    gt_free((void *)o->cfg.datasets_dir);
    gt_free((void *)o->cfg.kept_dir);
    gt_agent_free(agent);
    gt_agent_model_free(model);
    close(lock_fd);
    return rc ? gt_cli_fail(&err) : json_bad;
}

/* `gotong agent [register] [options]`. */
static int cmd_agent(int argc, char **argv) {
    static const char *const subs[] = {"register", NULL}; /* without one: run */
    int rc = gt_cli_before_subcommand("agent", argc, argv, usage, NULL);
    if (rc >= 0) return rc;
    int registering = argc > 1 && !strcmp(argv[1], subs[0]);
    if (!registering) gt_cli_describe_subs(subs);
    agent_opts o;
    rc = parse_agent_opts(argc, argv, registering ? 2 : 1, &o);
    if (rc >= 0) return rc;
    return registering ? cmd_agent_register(&o) : cmd_agent_run(&o);
}

GT_CLI_COMMAND(agent_cmd, "agent", "run an agent: register, claim and do work, verify, vote", cmd_agent)
