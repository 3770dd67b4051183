/* test_train_task.c: the market task kind "train" (work/train_task.h)
 * without a node: the spec and its refusals, the manifest, the draw of
 * stretches, and the property everything rests on -- a stretch re-executed
 * from an intermediate checkpoint, on another thread count, ends in the
 * same bytes as the uninterrupted run; other data is refused by its root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../test.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "base/file.h"
#include "base/json.h"
#include "crypto/keccak.h"
#include "crypto/merkle.h"
#include "crypto/sha256.h"
#include "infer/gguf.h"
#include "train/bpe.h"
#include "work/train_task.h"

static char dir[64];

static gt_train_task sample_task(void) {
    gt_train_task t;
    memset(&t, 0, sizeof t);
    for (int i = 0; i < 32; i++) t.base[i] = 1, t.vocab[i] = 2, t.dataset[i] = 3, t.root[i] = (uint8_t)i;
    t.steps = 12, t.every = 3, t.checks = 2, t.run.accum = 2;
    t.run.opt = gt_train_opt_default();
    t.run.opt.lr = 3e-3f, t.run.opt.min_lr = 1e-4f, t.run.opt.warmup_steps = 2, t.run.opt.total_steps = 100;
    t.run.opt.weight_decay = 0.05f, t.run.opt.clip_norm = 0.7f;
    return t;
}

static json_t *parse(const char *s) {
    json_t *o = NULL;
    gt_json_parse(s, strlen(s), 1 << 16, &o, NULL);
    return o;
}

/* Parses spec text with `field` set to the JSON `value`; the error code. */
static int parse_with(const char *field, const char *value, gt_err *err) {
    gt_train_task t = sample_task(), back;
    char *s = gt_train_task_spec(&t);
    json_t *o = parse(s), *v = json_loads(value, JSON_DECODE_ANY, NULL);
    json_t *at = strncmp(field, "config.", 7) ? o : json_object_get(o, "config");
    json_object_set_new(at, strncmp(field, "config.", 7) ? field : field + 7, v);
    int rc = gt_train_task_parse(o, &back, err);
    json_decref(o), free(s);
    return rc;
}

static void test_spec(void) {
    gt_train_task t = sample_task(), back;
    gt_err err = {0};
    char *s = gt_train_task_spec(&t);
    json_t *o = parse(s);
    CHECK_MSG(gt_train_task_parse(o, &back, &err) == 0, "parse: %s", err.msg);
    CHECK(!memcmp(back.base, t.base, 32) && !memcmp(back.root, t.root, 32) && !memcmp(back.dataset, t.dataset, 32));
    CHECK_EQ_INT(back.steps, 12); CHECK_EQ_INT(back.every, 3); CHECK_EQ_INT(back.checks, 2);
    CHECK_EQ_INT(back.run.accum, 2);
    /* The f32 settings come back as the same bits. */
    CHECK(!memcmp(&back.run.opt.lr, &t.run.opt.lr, 4) && !memcmp(&back.run.opt.min_lr, &t.run.opt.min_lr, 4));
    CHECK(!memcmp(&back.run.opt.clip_norm, &t.run.opt.clip_norm, 4));
    CHECK(!memcmp(&back.run.opt.weight_decay, &t.run.opt.weight_decay, 4));
    json_decref(o), free(s);
    CHECK(parse_with("extra", "1", &err) == GT_EINVAL); CHECK_CONTAINS(err.msg, "extra");
    CHECK(parse_with("steps", "10", &err) == GT_EINVAL); CHECK_CONTAINS(err.msg, "a multiple of every");
    CHECK(parse_with("every", "1", &err) == 0);
    CHECK(parse_with("steps", "192", &err) == 0);
    CHECK(parse_with("steps", "195", &err) == GT_EINVAL); CHECK_CONTAINS(err.msg, "at most 64 stretches");
    CHECK(parse_with("checks", "0", &err) == GT_EINVAL);
    CHECK(parse_with("base", "\"0x12\"", &err) == GT_EINVAL); CHECK_CONTAINS(err.msg, "spec.base");
    CHECK(parse_with("config.lr", "\"1e9\"", &err) == GT_EINVAL); CHECK_CONTAINS(err.msg, "spec.config.lr");
    CHECK(parse_with("config.lr", "\"nan\"", &err) == GT_EINVAL);
    CHECK(parse_with("config.lr", "0.001", &err) == GT_EINVAL); /* a number, not text: refused */
    CHECK(parse_with("config.minLr", "\"0.5\"", &err) == GT_EINVAL); CHECK_CONTAINS(err.msg, "above lr");
    CHECK(parse_with("config.accum", "0", &err) == GT_EINVAL);
}

static void test_manifest(void) {
    gt_train_task t = sample_task();
    gt_train_manifest m = {.n = 4}, back;
    gt_err err = {0};
    memcpy(m.base, t.base, 32);
    for (int i = 0; i < 4; i++) memset(m.ckpt[i], 0x10 + i, 32);
    char *s = gt_train_manifest_json(&m);
    CHECK_MSG(gt_train_manifest_parse((const uint8_t *)s, strlen(s), &t, &back, &err) == 0, "%s", err.msg);
    CHECK_EQ_INT(back.n, 4);
    CHECK(!memcmp(back.ckpt, m.ckpt, sizeof m.ckpt));
    free(s);
    m.n = 3; /* fewer checkpoints than steps / every */
    s = gt_train_manifest_json(&m);
    CHECK(gt_train_manifest_parse((const uint8_t *)s, strlen(s), &t, &back, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "expected an array of 4");
    free(s);
    m.n = 4, m.base[0] ^= 1; /* another base model */
    s = gt_train_manifest_json(&m);
    CHECK(gt_train_manifest_parse((const uint8_t *)s, strlen(s), &t, &back, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "another model");
    free(s);
    CHECK(gt_train_manifest_parse((const uint8_t *)"[]", 2, &t, &back, &err) == GT_EINVAL);
}

static void test_draw(void) {
    uint8_t what[32], r[32];
    int idx[16], seen_other = 0, first = -1;
    memset(r, 7, 32);
    gt_train_task_draw_what(r, 0, 0, r, what);
    for (uint64_t secret = 0; secret < 50; secret++) {
        int k = gt_train_task_draw(what, secret, 10, 3, idx);
        CHECK_EQ_INT(k, 3);
        CHECK(idx[0] != idx[1] && idx[0] != idx[2] && idx[1] != idx[2]);
        for (int i = 0; i < k; i++) CHECK(idx[i] >= 0 && idx[i] < 10);
        if (first < 0) first = idx[0];
        seen_other |= idx[0] != first;
    }
    CHECK(seen_other); /* the secret moves the draw */
    /* More checks than stretches: each stretch once. */
    int k = gt_train_task_draw(what, 1, 4, 16, idx), mask = 0;
    CHECK_EQ_INT(k, 4);
    for (int i = 0; i < k; i++) mask |= 1 << idx[i];
    CHECK_EQ_INT(mask, 15);
    /* Same inputs, same draw. */
    int again[16];
    gt_train_task_draw(what, 9, 10, 3, idx), gt_train_task_draw(what, 9, 10, 3, again);
    CHECK(!memcmp(idx, again, 3 * sizeof(int)));
}

/* A dataset of sums (its Merkle root into t->root, its bytes into *d), its
 * BPE vocabulary and a seeded base checkpoint, under dir. */
static void make_inputs(gt_train_task *t, gt_buf *d, char *vocab, char *base) {
    uint8_t leaves[48][32];
    char line[96];
    gt_err err = {0};
    for (int i = 0; i < 48; i++) {
        int n = snprintf(line, sizeof line, "{\"completion\":\"%d\",\"prompt\":\"%d+%d=\"}", i % 11 + i % 7,
                         i % 11, i % 7);
        gt_keccak256(line, (size_t)n, leaves[i]);
        gt_buf_append(d, line, (size_t)n), gt_buf_append(d, "\n", 1);
    }
    gt_merkle_root((const uint8_t(*)[32])leaves, 48, t->root);
    gt_sha256(d->data, d->len, t->dataset);
    gt_bpe_vocab v = {0};
    snprintf(vocab, 128, "%s/vocab.gguf", dir), snprintf(base, 128, "%s/base.ckpt", dir);
    CHECK(gt_bpe_train(d->data, d->len, 280, &v, &err) == 0);
    CHECK(gt_bpe_write_gguf(&v, "sums", vocab, &err) == 0);
    gt_train_hparams hp = {.n_vocab = v.n_tokens, .dim = 32, .n_layer = 1, .n_head = 2, .n_head_kv = 1, .n_ff = 64,
                           .seq_len = 12, .batch = 3, .seed = 11};
    gt_bpe_free(&v);
    gt_trainer *tr = NULL;
    CHECK(gt_trainer_new(&hp, 1, &tr, &err) == 0);
    CHECK(tr && gt_trainer_save_checkpoint(tr, base, &err) == 0);
    gt_trainer_free(tr);
    const char *files[2] = {vocab, base};
    uint8_t *h[2] = {t->vocab, t->base};
    for (int i = 0; i < 2; i++) {
        uint8_t *b = NULL;
        size_t n = 0;
        CHECK(gt_file_read(files[i], 1u << 24, &b, &n, &err) == 0);
        gt_sha256(b, n, h[i]);
        gt_free(b);
    }
}

static void test_stretch(void) {
    gt_train_task t = sample_task();
    gt_buf d = GT_BUF_INIT;
    char vocab[128], base[128], p2[160], p4[160], q4[160];
    gt_train_task_data data = {0};
    gt_trainer *a = NULL, *b = NULL;
    gt_err err = {0};
    uint8_t h2[32], h4[32], g4[32];
    int s0 = -1;
    make_inputs(&t, &d, vocab, base);
    t.steps = 4, t.every = 2, t.run.opt.total_steps = 4;
    snprintf(p2, sizeof p2, "%s/a2.ckpt", dir), snprintf(p4, sizeof p4, "%s/a4.ckpt", dir);
    snprintf(q4, sizeof q4, "%s/b4.ckpt", dir);
    CHECK_MSG(gt_train_task_data_load(&t, vocab, d.data, d.len, &data, &err) == 0, "data: %s", err.msg);
    /* The worker's run on one thread: checkpoints after steps 2 and 4. */
    CHECK_MSG(gt_train_task_start(&t, &data, base, -1, 1, &a, &s0, &err) == 0, "start: %s", err.msg);
    CHECK_EQ_INT(s0, 0);
    CHECK(a && gt_train_task_advance(&t, &data, a, 2, p2, h2, &err) == 0);
    CHECK(a && gt_train_task_advance(&t, &data, a, 4, p4, h4, &err) == 0);
    /* A verifier on three threads re-executes steps 3..4 from the step-2 checkpoint. */
    CHECK_MSG(gt_train_task_start(&t, &data, p2, 2, 3, &b, NULL, &err) == 0, "restart: %s", err.msg);
    CHECK(b && gt_train_task_advance(&t, &data, b, 4, q4, g4, &err) == 0);
    CHECK_MSG(!memcmp(g4, h4, 32), "a re-executed stretch must end in the same bytes");
    CHECK(memcmp(h2, h4, 32) != 0);
    gt_trainer_free(b), b = NULL;
    /* The same checkpoint named as another step: refused. */
    CHECK(gt_train_task_start(&t, &data, p2, 3, 1, &b, NULL, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "at step 2: expected step 3");
    int step = 0;
    CHECK(gt_train_task_ckpt_step(p4, gt_trainer_hparams(a), &step, &err) == 0 && step == 4);
    /* A schedule that ends before the task does: refused. */
    t.run.opt.total_steps = 3;
    CHECK(gt_train_task_start(&t, &data, base, -1, 1, &b, NULL, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "totalSteps");
    gt_train_task_data_free(&data);
    /* Rows that are not the committed ones: refused by the root. */
    d.data[10] ^= 1;
    gt_sha256(d.data, d.len, t.dataset);
    CHECK(gt_train_task_data_load(&t, vocab, d.data, d.len, &data, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "Merkle root");
    /* A vocabulary file that is not spec.vocab: refused. */
    d.data[10] ^= 1;
    gt_sha256(d.data, d.len, t.dataset);
    t.vocab[0] ^= 1;
    CHECK(gt_train_task_data_load(&t, vocab, d.data, d.len, &data, &err) == GT_EINVAL);
    CHECK_CONTAINS(err.msg, "spec.vocab");
    gt_trainer_free(a);
    gt_buf_free(&d);
}

/* Peak resident memory of this process so far, in KiB. */
static long peak_kib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* A checkpoint's header alone (no tensors): keys claiming hp's shapes at step. */
static void write_header_only(const char *path, const gt_train_hparams *hp, uint32_t step) {
    gt_gguf_writer *w = gt_gguf_writer_new();
    gt_err err = {0};
    gt_gguf_writer_set_str(w, "general.architecture", "gotong-train-checkpoint");
    const char *keys[] = {"train.vocab", "train.dim", "train.layers", "train.heads", "train.kv_heads", "train.ff",
                          "train.seq", "train.batch"};
    int vals[] = {hp->n_vocab, hp->dim, hp->n_layer, hp->n_head, hp->n_head_kv, hp->n_ff, hp->seq_len, hp->batch};
    for (int i = 0; i < 8; i++) gt_gguf_writer_set_u32(w, keys[i], (uint32_t)vals[i]);
    gt_gguf_writer_set_f32(w, "train.rope_base", 10000.0f), gt_gguf_writer_set_f32(w, "train.rms_eps", 1e-5f);
    gt_gguf_writer_set_f32(w, "train.init_std", 0.02f), gt_gguf_writer_set_u32(w, "train.seed_lo", 11);
    gt_gguf_writer_set_u32(w, "train.seed_hi", 0), gt_gguf_writer_set_u32(w, "train.step", step);
    CHECK_MSG(gt_gguf_writer_write(w, path, &err) == 0, "write: %s", err.msg);
    gt_gguf_writer_free(w);
}

/* Sets the u32 key `key` of the GGUF file at path to v in place (its bytes: the key, type 4, the value). */
static void patch_u32(const char *path, const char *key, uint32_t v) {
    uint8_t *b = NULL;
    size_t n = 0, k = strlen(key);
    gt_err err = {0};
    CHECK(gt_file_read(path, 1u << 24, &b, &n, &err) == 0);
    int done = 0;
    for (size_t i = 0; b && i + k + 8 <= n && !done; i++)
        if (!memcmp(b + i, key, k) && b[i + k] == 4 && !b[i + k + 1] && !b[i + k + 2] && !b[i + k + 3])
            memcpy(b + i + k + 4, &v, 4), done = 1; /* GGUF is little-endian, as is x86-64 */
    CHECK_MSG(done, "key %s not found", key);
    CHECK(gt_file_write_atomic(path, b, n, 0600, &err) == 0);
    gt_free(b);
}

/* A hostile worker's checkpoint: a header of a few hundred bytes claiming a
 * model of 75 M parameters. The verifier compares it with the base from its
 * header alone; it used to load it whole first, allocating the model and
 * initialising its weights (300 MiB resident, seconds of work) per such
 * file before finding no tensors. And a hostile poster's base whose shapes
 * are fine but whose seq x batch needs more than GT_TRAIN_TASK_MAX_MEM_BYTES
 * to train: refused before anything is allocated. */
static void test_hostile_checkpoint(void) {
    char fake[160], vocab[128], base[128];
    gt_err err = {0};
    gt_train_hparams big = {.n_vocab = 16384, .dim = 1024, .n_layer = 4, .n_head = 16, .n_head_kv = 16,
                            .n_ff = 2048, .seq_len = 16, .batch = 1, .seed = 11};
    gt_train_hparams small = {.n_vocab = 280, .dim = 32, .n_layer = 1, .n_head = 2, .n_head_kv = 1, .n_ff = 64,
                              .seq_len = 12, .batch = 3, .seed = 11};
    snprintf(fake, sizeof fake, "%s/fake.ckpt", dir);
    write_header_only(fake, &big, 3);
    long before = peak_kib();
    int step = -1, rc = gt_train_task_ckpt_step(fake, &small, &step, &err);
    long grew = peak_kib() - before;
    CHECK_EQ_INT(rc, GT_EINVAL);
    CHECK_MSG(grew < 64 * 1024, "a checkpoint of no tensors made the verifier's peak memory grow by %ld KiB", grew);
    gt_trainer *tr = NULL;
    CHECK(gt_trainer_load_checkpoint(fake, 1, &tr, &err) == GT_EINVAL && !tr);
    CHECK_CONTAINS(err.msg, "tensors hold 0 bytes");
    CHECK_MSG(peak_kib() - before < 64 * 1024, "loading it grew the peak by %ld KiB", peak_kib() - before);
    /* The poster's base: real tensors, seq 4096 x batch 32 (attention alone 4.3 GiB). */
    gt_train_task t = sample_task();
    gt_buf d = GT_BUF_INIT;
    gt_train_task_data data = {0};
    make_inputs(&t, &d, vocab, base);
    CHECK(gt_train_task_data_load(&t, vocab, d.data, d.len, &data, &err) == 0);
    patch_u32(base, "train.seq", 4096), patch_u32(base, "train.batch", 32);
    before = peak_kib();
    rc = gt_train_task_start(&t, &data, base, -1, 1, &tr, NULL, &err);
    CHECK_MSG(rc == GT_ELIMIT, "rc %d: %s", rc, err.msg);
    CHECK_CONTAINS(err.msg, "a train task may need at most 4096 MiB");
    CHECK_MSG(peak_kib() - before < 64 * 1024, "refusing it grew the peak by %ld KiB", peak_kib() - before);
    gt_trainer_free(tr);
    gt_train_task_data_free(&data);
    gt_buf_free(&d);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/gt-test-train-task-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN(test_spec);
    RUN(test_manifest);
    RUN(test_draw);
    RUN(test_stretch);
    RUN(test_hostile_checkpoint);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) fprintf(stderr, "could not remove %s\n", dir);
    return gt_test_finish();
}
