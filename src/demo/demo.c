/* demo.c: the demo's scenario runner (`gotong demo`): a whole market on one
 * machine, end to end.
 *
 * It makes a fresh data directory with a genesis ledger, wallets for a cast
 * of agents (a poster, a poster who rejects everything, three workers with
 * different prices and habits, an evaluator, two model evaluators of whom
 * one forges scores, three validators), funds them
 * from the faucet, starts the HTTP node in-process on an ephemeral port, and
 * runs every agent as a thread of the same runtime `gotong agent` runs
 * (src/agent), talking to the node over HTTP. It then scripts rounds that
 * produce, every time, the market's main paths:
 *   1. accepted work, verified by an evaluator who re-runs it (fee paid);
 *   2. garbage work rejected by the poster: the worker's stake is slashed
 *      and the reopened slot is done properly by another worker;
 *   3. good work wrongly rejected by a poster: the worker disputes, three
 *      validators re-run it and vote (sealed: commit, then reveal), the
 *      poster's bond is slashed;
 *   4. a subcontract: a worker takes a spec bigger than it wants, posts part
 *      of it as a sub-task paid from its own wallet, verifies and cites it;
 *   5. a data job (demo_work.c): two workers generate a batch each, a
 *      validator judges every sample, accepted samples are paid and rejected
 *      ones slashed, the poster exports the dataset and publishes its root;
 *   6. an evaluation: an evaluator attests a benchmark score, validators
 *      re-execute items and co-sign; a forged score is rejected, disputed
 *      and lost; the leaderboard lists what was attested (ranking only what bonded judges accepted).
 * The script decides only who is on line in each round (which is what makes
 * the outcomes the same on every run); claims, work, verdicts, disputes and
 * votes are the agents' own decisions.
 *
 * Determinism: wallets are derived from the agents' public names (demo
 * keys: never use them for real value), the random model is seeded, the
 * inference is bit-exact, so balances, outcomes and reputation are the same
 * every run; block heights and hashes depend on timing (idle blocks). */
#define _GNU_SOURCE /* nftw */
#include <assert.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "api/api.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/progress.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/keystore.h"
#include "demo/demo.h"
#include "demo/demo_fund.h"
#include "demo/demo_int.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "market/market.h"
#include "work/work.h"

/* Genesis time of the demo network (2024-01-01T00:00:00Z). */
#define GT_DEMO_GENESIS_TIME_S 1704067200

#define DEMO_MARKER "gotong-demo.json"     /* what makes a directory a demo home --fresh may wipe */
#define DEMO_PASSWORD "gotong-demo"        /* of every demo keystore (written to HOME/password.txt) */
#define DEMO_VOCAB_REL "tokenizer/ggml-vocab-llama-spm.gguf"
#define DEMO_WORKER_REL "models/worker.gguf"

/* The cast (the order of demo_int.h's P_* names). Amounts in base units. */
const demo_persona demo_cast[N_PERSONAS] = {
    {"ayu", "poster (honest: verifies by re-running; publishes datasets)", "complete", GT_ROLE_POSTER, 0, 0, 0, 100000000, 0},
    {"dewi", "poster who rejects everything", "complete", GT_ROLE_POSTER, GT_FAULT_REJECT_ALL, 0, 0, 40000000, 0},
    {"ana", "worker, price 1", "complete,generate", 0, 0, 0, 1000000, 10000000, 0},
    {"budi", "worker, price 1, submits garbage", "complete", 0, GT_FAULT_GARBAGE, 0, 1000000, 10000000, 0},
    {"citra", "worker, price 2, takes 2 prompts, subcontracts the rest", "complete,generate", 0, 0, 2, 2000000, 10000000, 0},
    {"eko", "evaluator (re-runs for a fee; validates data batches)", "complete,validate", GT_ROLE_EVALUATOR, 0, 0, 0,
     5000000, 0},
    {"fajar", "model evaluator (runs benchmarks, attests)", "eval", 0, 0, 0, 1000000, 10000000, 0},
    {"gita", "model evaluator who forges its scores", "eval", 0, GT_FAULT_FORGE_SCORE, 0, 1000000, 10000000, 0},
    {"val-1", "validator (also verifies eval tasks for a fee)", "complete", GT_ROLE_VALIDATOR | GT_ROLE_EVALUATOR, 0, 0,
     0, 10000000, 5000000},
    {"val-2", "validator", "complete", GT_ROLE_VALIDATOR, 0, 0, 0, 10000000, 5000000},
    {"val-3", "validator", "complete", GT_ROLE_VALIDATOR, 0, 0, 0, 10000000, 5000000},
};

/* ---- output ---- */

static pthread_mutex_t out_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *progress_out; /* stdout, or stderr with --json */
static double t_start;
static int step_on;        /* --step, until "c" or the end of stdin */
static unsigned step_n;    /* events shown in step mode */
static double step_paused_s; /* time spent at --step prompts (not the demo's own) */

/* --step: after an event, waits for a line on stdin. At a terminal the
 * person's Enter ends the prompt's line; from a pipe or a file (a test, a
 * script) the line read is echoed instead, so the transcript shows what
 * moved the demo on. "c" (or the end of input) runs the rest without
 * stopping. Called with out_mu held: every thread that has something to
 * tell waits behind the prompt, so nothing happens unseen. */
static void step_wait(void) {
    char line[DEMO_STEP_LINE_MAX];
    double t0 = gt_now_s();
    step_n++;
    fprintf(progress_out, "  [step %u: Enter for the next event, c to run to the end] ", step_n);
    fflush(progress_out);
    if (!fgets(line, sizeof line, stdin)) {
        fprintf(progress_out, "(end of input: running to the end)\n");
        step_on = 0;
        step_paused_s += gt_now_s() - t0;
        return;
    }
    size_t n = strcspn(line, "\r\n");
    int whole = line[n] != 0 || feof(stdin); /* a longer line: the rest is skipped */
    for (int c = whole ? '\n' : getchar(); c != '\n' && c != EOF; c = getchar()) continue;
    line[n] = 0;
    if (!isatty(STDIN_FILENO)) fprintf(progress_out, "<- \"%s\"\n", line);
    if (line[0] == 'c') {
        fprintf(progress_out, "  (running to the end)\n");
        step_on = 0;
    }
    step_paused_s += gt_now_s() - t0;
}

void demo_say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&out_mu);
    vfprintf(progress_out, fmt, ap);
    fputc('\n', progress_out);
    if (step_on) step_wait();
    fflush(progress_out);
    pthread_mutex_unlock(&out_mu);
    va_end(ap);
}

double demo_paused_s(void) {
    pthread_mutex_lock(&out_mu); /* waits out a prompt in progress: the director pauses too */
    double s = step_paused_s;
    pthread_mutex_unlock(&out_mu);
    return s;
}

double demo_elapsed(void) { return gt_now_s() - t_start - demo_paused_s(); }

void demo_output_begin(int json, int step) {
    progress_out = json ? stderr : stdout;
    step_on = step, step_n = 0, step_paused_s = 0;
    t_start = gt_now_s();
}

json_t *demo_json_tokens(uint64_t units) {
    char s[GT_AMOUNT_STR_MAX];
    return json_string(gt_amount_format(units, s));
}

/* Agents' progress lines, with the time since the start. */
static void agent_log(void *arg, const char *name, const char *line) {
    demo_say("  %6.1fs  %-6s %s", gt_now_s() - t_start, name, line);
}

/* ---- the data directory ---- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path);
}

/* Makes home ready: refuses a non-empty directory that is not a demo home,
 * wipes a demo home only with --fresh. */
static int prepare_home(const char *home, int fresh, gt_err *err) {
    struct stat st;
    if (stat(home, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return gt_err_set(err, GT_EEXIST, "%s exists and is not a directory", home);
        DIR *d = opendir(home);
        int entries = 0;
        struct dirent *de;
        while (d && (de = readdir(d)))
            if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) entries++;
        if (d) closedir(d);
        if (entries) {
            char marker[PATH_MAX + 32];
            snprintf(marker, sizeof marker, "%s/%s", home, DEMO_MARKER);
            if (!gt_file_exists(marker))
                return gt_err_set(err, GT_EEXIST,
                                  "%s is not empty and is not a demo home (no %s): refusing to touch it; "
                                  "pick another --home", home, DEMO_MARKER);
            if (!fresh)
                return gt_err_set(err, GT_EEXIST,
                                  "%s holds an earlier demo; pass --fresh to wipe it and start over "
                                  "(or look at it: gotong ledger log --home %s)", home, home);
            if (nftw(home, rm_entry, 16, FTW_DEPTH | FTW_PHYS))
                return gt_err_set(err, GT_EIO, "cannot wipe %s", home);
        }
    }
    int rc = gt_mkdir_p(home, 0700, err);
    if (rc) return rc;
    char marker[PATH_MAX + 32];
    snprintf(marker, sizeof marker, "%s/%s", home, DEMO_MARKER);
    const char *m = "{\"gotong-demo\":1,\"note\":\"made by gotong demo; gotong demo --fresh may wipe this directory\"}\n";
    return gt_file_write_atomic(marker, m, strlen(m), 0600, err);
}

/* A demo key from a public name: keccak256("gotong demo key: " + name).
 * Anyone can recompute it: demo keys are for demos only. */
static int demo_key(const char *name, gt_key *k, gt_err *err) {
    char seed[128];
    uint8_t h[32];
    int n = snprintf(seed, sizeof seed, "gotong demo key: %s", name);
    gt_keccak256(seed, (size_t)n, h);
    return gt_key_from_bytes(k, h, err);
}

/* Path of the running binary's directory (for fixtures and self-exec). */
static int self_exe(char *out, size_t cap) {
    ssize_t n = readlink("/proc/self/exe", out, cap - 1);
    if (n <= 0) return -1;
    out[n] = 0;
    return 0;
}

/* Finds the vocabulary for the random model: $GT_FIXTURES, then the
 * repository's .cache/fixtures (where scripts/setup.sh puts llama.cpp's
 * vocabularies) above the binary's directory (build/gotong) and above the
 * current directory. */
static int find_vocab(char *out, size_t cap) {
    char exe[PATH_MAX], dir[PATH_MAX];
    const char *env = getenv("GT_FIXTURES");
    if (env) {
        if (snprintf(out, cap, "%s/%s", env, DEMO_VOCAB_REL) < (int)cap && gt_file_exists(out)) return 0;
    }
    if (!self_exe(exe, sizeof exe)) {
        snprintf(dir, sizeof dir, "%s", exe);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        const char *ups[] = {"../.cache/fixtures", "../../.cache/fixtures"};
        for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++) {
            if (snprintf(out, cap, "%s/%s/%s", dir, ups[i], DEMO_VOCAB_REL) >= (int)cap) continue;
            if (gt_file_exists(out)) return 0;
        }
    }
    snprintf(out, cap, ".cache/fixtures/%s", DEMO_VOCAB_REL);
    return gt_file_exists(out) ? 0 : -1;
}

/* Finds the worker model committed with its recipe (models/worker.gguf,
 * recipes/worker/README.md) above the binary's directory or the current
 * one: 0 with its path in out, -1 when it is not there. */
static int find_worker_model(char *out, size_t cap) {
    char exe[PATH_MAX];
    if (!self_exe(exe, sizeof exe)) {
        char *slash = strrchr(exe, '/');
        if (slash) *slash = 0;
        const char *ups[] = {"../" DEMO_WORKER_REL, "../../" DEMO_WORKER_REL};
        for (size_t i = 0; i < sizeof ups / sizeof ups[0]; i++)
            if (snprintf(out, cap, "%s/%s", exe, ups[i]) < (int)cap && gt_file_exists(out)) return 0;
    }
    snprintf(out, cap, "%s", DEMO_WORKER_REL);
    return gt_file_exists(out) ? 0 : -1;
}

/* Makes a small random-weight llama with `gotong model random` (this very
 * binary, so it is the same code), seeded so every run gets the same file. */
static int make_random_model(const char *vocab, const char *out_path, int threads, gt_err *err) {
    char exe[PATH_MAX], th[16];
    if (self_exe(exe, sizeof exe)) return gt_err_set(err, GT_EIO, "cannot find this program's path (/proc/self/exe)");
    snprintf(th, sizeof th, "%d", threads);
    char *argv[] = {exe, "model", "random", "--like", (char *)vocab, "--arch", "llama", "--dim", "128", "--layers",
                    "2", "--heads", "4", "--kv-heads", "2", "--ff", "352", "--seed", "1", "--threads", th, "-o",
                    (char *)out_path, NULL};
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return gt_err_set(err, GT_EIO, "fork failed");
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0) dup2(devnull, 2); /* its progress bar would interleave with ours */
        execv(exe, argv);
        _exit(127);
    }
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
        return gt_err_set(err, GT_EIO, "gotong model random failed (exit %d); try: %s model random --like %s ...",
                          WIFEXITED(status) ? WEXITSTATUS(status) : -1, exe, vocab);
    return 0;
}

/* ---- talking to the node as the faucet and the director ---- */

typedef struct amount_args {
    const gt_addr *to;
    uint64_t units;
} amount_args;

static int fill_amount(void *arg, gt_action *a, gt_err *err) {
    const amount_args *x = arg;
    if (gt_action_field(a->kind, "to") >= 0) gt_action_set_addr(a, "to", x->to);
    gt_action_set_u64(a, "amount", x->units);
    return 0;
}

static void *agent_thread(void *arg) {
    gt_agent *a = arg;
    gt_err err = {0};
    if (gt_agent_run(a, NULL, &err)) demo_say("  %-6s stopped: %s", gt_agent_name(a), err.msg);
    return NULL;
}


/* ---- the run ---- */

/* One run: what the steps below make, and what demo_teardown frees. */
typedef struct demo_run {
    const gt_demo_options *o;
    char home[PATH_MAX];
    char model_path[PATH_MAX + 64];
    gt_agent_model *model;
    gt_key keys[N_PERSONAS], faucet;
    gt_node *node;
    char url[64];
    demo d;
    demo_report rep;
    demo_fund fund; /* the funding and feedback act (demo_fund.c) */
} demo_run;

void gt_demo_options_default(gt_demo_options *o) {
    memset(o, 0, sizeof *o);
    o->threads = 1;
    o->rounds = 1;
    o->block_ms = GT_DEMO_DEFAULT_BLOCK_MS;
}

/* The data directory: expanded, checked to be a demo home (or empty), made. */
static int open_home(demo_run *run, gt_err *err) {
    const char *h = run->o->home ? run->o->home : GT_DEMO_DEFAULT_HOME;
    int rc = gt_path_expand(h, run->home, sizeof run->home, err);
    if (rc || (rc = prepare_home(run->home, run->o->fresh, err))) return rc;
    demo_say("gotong demo: a market of agents on this machine\n  data directory  %s", run->home);
    return 0;
}

/* The model: the one given, or a random-weight llama made for this run from
 * the vocabulary given or found near the binary. Loaded into run->model. */
static int choose_model(demo_run *run, gt_err *err) {
    const gt_demo_options *o = run->o;
    char vocab[PATH_MAX], dir[PATH_MAX + 16];
    if (o->model_path) {
        snprintf(run->model_path, sizeof run->model_path, "%s", o->model_path);
    } else if (!find_worker_model(run->model_path, sizeof run->model_path)) {
        run->d.worker_model = 1;
        demo_say("  model           no --model given: the worker model trained by recipes/worker (the task\n"
                 "                  families' questions, worked solutions); the tasks ask it such questions");
    } else {
        if (o->vocab_path) snprintf(vocab, sizeof vocab, "%s", o->vocab_path);
        else if (find_vocab(vocab, sizeof vocab))
            return gt_err_set(err, GT_ENOTFOUND,
                              "no --model given and no vocabulary found to make a random one (looked for %s under "
                              "$GT_FIXTURES and the repository's .cache/fixtures); run scripts/setup.sh to fetch "
                              "it, or pass --model FILE.gguf or --vocab VOCAB.gguf", DEMO_VOCAB_REL);
        snprintf(dir, sizeof dir, "%s/models", run->home);
        snprintf(run->model_path, sizeof run->model_path, "%s/models/random-llama-128x2-q8_0.gguf", run->home);
        int rc = gt_mkdir_p(dir, 0700, err);
        if (rc || (rc = make_random_model(vocab, run->model_path, o->threads, err))) return rc;
        demo_say("  model           no --model given: made a RANDOM-WEIGHT llama (128 dims, 2 layers, seed 1) with\n"
            "                  `gotong model random --like %s`;\n"
            "                  its outputs are random-weight text, not language (pass --model M.gguf for a real one)",
            vocab);
    }
    int rc = gt_agent_model_load(run->model_path, &run->model, err);
    if (rc) return rc;
    demo_say("  model file      %s\n  model id        %s", run->model_path, gt_agent_model_id(run->model));
    return 0;
}

/* The wallets: the faucet's and the cast's keystores, with the demo's
 * password written beside them. */
static int make_wallets(demo_run *run, gt_err *err) {
    gt_kdf_params kdf = {GT_KDF_LIGHT_N, 8, 1}; /* light: a demo's keys guard nothing */
    char path[PATH_MAX + 64], keyfile[PATH_MAX + 128];
    snprintf(path, sizeof path, "%s/password.txt", run->home);
    int rc = gt_file_write_atomic(path, DEMO_PASSWORD "\n", strlen(DEMO_PASSWORD) + 1, 0600, err);
    if (rc || (rc = demo_key("faucet", &run->faucet, err)) ||
        (rc = gt_keystore_save(run->home, &run->faucet, DEMO_PASSWORD, &kdf, keyfile, sizeof keyfile, err)))
        return rc;
    for (int i = 0; i < N_PERSONAS; i++) {
        if ((rc = demo_key(demo_cast[i].name, &run->keys[i], err)) ||
            (rc = gt_keystore_save(run->home, &run->keys[i], DEMO_PASSWORD, &kdf, keyfile, sizeof keyfile, err)))
            return rc;
    }
    demo_say("  wallets         %d keystores in %s/keystore (light scrypt), password in %s\n"
        "                  (demo keys are derived from the agents' names: never hold real value with them)",
        N_PERSONAS + 1, run->home, path);
    return 0;
}

/* The genesis ledger, then the node on it, in-process on a port of its own,
 * and the director's client. */
static int start_network(demo_run *run, gt_err *err) {
    int rc = gt_work_register(err);
    if (rc) return rc;
    /* A fixed genesis time: every demo run makes the same network (the same
     * genesis hash, which signatures bind), so its action ids and outcome
     * are the same from run to run. Block times still follow the clock. */
    gt_genesis g = {.chain_id = GT_DEFAULT_CHAIN_ID, .unbonding_blocks = GT_DEFAULT_UNBONDING_BLOCKS,
                    .time_s = GT_DEMO_GENESIS_TIME_S};
    gt_key_address(&run->faucet, &g.authority);
    /* The draw seed chain's secret is fixed too (the genesis hash commits to
     * its anchors); the demo's keys are public anyway, so a known seed costs
     * this local network nothing. A real network's comes from the OS. */
    static const char seed_tag[] = "gotong demo draw seed secret v1";
    gt_keccak256(seed_tag, sizeof seed_tag - 1, g.seed_secret);
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/ledger.db", run->home);
    if ((rc = gt_ledger_create(path, &g, err))) return rc;
    gt_node_config nc;
    gt_node_config_default(&nc);
    nc.home = run->home;
    nc.listen = "127.0.0.1:0";
    nc.threads = 4;
    /* --step: no idle blocks, or deadlines would pass while a person reads;
     * the director writes the blocks a deadline waits for (demo_rounds.c). */
    nc.block_interval_ms = run->o->step ? 0 : run->o->block_ms;
    nc.access_log = 0;
    if ((rc = gt_node_start(&nc, &run->node, err))) return rc;
    /* The demo's own block clock, from now on: it moves only when the
     * director moves it (demo_rounds.c), so how busy the machine is cannot
     * make a deadline pass before a party has acted. */
    gt_node_set_time(run->node, (uint64_t)time(NULL));
    snprintf(run->url, sizeof run->url, "http://127.0.0.1:%u", (unsigned)gt_node_port(run->node));
    if (run->o->step)
        demo_say("  node            %s (in-process; no idle blocks while stepping)", run->url);
    else
        demo_say("  node            %s (in-process; an empty block after %llu ms idle)", run->url,
                 (unsigned long long)run->o->block_ms);
    return gt_client_new(run->url, &run->d.dir, err);
}

/* Funds everyone from the faucet (validators stake), then prints the cast
 * and notes each account as the summary's "before". */
static int fund_cast(demo_run *run, gt_err *err) {
    int rc;
    for (int i = 0; i < N_PERSONAS; i++) {
        gt_addr a;
        gt_key_address(&run->keys[i], &a);
        amount_args m = {&a, demo_cast[i].fund_units};
        if ((rc = gt_client_act(run->d.dir, &run->faucet, &gt_kind_mint, fill_amount, &m, NULL, NULL, err))) return rc;
        run->rep.minted_units += demo_cast[i].fund_units;
        if (demo_cast[i].stake_units) {
            amount_args s = {NULL, demo_cast[i].stake_units};
            if ((rc = gt_client_act(run->d.dir, &run->keys[i], &gt_kind_stake, fill_amount, &s, NULL, NULL, err)))
                return rc;
        }
    }
    demo_say("\n  %-6s %-58s %-42s %s", "agent", "role", "address", "funded");
    for (int i = 0; i < N_PERSONAS; i++) {
        assert(run->rep.n_parties < DEMO_MAX_AGENTS);
        demo_party *p = &run->rep.parties[run->rep.n_parties++];
        p->name = demo_cast[i].name;
        p->role = demo_cast[i].role;
        gt_key_address(&run->keys[i], &p->addr);
        gt_client_acct acc;
        if ((rc = gt_client_account(run->d.dir, &p->addr, &acc, err))) return rc;
        p->before_balance = acc.balance_units, p->before_staked = acc.staked_units, p->before_locked = acc.locked_units;
        char as[43], a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX];
        gt_addr_to_str(&p->addr, as);
        uint64_t stake = demo_cast[i].stake_units;
        demo_say("  %-6s %-58s %s %s%s%s", p->name, p->role, as, gt_amount_format(demo_cast[i].fund_units, a1),
                 stake ? ", staked " : "", stake ? gt_amount_format(stake, a2) : "");
    }
    return 0;
}

/* The agents, as threads of the agent runtime: each registers its card,
 * then watches the market. */
static int start_agents(demo_run *run, gt_err *err) {
    static char datasets[PATH_MAX + 16]; /* outlives the agents: they keep the pointer */
    snprintf(datasets, sizeof datasets, "%s/datasets", run->home);
    demo_say("\n  starting %d agents (each registers its card, then watches the market)", N_PERSONAS);
    int rc;
    for (int i = 0; i < N_PERSONAS; i++) {
        const demo_persona *c = &demo_cast[i];
        gt_agent_config ac = {.name = c->name, .skills = c->skills, .price_units = c->price_units,
                              .roles = c->roles, .faults = c->faults, .model = run->model,
                              .n_threads = run->o->threads, .max_prompts = c->max_prompts, .poll_ms = DEMO_POLL_MS,
                              .log = agent_log, .datasets_dir = i == P_AYU ? datasets : NULL};
        if ((rc = gt_agent_new(&ac, &run->keys[i], run->url, &run->d.ag[i], err))) return rc;
        if ((rc = gt_agent_register(run->d.ag[i], err))) return rc;
    }
    for (int i = 0; i < N_PERSONAS; i++) {
        if (pthread_create(&run->d.th[i], NULL, agent_thread, run->d.ag[i]))
            return gt_err_set(err, GT_EIO, "cannot start a thread for %s", demo_cast[i].name);
        run->d.started[i] = 1;
    }
    return 0;
}

/* Stops the agents and the node and wipes the keys; the model stays (the
 * summary names it). Safe on a run that stopped part way. */
static void demo_teardown(demo_run *run) {
    demo *d = &run->d;
    for (int i = 0; i < N_PERSONAS; i++)
        if (d->ag[i]) gt_agent_stop(d->ag[i]);
    for (int i = 0; i < N_PERSONAS; i++)
        if (d->started[i]) pthread_join(d->th[i], NULL);
    for (int i = 0; i < N_PERSONAS; i++) gt_agent_free(d->ag[i]);
    gt_client_free(d->dir);
    gt_node_stop(run->node);
    for (int i = 0; i < N_PERSONAS; i++) gt_key_wipe(&run->keys[i]);
    gt_key_wipe(&run->faucet);
}

/* Sets the network up, plays the rounds (demo_rounds.c). */
static int play(demo_run *run, gt_err *err) {
    int rc;
    if ((rc = make_wallets(run, err)) || (rc = start_network(run, err)) || (rc = fund_cast(run, err)) ||
        (rc = start_agents(run, err)))
        return rc;
    uint64_t ticks = 0;
    if ((rc = demo_run_rounds(&run->d, run->node, run->o->rounds, &ticks, err))) return rc;
    if (ticks)
        demo_say("\n  the director wrote %llu empty blocks to pass deadlines once everyone had acted (instead of\n"
                 "  waiting %llu ms for each idle block)", (unsigned long long)ticks,
                 (unsigned long long)run->o->block_ms);
    demo_fund_stop_agents(&run->d);
    run->fund = (demo_fund){.d = &run->d, .node = run->node, .home = run->home, .keys = run->keys,
                            .faucet = &run->faucet, .rep = &run->rep};
    return demo_fund_play(&run->fund, err);
}

int gt_demo_run(const gt_demo_options *o, gt_err *err) {
    assert(o->threads >= 1 && o->threads <= GT_DEMO_MAX_THREADS);
    assert(o->rounds >= 1 && o->rounds <= GT_DEMO_MAX_ROUNDS);
    assert(o->block_ms >= GT_DEMO_MIN_BLOCK_MS && o->block_ms <= GT_DEMO_MAX_BLOCK_MS);
    demo_output_begin(o->json, o->step);
    signal(SIGPIPE, SIG_IGN);
    static demo_run run; /* large (paths, keys); one demo per process */
    memset(&run, 0, sizeof run);
    run.o = o;
    int rc = open_home(&run, err);
    if (rc || (rc = choose_model(&run, err))) return rc;
    run.d.model_id = gt_agent_model_id(run.model);
    run.d.model_hash = gt_agent_model_hash(run.model);
    run.rep = (demo_report){.home = run.home, .model_path = run.model_path, .model_id = run.d.model_id,
                            .random_model = !o->model_path && !run.d.worker_model, .rounds = o->rounds};
    rc = play(&run, err);
    demo_teardown(&run);
    if (!rc) rc = demo_fund_airdrop(&run.fund, err);
    demo_fund_done(&run.fund);
    if (!rc) {
        run.rep.seconds = demo_elapsed();
        rc = demo_summary(&run.rep, o->json) ? GT_DEMO_CHECKS_FAILED : 0;
    }
    json_decref(run.rep.fund);
    gt_agent_model_free(run.model);
    return rc;
}
