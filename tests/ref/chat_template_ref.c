/* chat_template_ref.c: llama.cpp's rendering of a chat template, the
 * reference test_chat_template compares gotong's interpreter with.
 *
 *   chat_template_ref TEMPLATE.jinja OUT
 *
 * Renders the fixed conversation below (the same as in
 * tests/infer/test_chat_template.c) with llama_chat_apply_template, which
 * recognises common templates by their text, and writes the prompt to OUT;
 * when llama.cpp does not recognise the template, writes nothing and exits
 * 3. Built and run by scripts/fixtures.sh against .cache/libllama. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llama.h"

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    if (s) s[n] = 0;
    return s;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: chat_template_ref TEMPLATE.jinja OUT\n");
        return 2;
    }
    char *tmpl = slurp(argv[1]);
    if (!tmpl) {
        fprintf(stderr, "chat_template_ref: cannot read %s\n", argv[1]);
        return 1;
    }
    const struct llama_chat_message chat[] = {
        {"system", "Be brief."},
        {"user", "Hello,\nworld \xc3\xa9\xc3\xa8"},
        {"assistant", "Hi."},
        {"user", "2+2?"},
    };
    static char buf[1 << 16];
    int32_t n = llama_chat_apply_template(tmpl, chat, 4, true, buf, (int32_t)sizeof buf);
    free(tmpl);
    if (n < 0) return 3;
    if (n >= (int32_t)sizeof buf) {
        fprintf(stderr, "chat_template_ref: output too long\n");
        return 1;
    }
    FILE *f = fopen(argv[2], "wb");
    if (!f || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f)) {
        fprintf(stderr, "chat_template_ref: cannot write %s\n", argv[2]);
        return 1;
    }
    return 0;
}
