/* Measures libd2l's latency from C: `bench_latency MODEL.onnx BATCH ITERATIONS [THREADS]`.
 * Feeds a fixed pseudo-random float input of the model's input shape (symbolic dims =
 * BATCH), runs a warm-up, then ITERATIONS timed runs, and prints one line:
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
    if (batch < 1 || iterations < 1) { fprintf(stderr, "BATCH and ITERATIONS must be >= 1\n"); return 2; }

    d2l_model *model = NULL;
    CHECK(d2l_model_load_file(argv[1], &model));
    d2l_session *session = NULL;
    CHECK(d2l_session_create(model, &session));
    CHECK(d2l_session_set_threads(session, (size_t)threads));

    const int64_t *declared; size_t rank;
    CHECK(d2l_model_input_shape(model, 0, &declared, &rank));
    int64_t shape[16]; size_t count = 1;
    for (size_t i = 0; i < rank && i < 16; i++) {
        shape[i] = declared[i] < 0 ? batch : declared[i];
        count *= (size_t)shape[i];
    }
    float *input = malloc(count * sizeof(float));
    if (!input) return 1;
    unsigned seed = 42;
    for (size_t i = 0; i < count; i++) { seed = seed * 1103515245u + 12345u; input[i] = (seed >> 8) / 16777216.0f; }

    double *times = malloc((size_t)iterations * sizeof(double));
    if (!times) return 1;
    for (int i = 0; i < 20; i++) {
        CHECK(d2l_session_set_input(session, 0, D2L_FLOAT32, input, shape, rank));
        CHECK(d2l_session_run(session));
    }
    for (long i = 0; i < iterations; i++) {
        double t0 = now_us();
        CHECK(d2l_session_set_input(session, 0, D2L_FLOAT32, input, shape, rank));
        CHECK(d2l_session_run(session));
        d2l_dtype dtype; const void *data; const int64_t *out_shape; size_t out_rank;
        CHECK(d2l_session_get_output(session, 0, &dtype, &data, &out_shape, &out_rank));
        times[i] = now_us() - t0;
    }
    qsort(times, (size_t)iterations, sizeof(double), compare_doubles);
    printf("c_latency_us=%.2f min_us=%.2f batch=%ld threads=%ld\n", times[iterations / 2], times[0], batch, threads);
    free(times);
    free(input);
    d2l_session_free(session);
    d2l_model_free(model);
    return 0;
}
