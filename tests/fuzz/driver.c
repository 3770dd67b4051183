/* driver.c: runs a libFuzzer-style target without libFuzzer (gcc builds, ctest).
 *
 * usage: fuzz_X CORPUS_DIR [ITERATIONS]
 * Feeds every file in CORPUS_DIR as is, then ITERATIONS deterministic mutations
 * of them (bit flips, byte sets, truncations, splices, interesting values), so
 * each ctest run exercises the parser on malformed input under the sanitizers.
 * For coverage-guided fuzzing build with `make fuzz` (clang + libFuzzer). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_SEEDS 256
#define MAX_SEED_BYTES (1 << 20)

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR [ITERATIONS]\n", argv[0]);
        return 2;
    }
    long iters = argc > 2 ? atol(argv[2]) : 10000;
    uint8_t *seeds[MAX_SEEDS];
    size_t sizes[MAX_SEEDS];
    int n = 0;
    DIR *d = opendir(argv[1]);
    if (!d) {
        fprintf(stderr, "cannot open corpus %s\n", argv[1]);
        return 2;
    }
    struct dirent *e;
    while ((e = readdir(d)) && n < MAX_SEEDS) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        uint8_t *buf = malloc(MAX_SEED_BYTES);
        size_t len = fread(buf, 1, MAX_SEED_BYTES, f);
        fclose(f);
        seeds[n] = buf;
        sizes[n] = len;
        n++;
    }
    closedir(d);
    if (n == 0) {
        fprintf(stderr, "corpus %s is empty\n", argv[1]);
        return 2;
    }
    for (int i = 0; i < n; i++) LLVMFuzzerTestOneInput(seeds[i], sizes[i]);
    uint8_t *buf = malloc(2 * MAX_SEED_BYTES);
    static const uint8_t interesting[] = {0, 1, 0x7f, 0x80, 0xff, '"', '{', '}', '[', ']', ',', ':', '0', '9', '-', '.', 'e'};
    for (long it = 0; it < iters; it++) {
        int s = (int)(rnd() % (uint64_t)n);
        size_t len = sizes[s];
        memcpy(buf, seeds[s], len);
        int muts = 1 + (int)(rnd() % 8);
        for (int m = 0; m < muts; m++) {
            switch (rnd() % 6) {
            case 0: if (len) buf[rnd() % len] ^= (uint8_t)(1u << (rnd() % 8)); break;
            case 1: if (len) buf[rnd() % len] = interesting[rnd() % sizeof interesting]; break;
            case 2: if (len) len = rnd() % len; break;
            case 3: { /* splice a piece of another seed in */
                int o = (int)(rnd() % (uint64_t)n);
                if (!sizes[o] || !len) break;
                size_t at = rnd() % len, from = rnd() % sizes[o];
                size_t k = rnd() % (sizes[o] - from) + 1;
                if (at + k > 2 * MAX_SEED_BYTES) break;
                memcpy(buf + at, seeds[o] + from, k);
                if (at + k > len) len = at + k;
                break;
            }
            case 4: if (len) { size_t at = rnd() % len; memset(buf + at, 0xff, (len - at) < 8 ? len - at : 8); } break;
            case 5: if (len > 1) { size_t a = rnd() % len, b = rnd() % len; uint8_t t = buf[a]; buf[a] = buf[b]; buf[b] = t; } break;
            }
        }
        LLVMFuzzerTestOneInput(buf, len);
    }
    printf("%s: %d seeds, %ld mutations, no crash\n", argv[0], n, iters);
    for (int i = 0; i < n; i++) free(seeds[i]);
    free(buf);
    return 0;
}
