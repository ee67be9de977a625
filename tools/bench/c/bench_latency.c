/* Measures libd2l's latency from C:
 *   bench_latency MODEL.onnx BATCH ITERATIONS [THREADS [WARMUP]]
 * Feeds every input at its declared shape, every symbolic dimension = BATCH (a language
 * model's steps too: use BATCH 1 for one token):
 * float inputs a fixed pseudo-random input in [0, 1), int64 inputs zeros (token 0 of a
 * language model, whose state inputs are floats). Runs WARMUP untimed runs (default 20),
 * then ITERATIONS timed set_input/run/get_output rounds, and prints one line:
 *   c_latency_us=<median> min_us=<min> batch=<BATCH> threads=<THREADS>
 * Exit code non-zero (message on stderr) on any d2l error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "d2l.h"

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

#define CHECK(call) do { d2l_status s_ = (call); if (s_ != D2L_OK) { \
    fprintf(stderr, "%s: %s: %s\n", #call, d2l_status_string(s_), d2l_last_error()); return 1; } } while (0)

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s MODEL.onnx BATCH ITERATIONS [THREADS]\n", argv[0]);
        return 2;
    }
    long batch = atol(argv[2]), iterations = atol(argv[3]);
    long threads = argc > 4 ? atol(argv[4]) : 1;
    long warmup = argc > 5 ? atol(argv[5]) : 20;
    if (batch < 1 || iterations < 1 || warmup < 0) {
        fprintf(stderr, "BATCH and ITERATIONS must be >= 1, WARMUP >= 0\n");
        return 2;
    }

    d2l_model *model = NULL;
    CHECK(d2l_model_load_file(argv[1], &model));
    d2l_session *session = NULL;
    CHECK(d2l_session_create(model, &session));
    CHECK(d2l_session_set_threads(session, (size_t)threads));

    enum { MAX_INPUTS = 8, MAX_RANK = 16 };
    size_t inputs = d2l_model_input_count(model);
    if (inputs > MAX_INPUTS) { fprintf(stderr, "more than %d inputs\n", MAX_INPUTS); return 1; }
    void *data[MAX_INPUTS] = {0};
    int64_t shapes[MAX_INPUTS][MAX_RANK];
    size_t ranks[MAX_INPUTS];
    d2l_dtype dtypes[MAX_INPUTS];
    for (size_t k = 0; k < inputs; k++) {
        const int64_t *declared;
        CHECK(d2l_model_input_shape(model, k, &declared, &ranks[k]));
        CHECK(d2l_model_input_dtype(model, k, &dtypes[k]));
        if (ranks[k] > MAX_RANK) { fprintf(stderr, "input %zu has rank > %d\n", k, MAX_RANK); return 1; }
        size_t count = 1;
        for (size_t i = 0; i < ranks[k]; i++) {
            shapes[k][i] = declared[i] >= 0 ? declared[i] : batch;
            count *= (size_t)shapes[k][i];
        }
        if (dtypes[k] == D2L_FLOAT32) {
            float *values = malloc(count * sizeof(float));
            if (!values) return 1;
            unsigned seed = 42;
            for (size_t i = 0; i < count; i++) { seed = seed * 1103515245u + 12345u; values[i] = (seed >> 8) / 16777216.0f; }
            data[k] = values;
        } else {
            data[k] = calloc(count ? count : 1, 8); /* zeros of any dtype up to 8 bytes */
            if (!data[k]) return 1;
        }
    }

    double *times = malloc((size_t)iterations * sizeof(double));
    if (!times) return 1;
    for (long i = 0; i < warmup; i++) {
        for (size_t k = 0; k < inputs; k++) CHECK(d2l_session_set_input(session, k, dtypes[k], data[k], shapes[k], ranks[k]));
        CHECK(d2l_session_run(session));
    }
    for (long i = 0; i < iterations; i++) {
        double t0 = now_us();
        for (size_t k = 0; k < inputs; k++) CHECK(d2l_session_set_input(session, k, dtypes[k], data[k], shapes[k], ranks[k]));
        CHECK(d2l_session_run(session));
        d2l_dtype dtype; const void *out; const int64_t *out_shape; size_t out_rank;
        CHECK(d2l_session_get_output(session, 0, &dtype, &out, &out_shape, &out_rank));
        times[i] = now_us() - t0;
    }
    qsort(times, (size_t)iterations, sizeof(double), compare_doubles);
    printf("c_latency_us=%.2f min_us=%.2f batch=%ld threads=%ld\n", times[iterations / 2], times[0], batch, threads);
    free(times);
    for (size_t k = 0; k < inputs; k++) free(data[k]);
    d2l_session_free(session);
    d2l_model_free(model);
    return 0;
}
