/*
 * generate.c — generate text with a recurrent language model through libd2l.
 *
 *     generate MODEL.onnx PREFIX NUM_TOKENS [--temperature T] [--top-k K] [--seed S]
 *
 * e.g. `generate gru-lm.onnx "time traveller" 50`. The model follows docs/FORMAT.md's
 * recurrent convention and carries its vocabulary in `d2l.vocab`. Temperature 0 (the
 * default) is greedy, as the book's predict_ch8; a positive temperature samples from
 * the top K tokens (0 = all, the default) with the SplitMix64 seed S (default 0), so
 * the same arguments give the same text everywhere.
 *
 * Prints the prefix followed by the generated tokens and a newline. Exit status: 0 on
 * success, 1 on a failure (the message goes to stderr), 2 on bad command-line arguments.
 */
#include "d2l.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int usage(const char *message) {
    fprintf(stderr, "generate: %s\n", message);
    fprintf(stderr, "usage: generate MODEL.onnx PREFIX NUM_TOKENS [--temperature T] [--top-k K] [--seed S]\n");
    return 2;
}

static int parse_u64(const char *text, uint64_t *out) {
    if (text[0] == '-' || text[0] == '\0') return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno != 0 || *end != '\0') return 0;
    *out = (uint64_t)v;
    return 1;
}

int main(int argc, char **argv) {
    if (argc < 4) return usage("missing arguments");
    const char *model_path = argv[1];
    const char *prefix = argv[2];
    uint64_t num_tokens = 0, top_k = 0, seed = 0;
    float temperature = 0.0f;
    if (!parse_u64(argv[3], &num_tokens) || num_tokens > SIZE_MAX) return usage("NUM_TOKENS must be a non-negative integer");
    for (int i = 4; i < argc; i += 2) {
        if (i + 1 >= argc) return usage("an option lacks its value");
        const char *option = argv[i], *value = argv[i + 1];
        if (strcmp(option, "--temperature") == 0) {
            char *end = NULL;
            temperature = strtof(value, &end);
            if (end == value || *end != '\0') return usage("--temperature takes a number");
        } else if (strcmp(option, "--top-k") == 0) {
            if (!parse_u64(value, &top_k) || top_k > SIZE_MAX) return usage("--top-k takes a non-negative integer");
        } else if (strcmp(option, "--seed") == 0) {
            if (!parse_u64(value, &seed)) return usage("--seed takes a non-negative integer");
        } else {
            return usage("unknown option");
        }
    }

    d2l_model *model = NULL;
    if (d2l_model_load_file(model_path, &model) != D2L_OK) {
        fprintf(stderr, "generate: %s\n", d2l_last_error());
        return 1;
    }
    d2l_session *session = NULL;
    if (d2l_session_create(model, &session) != D2L_OK) {
        fprintf(stderr, "generate: %s\n", d2l_last_error());
        d2l_model_free(model);
        return 1;
    }
    char *text = NULL;
    d2l_status status = d2l_generate(session, prefix, (size_t)num_tokens, temperature, (size_t)top_k, seed, &text);
    int rc = 0;
    if (status != D2L_OK) {
        fprintf(stderr, "generate: %s: %s\n", d2l_status_string(status), d2l_last_error());
        rc = 1;
    } else {
        printf("%s\n", text);
    }
    d2l_text_free(text);
    d2l_session_free(session);
    d2l_model_free(model);
    return rc;
}
