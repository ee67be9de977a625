/*
 * test_alloc.c — after the first run at a shape, d2l_session_set_input, d2l_session_run
 * and d2l_session_get_output allocate nothing (include/d2l.h promises it).
 *
 *     test_alloc [REPO_ROOT [MODEL]]      (MODEL: one model path under REPO_ROOT only)
 *
 * Linked statically with `-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,
 * --wrap=posix_memalign,--wrap=aligned_alloc` (tools/cross-build --check does), so every
 * allocation of the program, libd2l.a's included, goes through the counting wrappers
 * below. For each model: load, create a session, set every input to zeros of its
 * declared shape (symbolic dimensions 1), run once (that run plans memory), then count
 * the allocations of five more set_input/run/get_output rounds, with 1 thread and with 2.
 * Prints "ok - ..." / "FAIL - ..." lines and ends with "N passed, M failed".
 */
#include "d2l.h"
#include "check.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- counting wrappers (the linker routes every call to these) ------------------------ */

void *__real_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *pointer, size_t size);
void __real_free(void *pointer);
int __real_posix_memalign(void **out, size_t alignment, size_t size);
void *__real_aligned_alloc(size_t alignment, size_t size);

/** Allocations (malloc, calloc, realloc, posix_memalign, aligned_alloc) so far; atomic,
 *  since the session's worker threads may allocate too. */
static size_t allocations;

static void count_one(void) { __atomic_add_fetch(&allocations, 1, __ATOMIC_RELAXED); }

void *__wrap_malloc(size_t size) { count_one(); return __real_malloc(size); }
void *__wrap_calloc(size_t count, size_t size) { count_one(); return __real_calloc(count, size); }
void *__wrap_realloc(void *pointer, size_t size) { count_one(); return __real_realloc(pointer, size); }
void __wrap_free(void *pointer) { __real_free(pointer); }
int __wrap_posix_memalign(void **out, size_t alignment, size_t size) {
    count_one();
    return __real_posix_memalign(out, alignment, size);
}
void *__wrap_aligned_alloc(size_t alignment, size_t size) { count_one(); return __real_aligned_alloc(alignment, size); }

static size_t allocation_count(void) { return __atomic_load_n(&allocations, __ATOMIC_RELAXED); }

/* ---- the test ------------------------------------------------------------------------ */

/** Zeros of input `index`'s declared shape (symbolic dimensions 1): the element buffer
 *  (malloc'ed, enough for any dtype) and the shape in `shape`/`rank`. */
static void *zeros_for(const d2l_model *model, size_t index, int64_t *shape, size_t *rank, d2l_dtype *dtype) {
    const int64_t *declared = NULL;
    if (d2l_model_input_shape(model, index, &declared, rank) != D2L_OK || *rank > 8) return NULL;
    if (d2l_model_input_dtype(model, index, dtype) != D2L_OK) return NULL;
    size_t count = 1;
    for (size_t d = 0; d < *rank; d++) {
        shape[d] = declared[d] < 0 ? 1 : declared[d];
        count *= (size_t)shape[d];
    }
    return calloc(count ? count : 1, 8);
}

/** One set_input/run/get_output round over every input and output. */
static int run_round(d2l_session *session, const d2l_model *model, void **data, int64_t (*shapes)[8],
                     const size_t *ranks, const d2l_dtype *dtypes) {
    for (size_t i = 0; i < d2l_model_input_count(model); i++)
        if (d2l_session_set_input(session, i, dtypes[i], data[i], shapes[i], ranks[i]) != D2L_OK) return 0;
    if (d2l_session_run(session) != D2L_OK) return 0;
    for (size_t o = 0; o < d2l_model_output_count(model); o++) {
        d2l_dtype dtype;
        const void *out;
        const int64_t *shape;
        size_t rank;
        if (d2l_session_get_output(session, o, &dtype, &out, &shape, &rank) != D2L_OK) return 0;
    }
    return 1;
}

static void check_model(const char *relative) {
    char *path = path_of(relative);
    d2l_model *model = NULL;
    d2l_session *session = NULL;
    enum { MAX_INPUTS = 8 };
    void *data[MAX_INPUTS] = {0};
    int64_t shapes[MAX_INPUTS][8];
    size_t ranks[MAX_INPUTS];
    d2l_dtype dtypes[MAX_INPUTS];
    size_t inputs = 0;
    if (!check(d2l_model_load_file(path, &model) == D2L_OK, "%s: load (%s)", relative, d2l_last_error())) goto done;
    inputs = d2l_model_input_count(model);
    if (!check(inputs <= MAX_INPUTS, "%s: %zu inputs", relative, inputs)) goto done;
    for (size_t i = 0; i < inputs; i++)
        if (!check((data[i] = zeros_for(model, i, shapes[i], &ranks[i], &dtypes[i])) != NULL,
                   "%s: input %zu's declared shape", relative, i)) goto done;
    if (!check(d2l_session_create(model, &session) == D2L_OK, "%s: session", relative)) goto done;
    static const size_t thread_counts[] = {1, 2};
    for (size_t t = 0; t < 2; t++) {
        if (!check(d2l_session_set_threads(session, thread_counts[t]) == D2L_OK, "%s: %zu thread(s)", relative,
                   thread_counts[t])) continue;
        if (!check(run_round(session, model, data, shapes, ranks, dtypes), "%s: first run (%s)", relative,
                   d2l_last_error())) continue;
        size_t before = allocation_count();
        int ok = 1;
        for (int round = 0; round < 5; round++) ok &= run_round(session, model, data, shapes, ranks, dtypes);
        size_t made = allocation_count() - before;
        check(ok, "%s, %zu thread(s): five more rounds run", relative, thread_counts[t]);
        check(made == 0, "%s, %zu thread(s): five set_input/run/get_output rounds allocate nothing (%zu allocations)",
              relative, thread_counts[t], made);
    }
done:
    d2l_session_free(session);
    d2l_model_free(model);
    for (size_t i = 0; i < inputs && i < MAX_INPUTS; i++) free(data[i]);
    free(path);
}

int main(int argc, char **argv) {
    if (argc > 1) root = argv[1];
    /* The wrappers must see the allocations at all (a program linked without --wrap
     * would pass the zero checks while testing nothing). */
    size_t before = allocation_count();
    void *(*volatile allocate)(size_t) = malloc; /* a call the compiler cannot elide */
    void *probe = allocate(64);
    check(allocation_count() == before + 1, "the counting malloc sees this program's malloc");
    free(probe);
    d2l_model *model = NULL;
    before = allocation_count();
    char *lenet = path_of("models/lenet-fashion.onnx");
    if (d2l_model_load_file(lenet, &model) == D2L_OK) d2l_model_free(model);
    free(lenet);
    check(allocation_count() > before, "the counting malloc sees libd2l's allocations (%zu for loading LeNet)",
          allocation_count() - before);

    static const char *models[] = {
        "models/lenet-fashion.onnx",
        "Tests/Fixtures/mlp-opset17/model.onnx",
        "Tests/Fixtures/resnet18-small-opset17/model.onnx",
        "Tests/Fixtures/densenet-small-opset20/model.onnx",
        "Tests/Fixtures/gru-lm-opset17/model.onnx",
        "Tests/Fixtures/lstm2-lm-1step-opset20/model.onnx",
    };
    for (size_t i = 0; i < sizeof models / sizeof *models; i++)
        if (argc <= 2 || strcmp(argv[2], models[i]) == 0) check_model(models[i]);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
