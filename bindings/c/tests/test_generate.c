/*
 * test_generate.c — checks of d2l_generate, d2l_text_free and d2l_classify.
 *
 *     test_generate [REPO_ROOT]
 *
 * Uses the committed language-model fixtures (Tests/Fixtures/{gru,lstm,rnn}-lm-opset17,
 * untrained weights: the checks are about determinism and properties, not the text),
 * models/lenet-fashion.onnx for classification, and copies of them whose metadata is
 * edited through protobuf-c for the bad-vocabulary cases. Prints "ok - ..." /
 * "FAIL - ..." lines and ends with "N passed, M failed".
 */
#include "d2l.h"
#include "onnx.pb-c.h"
#include "check.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Generates and returns new text (malloc'ed copy) or NULL, recording status. */
static char *gen(d2l_session *s, const char *prefix, size_t n, float t, size_t k, uint64_t seed, d2l_status *status) {
    char *text = NULL;
    *status = d2l_generate(s, prefix, n, t, k, seed, &text);
    if (*status != D2L_OK) return NULL;
    char *copy = strdup(text);
    d2l_text_free(text);
    return copy;
}

/** The string value after `"key": "` at or after `from` (no escapes: the fixture's
 *  texts are plain lowercase letters and spaces), as a malloc'ed copy; *end is set past it. */
static char *json_string_after(const char *from, const char *key, const char **end) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\": \"", key);
    const char *start = strstr(from, pattern);
    if (!start) return NULL;
    start += strlen(pattern);
    const char *stop = strchr(start, '"');
    if (!stop) return NULL;
    *end = stop + 1;
    return strndup(start, (size_t)(stop - start));
}

/** Greedy text from C equals the book's predict_ch8 in PyTorch for the same trained weights
 *  (Tests/Fixtures/generate-gru-char/expected.json, written by tools/fixtures/make-generation-fixtures). */
static void test_predict_ch8(void) {
    char *model_path = path_of("Tests/Fixtures/generate-gru-char/model.onnx");
    char *expected_path = path_of("Tests/Fixtures/generate-gru-char/expected.json");
    size_t size = 0;
    char *json = (char *)read_file(expected_path, &size);
    d2l_model *model = NULL;
    d2l_session *session = NULL;
    if (check(json != NULL, "read %s", expected_path)
        && check_status(d2l_model_load_file(model_path, &model), D2L_OK, model_path)
        && check_status(d2l_session_create(model, &session), D2L_OK, "session")) {
        json[size] = 0;
        const char *cursor = json;
        int cases = 0;
        for (;;) {
            const char *after_prefix, *after_text;
            char *prefix = json_string_after(cursor, "prefix", &after_prefix);
            if (!prefix) break;
            char *want = json_string_after(after_prefix, "text", &after_text);
            const char *n_text = strstr(after_prefix, "\"num_tokens\": ");
            size_t n = n_text ? (size_t)strtoul(n_text + 14, NULL, 10) : 0;
            d2l_status status;
            char *got = gen(session, prefix, n, 0.0f, 0, 0, &status);
            check(got && want && strcmp(got, want) == 0, "predict_ch8(\"%s\", %zu): \"%s\" == \"%s\"", prefix, n,
                  got ? got : d2l_last_error(), want ? want : "(missing)");
            free(got);
            free(want);
            free(prefix);
            cursor = after_text ? after_text : after_prefix;
            cases++;
            if (!want) break;
        }
        check(cases >= 2, "expected.json has the predict_ch8 cases (%d)", cases);
    }
    d2l_session_free(session);
    d2l_model_free(model);
    free(json);
    free(model_path);
    free(expected_path);
}

static void test_lm(const char *fixture) {
    char rel[256];
    snprintf(rel, sizeof rel, "Tests/Fixtures/%s/model.onnx", fixture);
    char *path = path_of(rel);
    d2l_model *model = NULL;
    d2l_session *s = NULL;
    if (!check_status(d2l_model_load_file(path, &model), D2L_OK, fixture)) { free(path); return; }
    check_status(d2l_session_create(model, &s), D2L_OK, "session");
    d2l_status st;
    const char *prefix = "time traveller";
    char *a = gen(s, prefix, 50, 0.0f, 0, 0, &st);
    check_status(st, D2L_OK, "greedy generate");
    char *b = gen(s, prefix, 50, 0.0f, 0, 123, &st);
    check(a && b && strcmp(a, b) == 0, "%s: greedy twice gives the same text (seed ignored)", fixture);
    check(a && strncmp(a, prefix, strlen(prefix)) == 0, "%s: output starts with the prefix: \"%s\"", fixture, a ? a : "");
    /* Untrained weights may generate <unk> (5 characters); count it as one token. */
    size_t tokens = 0;
    for (const char *p = a; p && *p; tokens++) p += strncmp(p, "<unk>", 5) == 0 ? 5 : 1;
    check(a && tokens == strlen(prefix) + 50, "%s: prefix length + 50 tokens (%zu)", fixture, tokens);
    char *s1 = gen(s, prefix, 50, 1.0f, 0, 7, &st);
    char *s2 = gen(s, prefix, 50, 1.0f, 0, 7, &st);
    char *s3 = gen(s, prefix, 50, 1.0f, 0, 8, &st);
    check(s1 && s2 && strcmp(s1, s2) == 0, "%s: same seed, same text", fixture);
    check(s1 && s3 && strcmp(s1, s3) != 0, "%s: different seeds differ", fixture);
    char *k1 = gen(s, prefix, 50, 1.0f, 1, 99, &st);
    check(a && k1 && strcmp(a, k1) == 0, "%s: top_k 1 at temperature 1 equals greedy", fixture);
    char *k5 = gen(s, prefix, 30, 0.7f, 5, 3, &st);
    check_status(st, D2L_OK, "top_k 5 temperature 0.7");
    char *z = gen(s, prefix, 0, 0.0f, 0, 0, &st);
    check(st == D2L_OK && z && strcmp(z, prefix) == 0, "%s: N = 0 returns the prefix", fixture);
    char *u = gen(s, "\xc3\xa9t\xe2\x82\xac", 3, 0.0f, 0, 0, &st);
    check(st == D2L_OK && u && strncmp(u, "<unk>t<unk>", 11) == 0, "%s: characters outside the vocabulary become <unk>: \"%s\"", fixture, u ? u : "");

    char *out = (char *)"sentinel";
    char *before = out;
    check_status(d2l_generate(s, prefix, 5, 1.0f, 1000, 0, &out), D2L_ERR_INVALID_ARGUMENT, "top_k > vocabulary");
    check(out == before, "out_text untouched on error");
    check_status(d2l_generate(s, "", 5, 0.0f, 0, 0, &out), D2L_ERR_INVALID_ARGUMENT, "empty prefix");
    check_status(d2l_generate(s, prefix, 5, -1.0f, 0, 0, &out), D2L_ERR_INVALID_ARGUMENT, "negative temperature");
    check_status(d2l_generate(s, prefix, 5, NAN, 0, 0, &out), D2L_ERR_INVALID_ARGUMENT, "NaN temperature");
    check_status(d2l_generate(NULL, prefix, 5, 0.0f, 0, 0, &out), D2L_ERR_INVALID_ARGUMENT, "NULL session");
    check_status(d2l_generate(s, NULL, 5, 0.0f, 0, 0, &out), D2L_ERR_INVALID_ARGUMENT, "NULL prefix");
    check_status(d2l_generate(s, prefix, 5, 0.0f, 0, 0, NULL), D2L_ERR_INVALID_ARGUMENT, "NULL out_text");
    char *again = gen(s, prefix, 50, 0.0f, 0, 0, &st);
    check(a && again && strcmp(a, again) == 0, "%s: the session still works after errors", fixture);
    d2l_text_free(NULL);
    free(a); free(b); free(s1); free(s2); free(s3); free(k1); free(k5); free(z); free(u); free(again);
    d2l_session_free(s);
    d2l_model_free(model);
    free(path);
}

/* Loads `relative` with metadata `key` set to `value` (NULL: removed). */
static d2l_status load_edited(const char *relative, const char *key, const char *value, d2l_model **out) {
    char *path = path_of(relative);
    size_t size = 0;
    unsigned char *bytes = read_file(path, &size);
    free(path);
    if (!bytes) return D2L_ERR_IO;
    Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, bytes);
    free(bytes);
    if (!m) return D2L_ERR_INTERNAL;
    size_t kept = 0;
    Onnx__StringStringEntryProto *extra = NULL;
    for (size_t i = 0; i < m->n_metadata_props; i++) {
        if (strcmp(m->metadata_props[i]->key, key) == 0) {
            if (value) { m->metadata_props[i]->value = (char *)value; m->metadata_props[kept++] = m->metadata_props[i]; }
            else extra = m->metadata_props[i]; /* dropped from the list; freed below */
        } else {
            m->metadata_props[kept++] = m->metadata_props[i];
        }
    }
    size_t original = m->n_metadata_props;
    m->n_metadata_props = kept;
    size_t packed_size = onnx__model_proto__get_packed_size(m);
    unsigned char *packed = malloc(packed_size + 1);
    onnx__model_proto__pack(m, packed);
    d2l_status st = d2l_model_load_memory(packed, packed_size, out);
    free(packed);
    (void)extra;
    (void)original;
    return st;  /* m is leaked on purpose: an edited value points at a string literal. */
}

static void test_bad_vocab(void) {
    static const struct { const char *value; d2l_status want; const char *what; } cases[] = {
        {NULL, D2L_ERR_INVALID_MODEL, "d2l.vocab missing"},
        {"{\"a\": 1}", D2L_ERR_INVALID_MODEL, "d2l.vocab an object"},
        {"[\"<unk>\", 3]", D2L_ERR_INVALID_MODEL, "d2l.vocab with a number"},
        {"[\"<unk>\", \"a\",]", D2L_ERR_INVALID_MODEL, "d2l.vocab with a trailing comma"},
        {"not json", D2L_ERR_INVALID_MODEL, "d2l.vocab not JSON"},
        {"[\"<unk>\", \"a\"]", D2L_ERR_INVALID_MODEL, "d2l.vocab shorter than the logits"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        d2l_model *m = NULL;
        if (!check_status(load_edited("Tests/Fixtures/gru-lm-opset17/model.onnx", "d2l.vocab", cases[i].value, &m), D2L_OK, "load edited gru-lm"))
            continue;
        d2l_session *s = NULL;
        check_status(d2l_session_create(m, &s), D2L_OK, "session");
        char *out = NULL;
        d2l_status st = d2l_generate(s, "time", 5, 0.0f, 0, 0, &out);
        check_status(st, cases[i].want, cases[i].what);
        if (i == 0) check(strstr(d2l_last_error(), "d2l.vocab") != NULL, "the message names d2l.vocab: %s", d2l_last_error());
        d2l_session_free(s);
        d2l_model_free(m);
    }
}

static int read_pgm(const char *path, unsigned char *pixels, size_t count) {
    size_t size = 0;
    unsigned char *data = read_file(path, &size);
    if (!data) return 0;
    int w = 0, h = 0, maxval = 0, offset = 0;
    data[size < 64 ? size : 64] = 0;
    int ok = sscanf((char *)data, "P5 %d %d %d%n", &w, &h, &maxval, &offset) == 3 && (size_t)(w * h) == count &&
             (size_t)offset + 1 + count <= size;
    if (ok) memcpy(pixels, data + offset + 1, count);
    free(data);
    return ok;
}

static void test_classify(void) {
    char *path = path_of("models/lenet-fashion.onnx");
    d2l_model *model = NULL;
    d2l_session *s = NULL;
    if (!check_status(d2l_model_load_file(path, &model), D2L_OK, "load lenet")) { free(path); return; }
    free(path);
    check_status(d2l_session_create(model, &s), D2L_OK, "session for lenet");
    size_t idx[16], count = 0;
    double prob[16];
    const char *labels[16];
    check_status(d2l_classify(s, 5, idx, prob, labels, &count), D2L_ERR_INVALID_ARGUMENT, "classify before a run");
    char *generated = NULL;
    check_status(d2l_generate(s, "time", 5, 0.0f, 0, 0, &generated), D2L_ERR_INVALID_MODEL, "generate on a non-LM model (lenet)");

    unsigned char pixels[28 * 28];
    char *image = path_of("models/samples/0-ankle-boot.pgm");
    check(read_pgm(image, pixels, sizeof pixels), "read %s", image);
    free(image);
    float x[28 * 28];
    for (int i = 0; i < 28 * 28; i++) x[i] = pixels[i] / 255.0f;
    int64_t shape[4] = {1, 1, 28, 28};
    check_status(d2l_session_set_input(s, 0, D2L_FLOAT32, x, shape, 4), D2L_OK, "set lenet input");
    check_status(d2l_session_run(s), D2L_OK, "run lenet");
    const void *data; const int64_t *oshape; size_t rank; d2l_dtype dt;
    check_status(d2l_session_get_output(s, 0, &dt, &data, &oshape, &rank), D2L_OK, "lenet output");
    const float *logits = data;
    double ref[10], mx = -INFINITY, sum = 0;
    for (int i = 0; i < 10; i++) if (logits[i] > mx) mx = logits[i];
    for (int i = 0; i < 10; i++) { ref[i] = exp((double)logits[i] - mx); sum += ref[i]; }
    for (int i = 0; i < 10; i++) ref[i] /= sum;
    size_t order[10];
    for (size_t i = 0; i < 10; i++) order[i] = i;
    for (size_t i = 0; i < 10; i++)
        for (size_t j = i + 1; j < 10; j++)
            if (ref[order[j]] > ref[order[i]] || (ref[order[j]] == ref[order[i]] && order[j] < order[i])) {
                size_t t = order[i]; order[i] = order[j]; order[j] = t;
            }
    check_status(d2l_classify(s, 5, idx, prob, labels, &count), D2L_OK, "classify top 5");
    int same = count == 5;
    for (size_t i = 0; same && i < 5; i++) same = idx[i] == order[i] && fabs(prob[i] - ref[order[i]]) < 1e-12;
    check(same, "top-5 equals the reference softmax top-5");
    check(count == 5 && labels[0] && strcmp(labels[0], "ankle boot") == 0, "label of the top class: %s", count ? (labels[0] ? labels[0] : "(null)") : "");
    check_status(d2l_classify(s, 100, idx, prob, NULL, &count), D2L_OK, "classify top 100, no labels");
    check(count == 10, "top_k capped at the class count (%zu)", count);
    check_status(d2l_classify(s, 0, idx, prob, labels, &count), D2L_ERR_INVALID_ARGUMENT, "top_k 0");
    check_status(d2l_classify(NULL, 5, idx, prob, labels, &count), D2L_ERR_INVALID_ARGUMENT, "NULL session");
    check_status(d2l_classify(s, 5, NULL, prob, labels, &count), D2L_ERR_INVALID_ARGUMENT, "NULL out_indices");
    check_status(d2l_classify(s, 5, idx, NULL, labels, &count), D2L_ERR_INVALID_ARGUMENT, "NULL out_probabilities");
    check_status(d2l_classify(s, 5, idx, prob, labels, NULL), D2L_ERR_INVALID_ARGUMENT, "NULL out_count");
    d2l_session_free(s);
    d2l_model_free(model);

    d2l_model *nolabels = NULL;
    if (check_status(load_edited("models/lenet-fashion.onnx", "d2l.labels", NULL, &nolabels), D2L_OK, "lenet without labels")) {
        check_status(d2l_session_create(nolabels, &s), D2L_OK, "session without labels");
        check_status(d2l_session_set_input(s, 0, D2L_FLOAT32, x, shape, 4), D2L_OK, "input without labels");
        check_status(d2l_session_run(s), D2L_OK, "run without labels");
        labels[0] = "sentinel";
        check_status(d2l_classify(s, 3, idx, prob, labels, &count), D2L_OK, "classify without labels");
        check(count == 3 && labels[0] == NULL && idx[0] == order[0], "labels are NULL without d2l.labels");
        d2l_session_free(s);
        d2l_model_free(nolabels);
    }
}

int main(int argc, char **argv) {
    if (argc > 1) root = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    check(d2l_api_version() == D2L_API_VERSION && D2L_API_VERSION >= 2, "API version 2 or later (generation)");
    test_lm("gru-lm-opset17");
    test_lm("lstm-lm-opset17");
    test_lm("rnn-lm-opset17");
    test_predict_ch8();
    test_bad_vocab();
    test_classify();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
