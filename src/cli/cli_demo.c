/* cli_demo.c: `gotong demo`: a whole market on one machine, end to end.
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
 *      validators re-run it and vote, the poster's bond is slashed;
 *   4. a subcontract: a worker takes a spec bigger than it wants, posts part
 *      of it as a sub-task paid from its own wallet, verifies and cites it;
 *   5. a data job (cli_demo_work.c): two workers generate a batch each, a
 *      validator judges every sample, accepted samples are paid and rejected
 *      ones slashed, the poster exports the dataset and publishes its root;
 *   6. an evaluation: an evaluator attests a benchmark score, validators
 *      re-execute items and co-sign; a forged score is rejected, disputed
 *      and lost; the leaderboard ranks what was attested.
 * The script decides only who is on line in each round (which is what makes
 * the outcomes the same on every run); claims, work, verdicts, disputes and
 * votes are the agents' own decisions.
 *
 * Determinism: wallets are derived from the agents' public names (demo
 * keys: never use them for real value), the random model is seeded, the
 * inference is bit-exact, so balances, outcomes and reputation are the same
 * every run; block heights and hashes depend on timing (idle blocks). */
#define _GNU_SOURCE /* nftw */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
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
#include "agent/skill_complete.h"
#include "api/api.h"
#include "base/alloc.h"
#include "base/amount.h"
#include "base/file.h"
#include "base/hex.h"
#include "base/progress.h"
#include "cli/cli.h"
#include "cli/cli_demo.h"
#include "crypto/addr.h"
#include "crypto/keccak.h"
#include "crypto/keystore.h"
#include "ledger/ledger.h"
#include "ledger/rules.h"
#include "market/blob.h"
#include "market/market.h"
#include "work/work.h"

/* Genesis time of the demo network (2024-01-01T00:00:00Z). */
#define GT_DEMO_GENESIS_TIME_S 1704067200

#define DEMO_MARKER "gotong-demo.json"     /* what makes a directory a demo home --fresh may wipe */
#define DEMO_PASSWORD "gotong-demo"        /* of every demo keystore (written to HOME/password.txt) */
#define DEMO_MAX_ROUNDS 20
#define DEMO_WAIT_S 180                    /* longest wait for one step of a round */
#define DEMO_DEFAULT_BLOCK_MS 1000
#define DEMO_POLL_MS 100
#define DEMO_N_PREDICT 16
#define DEMO_VOCAB_REL "tokenizer/ggml-vocab-llama-spm.gguf"

/* The cast (the order of cli_demo.h's P_* names). Amounts in base units. */
typedef struct persona {
    const char *name, *role, *skills;
    int roles, faults, max_prompts;
    uint64_t price_units, fund_units, stake_units;
} persona;


static const persona cast[N_PERSONAS] = {
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

void demo_say(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&out_mu);
    vfprintf(progress_out, fmt, ap);
    fputc('\n', progress_out);
    fflush(progress_out);
    pthread_mutex_unlock(&out_mu);
    va_end(ap);
}

double demo_elapsed(void) { return gt_now_s() - t_start; }

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

/* ---- pacing: blocks when only a deadline is left ----
 *
 * Deadlines (a dispute window, a vote) are counted in blocks, and an idle
 * node writes one empty block per --block-ms. The demo knows its cast: once
 * every party that can act on a slot has acted, what is left is waiting, so
 * it writes the blocks itself (gt_node_tick) instead of sitting through
 * idle intervals. It never ticks while someone may still act: a worker that
 * has not yet disputed or conceded a rejection, a validator that has not
 * voted. Ticking only speeds the story up; without it the idle blocks come
 * all the same. */

static gt_node *pace_node; /* the in-process node, while the rounds run */
static demo *pace_demo;
static uint64_t pace_ticks; /* blocks the director wrote */

/* What an agent has decided about rejections so far (disputed + conceded). */
static uint64_t decisions(int who) {
    gt_agent_stats st;
    gt_agent_stats_get(pace_demo->ag[who], &st);
    return st.disputes_opened + st.conceded;
}

/* The persona holding address v, or -1. */
static int persona_of(const json_t *v) {
    gt_addr x;
    if (!json_is_string(v) || gt_addr_parse(json_string_value(v), &x, NULL)) return -1;
    for (int i = 0; i < N_PERSONAS; i++)
        if (gt_addr_eq(&x, gt_agent_address(pace_demo->ag[i]))) return i;
    return -1;
}

/* Validators who may vote on a dispute of this task: not its poster, worker
 * or verifier (the market refuses a party's vote). */
static size_t eligible_voters(const json_t *t, const json_t *sl) {
    size_t n = 0;
    int poster = persona_of(json_object_get(t, "poster")), worker = persona_of(json_object_get(sl, "worker"));
    int verifier = persona_of(json_object_get(t, "verifier"));
    for (int i = 0; i < N_PERSONAS; i++)
        if ((cast[i].roles & GT_ROLE_VALIDATOR) && i != poster && i != worker && i != verifier) n++;
    return n;
}

/* 1 when every slot of t that waits on a deadline has heard from everyone
 * who may act on it: all eligible votes are in, or the rejected worker has
 * decided since base[] was taken. */
static int only_deadline_left(const json_t *t, const uint64_t base[N_PERSONAS]) {
    size_t i;
    const json_t *sl;
    int waiting = 0;
    json_array_foreach(json_object_get(t, "slotList"), i, sl) {
        const char *st = json_string_value(json_object_get(sl, "state"));
        if (!st) return 0;
        if (!strcmp(st, "disputed")) {
            const json_t *votes = json_object_get(json_object_get(sl, "dispute"), "votes");
            if (json_array_size(votes) < eligible_voters(t, sl)) return 0;
            waiting = 1;
        } else if (!strcmp(st, "rejected")) {
            int w = persona_of(json_object_get(sl, "worker"));
            if (w < 0 || decisions(w) <= base[w]) return 0;
            waiting = 1;
        } else if (strcmp(st, "paid") && strcmp(st, "refunded") && strcmp(st, "accepted")) {
            return 0; /* open, claimed or submitted: someone is at work */
        }
    }
    return waiting;
}

/* ---- telling how disputes end ----
 *
 * A dispute may open and close between two looks at its task (a panel
 * closes as soon as its stake has voted), and a lost one reopens the slot
 * under the next attempt. So the director reads how disputes ended from the
 * task's view: the current attempt's "dispute" and the earlier attempts'
 * "pastDisputes", and tells each decided one once. */

#define DEMO_MAX_DISPUTES 64 /* decided disputes told in one demo */

typedef struct told_dispute {
    uint8_t task[32];
    int64_t slot, attempt;
} told_dispute;

static told_dispute told[DEMO_MAX_DISPUTES];
static int n_told;

/* 1 if the dispute of (task, slot, attempt) was told already; else notes it
 * (when there is room) and returns 0. */
static int already_told(const uint8_t task[32], int64_t slot, int64_t attempt) {
    for (int k = 0; k < n_told; k++)
        if (!memcmp(told[k].task, task, 32) && told[k].slot == slot && told[k].attempt == attempt) return 1;
    if (n_told == DEMO_MAX_DISPUTES) return 1; /* more than the script makes: not told */
    memcpy(told[n_told].task, task, 32);
    told[n_told].slot = slot, told[n_told].attempt = attempt;
    n_told++;
    return 0;
}

/* Says in plain words how dispute dj (a view's dispute object, decided) of
 * task id's slot ended: who was right, and where the bonds went. */
static void tell_dispute(const uint8_t id[32], int64_t slot, const json_t *dj, int worker, int poster) {
    const char *w = worker >= 0 ? cast[worker].name : "the worker";
    const char *p = poster >= 0 ? cast[poster].name : "the poster";
    const char *outcome = json_string_value(json_object_get(dj, "outcome"));
    char for_w[GT_CLI_TOKENS_MAX], against_w[GT_CLI_TOKENS_MAX], bond[GT_CLI_TOKENS_MAX];
    gt_cli_json_tokens(dj, "acceptWeight", for_w);
    gt_cli_json_tokens(dj, "rejectWeight", against_w);
    gt_cli_json_tokens(dj, "bond", bond);
    size_t votes = json_array_size(json_object_get(dj, "votes"));
    demo_say("  %6.1fs  dispute over task 0x%02x%02x%02x%02x… slot %lld decided: %zu validator%s re-ran the work, "
             "stake %s for %s, %s against",
             demo_elapsed(), id[0], id[1], id[2], id[3], (long long)slot, votes, votes == 1 ? "" : "s", for_w, w,
             against_w);
    if (outcome && !strcmp(outcome, "worker-won"))
        demo_say("           %s WINS: paid as if accepted, bond back; the rejecter's bond (%s) goes to the "
                 "validators who voted for %s", w, bond, w);
    else if (outcome && !strcmp(outcome, "worker-lost"))
        demo_say("           %s LOSES: the rejection stands; its dispute bond (%s) goes to the validators who voted "
                 "against it, its stake is slashed (to %s, less any verifier's fee), and the slot opens again",
                 w, bond, p);
    else
        demo_say("           no decision: the panel did not reach a verdict by its deadline (%s)", outcome ? outcome : "?");
}

/* Tells the disputes of task t (id) decided since the last look. */
static void watch_disputes(const uint8_t id[32], const json_t *t) {
    int poster = persona_of(json_object_get(t, "poster"));
    size_t i, k;
    const json_t *sl, *dj;
    json_array_foreach(json_object_get(t, "slotList"), i, sl) {
        int64_t slot = json_integer_value(json_object_get(sl, "slot"));
        dj = json_object_get(sl, "dispute");
        const char *outcome = json_string_value(json_object_get(dj, "outcome"));
        if (dj && outcome && strcmp(outcome, "open") &&
            !already_told(id, slot, json_integer_value(json_object_get(sl, "attempt"))))
            tell_dispute(id, slot, dj, persona_of(json_object_get(sl, "worker")), poster);
        json_array_foreach(json_object_get(sl, "pastDisputes"), k, dj) {
            outcome = json_string_value(json_object_get(dj, "outcome"));
            if (outcome && strcmp(outcome, "open") &&
                !already_told(id, slot, json_integer_value(json_object_get(dj, "attempt"))))
                tell_dispute(id, slot, dj, persona_of(json_object_get(dj, "worker")), poster);
        }
    }
}

int demo_wait_task(gt_client *c, const uint8_t id[32], demo_task_pred pred, const void *arg, const char *what,
                   gt_err *err) {
    double until = gt_now_s() + DEMO_WAIT_S;
    json_t *t = NULL;
    uint64_t base[N_PERSONAS] = {0};
    for (int i = 0; pace_demo && i < N_PERSONAS; i++) base[i] = decisions(i);
    while (gt_now_s() < until) {
        json_decref(t);
        t = NULL;
        int rc = gt_client_task(c, id, &t, err);
        if (rc) return rc;
        if (pace_demo) watch_disputes(id, t);
        int p = pred(t, arg);
        if (p) {
            json_decref(t);
            return p > 0 ? 0 : gt_err_set(err, GT_ESTATE, "%s: the task went another way than scripted", what);
        }
        gt_err terr = {0};
        if (pace_node && pace_demo && only_deadline_left(t, base)) {
            if (gt_node_tick(pace_node, &terr))
                demo_say("  (could not write a block: %s; waiting for the node's idle blocks)", terr.msg);
            else
                pace_ticks++;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    char *s = t ? json_dumps(t, JSON_COMPACT) : NULL;
    gt_err_set(err, GT_ESTATE, "%s: not done after %d s; task: %.300s", what, DEMO_WAIT_S, s ? s : "?");
    free(s);
    json_decref(t);
    return GT_ESTATE;
}

static const json_t *slot0(const json_t *t) { return json_array_get(json_object_get(t, "slotList"), 0); }

static int is_addr(const json_t *v, const gt_addr *a) {
    gt_addr x;
    return json_is_string(v) && !gt_addr_parse(json_string_value(v), &x, NULL) && gt_addr_eq(&x, a);
}

int demo_pred_complete(const json_t *t, const void *arg) {
    const char *s = json_string_value(json_object_get(t, "status"));
    if (s && !strcmp(s, "complete")) return 1;
    return s && (!strcmp(s, "cancelled") || !strcmp(s, "expired")) ? -1 : 0;
}

/* The first slot has been submitted by (or is held by) the given worker. */
int demo_pred_submitted_by(const json_t *t, const void *arg) {
    const json_t *sl = slot0(t);
    const char *st = json_string_value(json_object_get(sl, "state"));
    return st && strcmp(st, "open") && strcmp(st, "claimed") && is_addr(json_object_get(sl, "worker"), arg);
}

int demo_pred_claimed_by(const json_t *t, const void *arg) {
    const json_t *sl = slot0(t);
    const char *st = json_string_value(json_object_get(sl, "state"));
    return st && strcmp(st, "open") && is_addr(json_object_get(sl, "worker"), arg);
}

/* The first slot was reopened after a settled rejection. */
int demo_pred_reopened(const json_t *t, const void *arg) {
    const json_t *sl = slot0(t);
    const char *st = json_string_value(json_object_get(sl, "state"));
    return json_integer_value(json_object_get(sl, "attempt")) >= 1 && st && !strcmp(st, "open");
}

/* ---- the rounds ---- */

static void *agent_thread(void *arg) {
    gt_agent *a = arg;
    gt_err err = {0};
    if (gt_agent_run(a, NULL, &err)) demo_say("  %-6s stopped: %s", gt_agent_name(a), err.msg);
    return NULL;
}

void demo_online(demo *d, int who, int on) {
    gt_agent_set_roles(d->ag[who], on ? cast[who].roles | GT_ROLE_WORKER : cast[who].roles);
}

/* Posts a `complete` task from poster with n prompts. */
static int post(demo *d, int poster, int round, int n_prompts, uint64_t bounty, uint64_t stake, int evaluator,
                uint64_t fee, uint8_t id[32], gt_err *err) {
    static const char *const topics[] = {"a lighthouse keeper", "rice terraces at dawn", "a market in Yogyakarta",
                                         "the first rain of the season", "a ferry crossing", "a village meeting"};
    char prompts[8][160];
    const char *ps[8];
    for (int i = 0; i < n_prompts && i < 8; i++) {
        snprintf(prompts[i], sizeof prompts[i], "Round %d, part %d: write one sentence about %s.", round, i + 1,
                 topics[(round * 3 + i) % 6]);
        ps[i] = prompts[i];
    }
    char *spec = gt_complete_spec(d->model_id, ps, n_prompts, DEMO_N_PREDICT);
    if (!spec) return gt_err_set(err, GT_ENOMEM, "out of memory");
    gt_task_terms t = {.kind = "complete", .slots = 1, .bounty_units = bounty, .stake_units = stake};
    if (evaluator >= 0) {
        t.verifier = *gt_agent_address(d->ag[evaluator]);
        t.fee_units = fee;
    }
    int rc = gt_agent_post(d->ag[poster], &t, spec, strlen(spec), id, err);
    free(spec);
    if (rc) return gt_err_wrap(err, "%s posting a task", cast[poster].name);
    char a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX];
    demo_say("  %6.1fs  %-6s posted task 0x%02x%02x%02x%02x… (%d prompt%s, bounty %s, stake %s%s%s)", gt_now_s() - t_start,
        cast[poster].name, id[0], id[1], id[2], id[3], n_prompts, n_prompts > 1 ? "s" : "", gt_amount_format(bounty, a1),
        gt_amount_format(stake, a2), evaluator >= 0 ? ", verified by " : "", evaluator >= 0 ? cast[evaluator].name : "");
    return 0;
}

static int run_rounds(demo *d, int rounds, gt_err *err) {
    uint8_t t[32], sub[32];
    int rc;
    for (int r = 1; r <= rounds; r++) {
        demo_say("\n== round %d.1: accepted work, verified by an evaluator who re-runs it ==", r);
        demo_say("   on line: ana (worker); eko re-runs the result for a fee of 0.5");
        demo_online(d, P_ANA, 1);
        if ((rc = post(d, P_AYU, r, 1, 5000000, 1000000, P_EKO, 500000, t, err)) ||
            (rc = demo_wait_task(d->dir, t, demo_pred_complete, NULL, "round 1: accepted work", err)))
            return rc;
        demo_online(d, P_ANA, 0);

        demo_say("\n== round %d.2: garbage rejected, stake slashed, slot reopened ==", r);
        demo_say("   on line: budi (submits garbage without running the model); later ana");
        demo_online(d, P_BUDI, 1);
        if ((rc = post(d, P_AYU, r, 1, 5000000, 2000000, -1, 0, t, err)) ||
            (rc = demo_wait_task(d->dir, t, demo_pred_submitted_by, gt_agent_address(d->ag[P_BUDI]), "round 2: budi submits", err)))
            return rc;
        demo_online(d, P_BUDI, 0);
        if ((rc = demo_wait_task(d->dir, t, demo_pred_reopened, NULL, "round 2: rejection settled", err))) return rc;
        demo_say("   the slot is open again: ana comes on line");
        demo_online(d, P_ANA, 1);
        if ((rc = demo_wait_task(d->dir, t, demo_pred_complete, NULL, "round 2: redone by ana", err))) return rc;
        demo_online(d, P_ANA, 0);

        demo_say("\n== round %d.3: good work wrongly rejected, disputed, settled by validators re-running it ==", r);
        demo_say("   on line: ana; dewi rejects everything; val-1..3 re-run disputed work and vote");
        demo_online(d, P_ANA, 1);
        if ((rc = post(d, P_DEWI, r, 1, 5000000, 2000000, -1, 0, t, err)) ||
            (rc = demo_wait_task(d->dir, t, demo_pred_complete, NULL, "round 3: dispute", err)))
            return rc;
        demo_online(d, P_ANA, 0);

        demo_say("\n== round %d.4: a subcontract ==", r);
        demo_say("   on line: citra (takes 2 prompts, subcontracts the rest); ana once citra has claimed");
        demo_online(d, P_CITRA, 1);
        if ((rc = post(d, P_AYU, r, 4, 8000000, 2000000, -1, 0, t, err)) ||
            (rc = demo_wait_task(d->dir, t, demo_pred_claimed_by, gt_agent_address(d->ag[P_CITRA]), "round 4: citra claims", err)))
            return rc;
        demo_online(d, P_CITRA, 0);
        demo_online(d, P_ANA, 1);
        if ((rc = demo_wait_task(d->dir, t, demo_pred_complete, NULL, "round 4: parent task", err))) return rc;
        json_t *task = NULL;
        if ((rc = gt_client_task(d->dir, t, &task, err))) return rc;
        json_t *subs = json_object_get(task, "subtasks");
        for (size_t i = 0; i < json_array_size(subs) && !rc; i++) {
            rc = gt_blob_id_parse(json_string_value(json_array_get(subs, i)), sub, err);
            if (!rc) rc = demo_wait_task(d->dir, sub, demo_pred_complete, NULL, "round 4: sub-task", err);
        }
        if (!rc && json_array_size(subs) == 0) rc = gt_err_set(err, GT_ESTATE, "round 4: citra did not subcontract");
        json_decref(task);
        demo_online(d, P_ANA, 0);
        if (rc || (rc = demo_data_round(d, r, err)) || (rc = demo_eval_round(d, r, err))) return rc;
    }
    return 0;
}

/* ---- the command ---- */

static void usage(FILE *f) {
    fprintf(f,
            "usage: gotong demo [--home DIR] [--fresh] [--model M.gguf] [--threads N] [--rounds N] [--json]\n\n"
            "Runs a whole market on this machine: a fresh ledger, funded wallets, the HTTP\n"
            "node in-process, and agents (posters, workers, an evaluator, validators) as\n"
            "threads doing real rounds of work with a local model: accepted work, garbage\n"
            "rejected and slashed, a wrongful rejection overturned by validators re-running\n"
            "the work, a subcontract, a synthetic-data job paid sample by sample with its\n"
            "dataset's Merkle root published, and a model evaluation co-signed by validators\n"
            "(a forged score caught and slashed). Ends with balances, outcomes, reputation,\n"
            "the dataset check and the leaderboard.\n\n"
            "options:\n"
            "  --home DIR        demo data directory (default ~/.gotong-demo)\n"
            "  --fresh           wipe DIR first (only ever a directory an earlier demo made)\n"
            "  --model FILE      a llama/qwen2 GGUF; default: a small random-weight model made\n"
            "                    with `gotong model random` (its outputs are not language)\n"
            "  --vocab FILE      vocabulary GGUF for that random model (default: the fixture\n"
            "                    llama.cpp's ggml-vocab-llama-spm.gguf, which scripts/setup.sh\n"
            "                    puts in the repository's .cache/fixtures/tokenizer)\n"
            "  --threads N       inference threads per agent (default 1)\n"
            "  --rounds N        times to run the six scenes (default 1, at most %d)\n"
            "  --block-ms MS     idle time after which the node writes an empty block (default %d)\n"
            "  --json            progress on stderr, one JSON summary on stdout\n",
            DEMO_MAX_ROUNDS, DEMO_DEFAULT_BLOCK_MS);
}

enum { O_HOME = 1000, O_FRESH, O_MODEL, O_VOCAB, O_THREADS, O_ROUNDS, O_BLOCK, O_JSON, O_HELP };

static int parse_count(const char *s, long lo, long hi, long *out) {
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int cmd_demo(int argc, char **argv) {
    static const struct option opts[] = {
        {"home", required_argument, 0, O_HOME},     {"fresh", no_argument, 0, O_FRESH},
        {"model", required_argument, 0, O_MODEL},   {"vocab", required_argument, 0, O_VOCAB},
        {"threads", required_argument, 0, O_THREADS}, {"rounds", required_argument, 0, O_ROUNDS},
        {"block-ms", required_argument, 0, O_BLOCK}, {"json", no_argument, 0, O_JSON},
        {"help", no_argument, 0, O_HELP},           {0, 0, 0, 0}};
    const char *home_opt = NULL, *model_opt = NULL, *vocab_opt = NULL;
    int fresh = 0, json = 0, c;
    long threads = 1, rounds = 1, block_ms = DEMO_DEFAULT_BLOCK_MS;
    optind = 1;
    opterr = 0; /* our own messages, naming the closest option */
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case O_HOME: home_opt = optarg; break;
        case O_FRESH: fresh = 1; break;
        case O_MODEL: model_opt = optarg; break;
        case O_VOCAB: vocab_opt = optarg; break;
        case O_THREADS:
            if (parse_count(optarg, 1, 64, &threads)) return gt_cli_usage_error("demo", "--threads: expected 1..64");
            break;
        case O_ROUNDS:
            if (parse_count(optarg, 1, DEMO_MAX_ROUNDS, &rounds))
                return gt_cli_usage_error("demo", "--rounds: expected 1..%d", DEMO_MAX_ROUNDS);
            break;
        case O_BLOCK:
            if (parse_count(optarg, 50, 60000, &block_ms)) return gt_cli_usage_error("demo", "--block-ms: expected 50..60000");
            break;
        case O_JSON: json = 1; break;
        case 'h': case O_HELP: usage(stdout); return 0;
        case ':': return gt_cli_usage_error("demo", "%s needs a value", argv[optind - 1]);
        default: return gt_cli_unknown_option("demo", argv[optind - 1], usage);
        }
    }
    if (optind < argc) return gt_cli_usage_error("demo", "unexpected argument \"%s\"", argv[optind]);
    if (!home_opt) home_opt = gt_cli_global_home(); /* --home given before the command, or taken out by main */
    progress_out = json ? stderr : stdout;
    t_start = gt_now_s();
    signal(SIGPIPE, SIG_IGN);

    gt_err err = {0};
    char home[PATH_MAX], path[PATH_MAX + 64], model_path[PATH_MAX + 64], vocab[PATH_MAX];
    if (gt_path_expand(home_opt ? home_opt : "~/.gotong-demo", home, sizeof home, &err)) return gt_cli_fail(&err);
    if (prepare_home(home, fresh, &err)) return gt_cli_fail(&err);
    demo_say("gotong demo: a market of agents on this machine\n  data directory  %s", home);

    /* The model. */
    int random_model = !model_opt;
    if (model_opt) {
        snprintf(model_path, sizeof model_path, "%s", model_opt);
    } else {
        if (vocab_opt) snprintf(vocab, sizeof vocab, "%s", vocab_opt);
        else if (find_vocab(vocab, sizeof vocab)) {
            err.code = GT_ENOTFOUND;
            snprintf(err.msg, sizeof err.msg,
                     "no --model given and no vocabulary found to make a random one (looked for %s under "
                     "$GT_FIXTURES and the repository's .cache/fixtures); run scripts/setup.sh to fetch "
                     "it, or pass --model FILE.gguf or --vocab VOCAB.gguf", DEMO_VOCAB_REL);
            return gt_cli_fail(&err);
        }
        snprintf(path, sizeof path, "%s/models", home);
        snprintf(model_path, sizeof model_path, "%s/models/random-llama-128x2-q8_0.gguf", home);
        if (gt_mkdir_p(path, 0700, &err) || make_random_model(vocab, model_path, (int)threads, &err))
            return gt_cli_fail(&err);
        demo_say("  model           no --model given: made a RANDOM-WEIGHT llama (128 dims, 2 layers, seed 1) with\n"
            "                  `gotong model random --like %s`;\n"
            "                  its outputs are random-weight text, not language (pass --model M.gguf for a real one)",
            vocab);
    }
    gt_agent_model *model = NULL;
    if (gt_agent_model_load(model_path, &model, &err)) return gt_cli_fail(&err);
    demo_say("  model file      %s\n  model id        %s", model_path, gt_agent_model_id(model));

    /* Wallets and genesis. */
    gt_key keys[N_PERSONAS], faucet;
    gt_kdf_params kdf = {GT_KDF_LIGHT_N, 8, 1}; /* light: a demo's keys guard nothing */
    demo_report rep = {.home = home, .model_path = model_path, .model_id = gt_agent_model_id(model),
                       .random_model = random_model, .rounds = (int)rounds};
    int code = 1;
    gt_node *node = NULL;
    demo d = {0};
    d.model_id = gt_agent_model_id(model);
    d.model_hash = gt_agent_model_hash(model);
    snprintf(path, sizeof path, "%s/password.txt", home);
    if (gt_file_write_atomic(path, DEMO_PASSWORD "\n", strlen(DEMO_PASSWORD) + 1, 0600, &err)) goto fail;
    char keyfile[PATH_MAX + 128];
    if (demo_key("faucet", &faucet, &err) ||
        gt_keystore_save(home, &faucet, DEMO_PASSWORD, &kdf, keyfile, sizeof keyfile, &err))
        goto fail;
    for (int i = 0; i < N_PERSONAS; i++) {
        if (demo_key(cast[i].name, &keys[i], &err) ||
            gt_keystore_save(home, &keys[i], DEMO_PASSWORD, &kdf, keyfile, sizeof keyfile, &err))
            goto fail;
    }
    demo_say("  wallets         %d keystores in %s/keystore (light scrypt), password in %s\n"
        "                  (demo keys are derived from the agents' names: never hold real value with them)",
        N_PERSONAS + 1, home, path);
    if (gt_work_register(&err)) goto fail;
    /* A fixed genesis time: every demo run makes the same network (the same
     * genesis hash, which signatures bind), so its action ids and outcome
     * are the same from run to run. Block times still follow the clock. */
    gt_genesis g = {.chain_id = GT_DEFAULT_CHAIN_ID, .unbonding_blocks = GT_DEFAULT_UNBONDING_BLOCKS,
                    .time_s = GT_DEMO_GENESIS_TIME_S};
    gt_key_address(&faucet, &g.authority);
    snprintf(path, sizeof path, "%s/ledger.db", home);
    if (gt_ledger_create(path, &g, &err)) goto fail;

    /* The node, in-process, on a port of its own. */
    gt_node_config nc;
    gt_node_config_default(&nc);
    nc.home = home;
    nc.listen = "127.0.0.1:0";
    nc.threads = 4;
    nc.block_interval_ms = (uint64_t)block_ms;
    nc.access_log = 0;
    if (gt_node_start(&nc, &node, &err)) goto fail;
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)gt_node_port(node));
    demo_say("  node            %s (in-process; an empty block after %ld ms idle)", url, block_ms);
    if (gt_client_new(url, &d.dir, &err)) goto fail;

    /* Fund everyone from the faucet; validators stake. */
    for (int i = 0; i < N_PERSONAS; i++) {
        gt_addr a;
        gt_key_address(&keys[i], &a);
        amount_args m = {&a, cast[i].fund_units};
        if (gt_client_act(d.dir, &faucet, &gt_kind_mint, fill_amount, &m, NULL, NULL, &err)) goto fail;
        rep.minted_units += cast[i].fund_units;
        if (cast[i].stake_units) {
            amount_args s = {NULL, cast[i].stake_units};
            if (gt_client_act(d.dir, &keys[i], &gt_kind_stake, fill_amount, &s, NULL, NULL, &err)) goto fail;
        }
    }
    demo_say("\n  %-6s %-58s %-42s %s", "agent", "role", "address", "funded");
    for (int i = 0; i < N_PERSONAS; i++) {
        demo_party *p = &rep.parties[rep.n_parties++];
        p->name = cast[i].name;
        p->role = cast[i].role;
        gt_key_address(&keys[i], &p->addr);
        gt_client_acct acc;
        if (gt_client_account(d.dir, &p->addr, &acc, &err)) goto fail;
        p->before_balance = acc.balance_units, p->before_staked = acc.staked_units, p->before_locked = acc.locked_units;
        char as[43], a1[GT_AMOUNT_STR_MAX], a2[GT_AMOUNT_STR_MAX];
        gt_addr_to_str(&p->addr, as);
        demo_say("  %-6s %-58s %s %s%s%s", p->name, p->role, as, gt_amount_format(cast[i].fund_units, a1),
            cast[i].stake_units ? ", staked " : "", cast[i].stake_units ? gt_amount_format(cast[i].stake_units, a2) : "");
    }

    /* The agents, as threads of the agent runtime. */
    char datasets[PATH_MAX + 16];
    snprintf(datasets, sizeof datasets, "%s/datasets", home);
    demo_say("\n  starting %d agents (each registers its card, then watches the market)", N_PERSONAS);
    for (int i = 0; i < N_PERSONAS; i++) {
        gt_agent_config ac = {.name = cast[i].name, .skills = cast[i].skills, .price_units = cast[i].price_units,
                              .roles = cast[i].roles, .faults = cast[i].faults, .model = model,
                              .n_threads = (int)threads, .max_prompts = cast[i].max_prompts, .poll_ms = DEMO_POLL_MS,
                              .log = agent_log, .datasets_dir = i == P_AYU ? datasets : NULL};
        if (gt_agent_new(&ac, &keys[i], url, &d.ag[i], &err)) goto fail;
        if (gt_agent_register(d.ag[i], &err)) goto fail;
    }
    for (int i = 0; i < N_PERSONAS; i++) {
        if (pthread_create(&d.th[i], NULL, agent_thread, d.ag[i])) {
            gt_err_set(&err, GT_EIO, "cannot start a thread for %s", cast[i].name);
            goto fail;
        }
        d.started[i] = 1;
    }
    pace_node = node, pace_demo = &d; /* from here on the director may write blocks (pacing above) */
    int failed = run_rounds(&d, (int)rounds, &err);
    pace_node = NULL, pace_demo = NULL;
    if (failed) goto fail;
    if (pace_ticks)
        demo_say("\n  the director wrote %llu empty blocks to pass deadlines once everyone had acted (instead of\n"
                 "  waiting %ld ms for each idle block)", (unsigned long long)pace_ticks, block_ms);
    code = 0;
fail:
    for (int i = 0; i < N_PERSONAS; i++)
        if (d.ag[i]) gt_agent_stop(d.ag[i]);
    for (int i = 0; i < N_PERSONAS; i++)
        if (d.started[i]) pthread_join(d.th[i], NULL);
    for (int i = 0; i < N_PERSONAS; i++) gt_agent_free(d.ag[i]);
    gt_client_free(d.dir);
    gt_node_stop(node);
    for (int i = 0; i < N_PERSONAS; i++) gt_key_wipe(&keys[i]);
    gt_key_wipe(&faucet);
    if (code) {
        gt_agent_model_free(model);
        return gt_cli_fail(&err);
    }
    rep.seconds = gt_now_s() - t_start;
    code = demo_summary(&rep, json);
    gt_agent_model_free(model);
    return code;
}

GT_CLI_COMMAND(demo_cmd, "demo", "run a whole market of agents on this machine, end to end", cmd_demo)
