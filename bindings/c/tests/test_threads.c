/*
 * test_threads.c — many threads on one model: 8 threads share each loaded model, every
 * thread owns a session whose kernels use 2 threads of their own, and every output must
 * be bit-identical to a single-threaded session's (docs/C_API.md: a model may be shared,
 * a session is one thread's at a time). Models: LeNet (models/lenet-fashion.onnx),
 * ResNet-18 at reduced width (Tests/Fixtures/resnet18-small-opset17) and a GRU language
 * model through d2l_generate, greedy and sampled (Tests/Fixtures/generate-gru-char).
 *
 *   test_threads [REPOSITORY_ROOT]
 *
 * Also built with ThreadSanitizer by tools/dev/test-tsan, which runs this same program.
 */
#include "check.h"

#include <pthread.h>
#include <stdint.h>

enum { thread_count = 8, kernel_threads = 2, runs_per_thread = 6 };

/* ------------------------------------------------------------------ float models */

/** One float model and the input / reference output every worker checks against. */
typedef struct {
    const d2l_model *model;
    int64_t shape[8];
    size_t rank;
    float *input;       /* two inputs, back to back: workers alternate them */
    size_t input_count; /* elements of one input */
    float *expected;    /* output 0 for each input */
    size_t output_count;
} float_case;

/** Runs `input` through `session`, copying output 0 into `out` (output_count floats).
 *  Returns the status; on error `out` is unchanged. */
static d2l_status run_once(d2l_session *session, const float_case *c, const float *input, float *out) {
    d2l_status status = d2l_session_set_input(session, 0, D2L_FLOAT32, input, c->shape, c->rank);
    if (status != D2L_OK) return status;
    if ((status = d2l_session_run(session)) != D2L_OK) return status;
    d2l_dtype dtype;
    const void *data;
    const int64_t *shape;
    size_t rank;
    if ((status = d2l_session_get_output(session, 0, &dtype, &data, &shape, &rank)) != D2L_OK) return status;
    size_t count = 1;
    for (size_t i = 0; i < rank; i++) count *= (size_t)shape[i];
    if (dtype != D2L_FLOAT32 || count != c->output_count) return D2L_ERR_SHAPE;
    memcpy(out, data, count * sizeof(float));
    return D2L_OK;
}

typedef struct {
    const float_case *c;
    int index, failures, mismatches;
    char error[256];
} float_worker;

static void *float_worker_main(void *arg) {
    float_worker *w = arg;
    const float_case *c = w->c;
    d2l_session *s = NULL;
    float *out = malloc(c->output_count * sizeof(float));
    if (!out || d2l_session_create(c->model, &s) != D2L_OK || d2l_session_set_threads(s, kernel_threads) != D2L_OK) {
        w->failures++;
        snprintf(w->error, sizeof w->error, "%s", out ? d2l_last_error() : "out of memory");
        free(out);
        d2l_session_free(s);
        return NULL;
    }
    for (int run = 0; run < runs_per_thread; run++) {
        int which = (run + w->index) % 2;
        if (run_once(s, c, c->input + which * c->input_count, out) != D2L_OK) {
            w->failures++;
            snprintf(w->error, sizeof w->error, "%s", d2l_last_error());
        } else if (memcmp(out, c->expected + which * c->output_count, c->output_count * sizeof(float)) != 0) {
            w->mismatches++;
        }
    }
    free(out);
    d2l_session_free(s);
    return NULL;
}

/** Deterministic inputs in [0, 1). */
static void fill(float *values, size_t count, uint32_t seed) {
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < count; i++) {
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        values[i] = (float)(x >> 8) / 16777216.0f;
    }
}

static void test_float_model(const char *relative, const int64_t *shape, size_t rank) {
    char *path = path_of(relative);
    d2l_model *model = NULL;
    int loaded = check_status(d2l_model_load_file(path, &model), D2L_OK, relative);
    free(path);
    if (!loaded) return;
    float_case c = {model, {0}, rank, NULL, 1, NULL, 1};
    for (size_t i = 0; i < rank; i++) { c.shape[i] = shape[i]; c.input_count *= (size_t)shape[i]; }
    c.input = malloc(2 * c.input_count * sizeof(float));
    if (!c.input) abort();
    fill(c.input, 2 * c.input_count, 7);

    /* The reference: one session, kernels on the caller's thread only. Its first run
     * gives the output's size. */
    d2l_session *s = NULL;
    int ok = check_status(d2l_session_create(model, &s), D2L_OK, "reference session")
          && check_status(d2l_session_set_input(s, 0, D2L_FLOAT32, c.input, c.shape, c.rank), D2L_OK, "reference input")
          && check_status(d2l_session_run(s), D2L_OK, "reference run");
    if (ok) {
        d2l_dtype dtype;
        const void *data;
        const int64_t *out_shape;
        size_t out_rank;
        ok = check_status(d2l_session_get_output(s, 0, &dtype, &data, &out_shape, &out_rank), D2L_OK, "reference output");
        for (size_t i = 0; ok && i < out_rank; i++) c.output_count *= (size_t)out_shape[i];
    }
    if (ok) {
        c.expected = malloc(2 * c.output_count * sizeof(float));
        if (!c.expected) abort();
    }
    for (int i = 0; ok && i < 2; i++) {
        ok = check_status(run_once(s, &c, c.input + i * c.input_count, c.expected + i * c.output_count), D2L_OK,
                          "reference run");
    }
    d2l_session_free(s);

    float_worker workers[thread_count];
    pthread_t threads[thread_count];
    int started[thread_count] = {0};
    for (int i = 0; ok && i < thread_count; i++) {
        workers[i] = (float_worker){&c, i, 0, 0, ""};
        started[i] = pthread_create(&threads[i], NULL, float_worker_main, &workers[i]) == 0;
        check(started[i], "%s: start thread %d", relative, i);
    }
    for (int i = 0; i < thread_count; i++) {
        if (!started[i]) continue;
        pthread_join(threads[i], NULL);
        check(workers[i].failures == 0 && workers[i].mismatches == 0,
              "%s: thread %d, %d kernel threads: %d runs, %d failed, %d not bit-identical to one thread%s%s",
              relative, i, kernel_threads, runs_per_thread, workers[i].failures, workers[i].mismatches,
              workers[i].error[0] ? ": " : "", workers[i].error);
    }
    free(c.input);
    free(c.expected);
    d2l_model_free(model);
}

/* ------------------------------------------------------------------ generation */

typedef struct {
    float temperature;
    size_t top_k;
    uint64_t seed;
} generation;

static const generation generations[] = {{0.0f, 0, 0}, {0.8f, 5, 42}, {1.0f, 0, 7}};
enum { generation_count = sizeof generations / sizeof generations[0], generated_tokens = 40 };
static const char *const prefix = "time traveller";

typedef struct {
    const d2l_model *model;
    char *const *expected; /* one text per generation */
    int index, failures, mismatches;
    char error[256];
} text_worker;

static void *text_worker_main(void *arg) {
    text_worker *w = arg;
    d2l_session *s = NULL;
    if (d2l_session_create(w->model, &s) != D2L_OK || d2l_session_set_threads(s, kernel_threads) != D2L_OK) {
        w->failures++;
        snprintf(w->error, sizeof w->error, "%s", d2l_last_error());
        d2l_session_free(s);
        return NULL;
    }
    for (int run = 0; run < runs_per_thread; run++) {
        const generation *g = &generations[(run + w->index) % generation_count];
        char *text = NULL;
        if (d2l_generate(s, prefix, generated_tokens, g->temperature, g->top_k, g->seed, &text) != D2L_OK) {
            w->failures++;
            snprintf(w->error, sizeof w->error, "%s", d2l_last_error());
        } else if (strcmp(text, w->expected[(run + w->index) % generation_count]) != 0) {
            w->mismatches++;
        }
        d2l_text_free(text);
    }
    d2l_session_free(s);
    return NULL;
}

static void test_generation(void) {
    char *path = path_of("Tests/Fixtures/generate-gru-char/model.onnx");
    d2l_model *model = NULL;
    int loaded = check_status(d2l_model_load_file(path, &model), D2L_OK, "load generate-gru-char");
    free(path);
    if (!loaded) return;
    char *expected[generation_count] = {NULL};
    d2l_session *s = NULL;
    int ok = check_status(d2l_session_create(model, &s), D2L_OK, "reference session");
    for (int i = 0; ok && i < generation_count; i++) {
        ok = check_status(d2l_generate(s, prefix, generated_tokens, generations[i].temperature, generations[i].top_k,
                                       generations[i].seed, &expected[i]),
                          D2L_OK, "reference generation");
    }
    d2l_session_free(s);

    text_worker workers[thread_count];
    pthread_t threads[thread_count];
    int started[thread_count] = {0};
    for (int i = 0; ok && i < thread_count; i++) {
        workers[i] = (text_worker){model, expected, i, 0, 0, ""};
        started[i] = pthread_create(&threads[i], NULL, text_worker_main, &workers[i]) == 0;
        check(started[i], "generate: start thread %d", i);
    }
    for (int i = 0; i < thread_count; i++) {
        if (!started[i]) continue;
        pthread_join(threads[i], NULL);
        check(workers[i].failures == 0 && workers[i].mismatches == 0,
              "d2l_generate: thread %d, %d kernel threads: %d generations, %d failed, %d differ from one thread's%s%s",
              i, kernel_threads, runs_per_thread, workers[i].failures, workers[i].mismatches,
              workers[i].error[0] ? ": " : "", workers[i].error);
    }
    for (int i = 0; i < generation_count; i++) d2l_text_free(expected[i]);
    d2l_model_free(model);
}

int main(int argc, char **argv) {
    if (argc > 1) root = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);
    const int64_t lenet[4] = {2, 1, 28, 28}, resnet[4] = {2, 1, 64, 64};
    test_float_model("models/lenet-fashion.onnx", lenet, 4);
    test_float_model("Tests/Fixtures/resnet18-small-opset17/model.onnx", resnet, 4);
    test_generation();
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
