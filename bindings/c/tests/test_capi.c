/*
 * test_capi.c — tests of libd2l's C API (include/d2l.h), written in plain C.
 *
 *     test_capi [REPO_ROOT]        (default: the current directory)
 *
 * Prints one line per check ("ok - ..." or "FAIL - ...") and finishes with the line
 * "N passed, M failed"; the exit status is 1 when any check failed.
 *
 * What it covers:
 *  - every folder of Tests/Fixtures that holds a model.onnx: each test_data_set_*'s
 *    input_K.pb through the model must give every output_K.pb (same dims, max |diff| <= 1e-5),
 *    loaded from file and, for single-file models, from memory; a model with external
 *    data must be refused by d2l_model_load_memory;
 *  - every line of Tests/Fixtures/bad/expected.tsv, from file and from memory;
 *  - NULL pointers, out-of-range indices, calls out of order and bad inputs for every
 *    function, with out-parameters left untouched and previous inputs kept;
 *  - the symbolic batch, the thread setting, status strings, versions, metadata;
 *  - API version 3's conveniences: name lookups and dimension names (names_tests.h),
 *    d2l_session_set_image_u8 against Tests/Fixtures/image-input (image_input_tests.h),
 *    d2l_classify_row (classify_row_tests.h), on models made in memory (model_builder.h);
 *  - a model shared by four threads, each with its own session.
 *
 * The fixtures' tensors (serialized onnx.TensorProto) are read with the protobuf-c code
 * the repository commits (Sources/_D2LONNX/onnx.pb-c.c); see bindings/c/Makefile.
 */
#define _DEFAULT_SOURCE /* scandir, alphasort, strdup */

#include "d2l.h"
#include "onnx.pb-c.h"
#include "check.h"
#include "detection_tests.h"
#include "model_builder.h"
#include "names_tests.h"

#include <ctype.h>
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ------------------------------------------------------------------------------------ */
/* Reporting                                                                            */
/* ------------------------------------------------------------------------------------ */

/* ------------------------------------------------------------------------------------ */
/* Helpers                                                                              */
/* ------------------------------------------------------------------------------------ */

/** A new string "a/b" (the caller frees it). */
static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    if (!p) abort();
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/** Case-insensitive substring test. */
static int contains_nocase(const char *haystack, const char *needle) {
    size_t n = strlen(needle);
    for (; *haystack; haystack++) {
        size_t i = 0;
        while (i < n && haystack[i] &&
               tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return 1;
    }
    return n == 0;
}

/** Directory entries of `dir` whose names start with `prefix`, sorted; NULL-terminated
 *  array of new strings (free with free_names). */
static char **list_dir(const char *dir, const char *prefix) {
    struct dirent **entries;
    int n = scandir(dir, &entries, NULL, alphasort);
    char **names = calloc((size_t)(n > 0 ? n : 0) + 1, sizeof *names);
    if (!names) abort();
    size_t count = 0;
    for (int i = 0; i < n; i++) {
        if (entries[i]->d_name[0] != '.' &&
            strncmp(entries[i]->d_name, prefix, strlen(prefix)) == 0)
            names[count++] = strdup(entries[i]->d_name);
        free(entries[i]);
    }
    if (n > 0) free(entries);
    return names;
}

static void free_names(char **names) {
    for (char **p = names; *p; p++) free(*p);
    free(names);
}

/** A float32 tensor owned by the tests. */
typedef struct {
    int64_t dims[8];
    size_t rank;
    float *data;
    size_t count;
} tensor;

static void tensor_free(tensor *t) {
    free(t->data);
    t->data = NULL;
}

static size_t element_count(const int64_t *dims, size_t rank) {
    size_t n = 1;
    for (size_t i = 0; i < rank; i++) n *= (size_t)dims[i];
    return n;
}

static double max_abs_diff(const float *a, const float *b, size_t n) {
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= worst)) worst = d; /* NaN counts as the worst */
    }
    return worst;
}

/** Runs `s` and copies float32 output 0 into *out (dims and values). Returns the first
 *  non-OK status. */
static d2l_status run_output(d2l_session *s, tensor *out) {
    d2l_status status = d2l_session_run(s);
    if (status != D2L_OK) return status;
    d2l_dtype dtype;
    const void *result;
    const int64_t *dims;
    size_t out_rank;
    status = d2l_session_get_output(s, 0, &dtype, &result, &dims, &out_rank);
    if (status != D2L_OK) return status;
    if (dtype != D2L_FLOAT32 || out_rank > 8) return D2L_ERR_INTERNAL;
    tensor t = {{0}, out_rank, NULL, element_count(dims, out_rank)};
    memcpy(t.dims, dims, out_rank * sizeof *dims);
    t.data = malloc(t.count * sizeof(float) + 1);
    if (!t.data) abort();
    memcpy(t.data, result, t.count * sizeof(float));
    *out = t;
    return D2L_OK;
}

/** Sets input 0 (float32), runs, and copies float32 output 0 into *out. Returns the
 *  first non-OK status. */
static d2l_status run_float(d2l_session *s, const float *data, const int64_t *shape,
                            size_t rank, tensor *out) {
    d2l_status status = d2l_session_set_input(s, 0, D2L_FLOAT32, data, shape, rank);
    if (status != D2L_OK) return status;
    return run_output(s, out);
}

static int same_dims(const tensor *a, const tensor *b) {
    return a->rank == b->rank && memcmp(a->dims, b->dims, a->rank * sizeof *a->dims) == 0;
}

static void format_dims(const int64_t *dims, size_t rank, char *buffer, size_t size) {
    size_t used = (size_t)snprintf(buffer, size, "[");
    for (size_t i = 0; i < rank && used < size; i++)
        used += (size_t)snprintf(buffer + used, size - used, "%s%lld", i ? ", " : "",
                                 (long long)dims[i]);
    if (used < size) snprintf(buffer + used, size - used, "]");
}

/** Deterministic pseudo-random images in [0, 1) (a fixed LCG). */
static void fill_images(float *data, size_t count, uint32_t seed) {
    uint32_t state = seed * 2654435761u + 1;
    for (size_t i = 0; i < count; i++) {
        state = state * 1664525u + 1013904223u;
        data[i] = (float)(state >> 8) / 16777216.0f;
    }
}

/* Sentinels for out-parameters that must be left untouched. */
static const int64_t sentinel_dims[1] = {424242};
#define SENTINEL_SHAPE (sentinel_dims)
#define SENTINEL_RANK ((size_t)0xDEADBEEF)
#define SENTINEL_DTYPE ((d2l_dtype)77)
static char sentinel_object;
#define SENTINEL_MODEL ((d2l_model *)&sentinel_object)
#define SENTINEL_SESSION ((d2l_session *)&sentinel_object)
#define SENTINEL_DATA ((const void *)&sentinel_object)

/* ------------------------------------------------------------------------------------ */
/* Library information                                                                  */
/* ------------------------------------------------------------------------------------ */

static void test_info(void) {
    check(d2l_api_version() == D2L_API_VERSION, "d2l_api_version() == D2L_API_VERSION (%d, %d)",
          d2l_api_version(), D2L_API_VERSION);
    const char *version = d2l_version_string();
    check(version && version[0], "d2l_version_string() is non-empty (\"%s\")",
          version ? version : "(null)");

    /* The kernel variant: one of the documented words, the same on every call, and the
     * cap of D2L_KERNEL_ISA when the cap is a variant every CPU of this architecture runs. */
    const char *isa = d2l_kernel_isa();
    static const char *isas[] = {"avx512", "avx2", "sse2", "neon", "neon-vfpv3", "scalar"};
    int known = 0;
    for (size_t i = 0; isa && i < sizeof isas / sizeof *isas; i++) known |= strcmp(isa, isas[i]) == 0;
    check(known, "d2l_kernel_isa() is a known variant (\"%s\")", isa ? isa : "(null)");
    check(isa == d2l_kernel_isa(), "d2l_kernel_isa() returns the same static string every time");
    const char *cap = getenv("D2L_KERNEL_ISA");
    if (cap && isa && (strcmp(cap, "scalar") == 0
#if defined(__x86_64__)
                       || strcmp(cap, "sse2") == 0
#endif
                       )) {
        check(strcmp(isa, cap) == 0, "D2L_KERNEL_ISA=%s gives d2l_kernel_isa() \"%s\"", cap, isa);
    }
    printf("kernel variant: %s\n", isa ? isa : "(null)");

    static const char *names[] = {"D2L_OK", "D2L_ERR_INVALID_ARGUMENT", "D2L_ERR_IO",
                                  "D2L_ERR_INVALID_MODEL", "D2L_ERR_UNSUPPORTED",
                                  "D2L_ERR_SHAPE", "D2L_ERR_OUT_OF_MEMORY", "D2L_ERR_INTERNAL"};
    for (int code = 0; code < 8; code++) {
        const char *s = d2l_status_string((d2l_status)code);
        check(s && strcmp(s, names[code]) == 0, "d2l_status_string(%d) == \"%s\" (got \"%s\")",
              code, names[code], s ? s : "(null)");
    }
    int unknown[] = {12345, 8, -1};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        const char *s = d2l_status_string((d2l_status)unknown[i]);
        check(s && strcmp(s, "D2L_ERR_UNKNOWN") == 0,
              "d2l_status_string(%d) == \"D2L_ERR_UNKNOWN\" (got \"%s\")", unknown[i],
              s ? s : "(null)");
    }
    check(d2l_last_error() != NULL, "d2l_last_error() is never NULL");
}

/* ------------------------------------------------------------------------------------ */
/* Reference fixtures                                                                   */
/* ------------------------------------------------------------------------------------ */

/** A tensor of any of the fixtures' dtypes (float32, int32, int64 or uint8), as raw bytes. */
typedef struct {
    int64_t dims[8];
    size_t rank;
    d2l_dtype dtype;
    void *data;
    size_t count;
} any_tensor;

/** Reads a serialized onnx.TensorProto of float32, int32, int64 or uint8. 0 on success. */
static int read_any_tensor_pb(const char *path, any_tensor *out) {
    size_t size;
    unsigned char *bytes = read_file(path, &size);
    if (!bytes) return -1;
    Onnx__TensorProto *proto = onnx__tensor_proto__unpack(NULL, size, bytes);
    free(bytes);
    if (!proto) return -1;
    int result = -1;
    any_tensor t = {{0}, proto->n_dims, 0, NULL, 0};
    size_t item = 0;
    if (proto->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT) { t.dtype = D2L_FLOAT32; item = 4; }
    else if (proto->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT64) { t.dtype = D2L_INT64; item = 8; }
    else if (proto->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__INT32) { t.dtype = D2L_INT32; item = 4; }
    else if (proto->data_type == ONNX__TENSOR_PROTO__DATA_TYPE__UINT8) { t.dtype = D2L_UINT8; item = 1; }
    if (item == 0 || proto->n_dims > 8) goto done;
    memcpy(t.dims, proto->dims, proto->n_dims * sizeof *t.dims);
    t.count = element_count(t.dims, t.rank);
    t.data = malloc(t.count * item + 1);
    if (!t.data) goto done;
    if (proto->has_raw_data && proto->raw_data.len > 0) {
        if (proto->raw_data.len != t.count * item) goto done;
        memcpy(t.data, proto->raw_data.data, proto->raw_data.len); /* little-endian host */
    } else if (t.dtype == D2L_FLOAT32 && proto->n_float_data == t.count) {
        memcpy(t.data, proto->float_data, t.count * item);
    } else if (t.dtype == D2L_INT64 && proto->n_int64_data == t.count) {
        memcpy(t.data, proto->int64_data, t.count * item);
    } else if (t.dtype == D2L_INT32 && proto->n_int32_data == t.count) {
        memcpy(t.data, proto->int32_data, t.count * item);
    } else if (t.dtype == D2L_UINT8 && proto->n_int32_data == t.count) {
        for (size_t i = 0; i < t.count; i++) ((unsigned char *)t.data)[i] = (unsigned char)proto->int32_data[i];
    } else {
        goto done;
    }
    *out = t;
    t.data = NULL;
    result = 0;
done:
    free(t.data);
    onnx__tensor_proto__free_unpacked(proto, NULL);
    return result;
}

/** Runs every test_data_set_* of `dir` through `model` (every input_K.pb, every
 *  output_K.pb) and compares: float32 within 1e-5, int64 exactly. */
static void check_data_sets(const d2l_model *model, const char *dir, const char *how) {
    char **sets = list_dir(dir, "test_data_set_");
    check(sets[0] != NULL, "%s has test_data_set_* folders", dir);
    d2l_session *session = NULL;
    d2l_status status = d2l_session_create(model, &session);
    if (!check_status(status, D2L_OK, "d2l_session_create")) { free_names(sets); return; }
    size_t inputs = d2l_model_input_count(model), outputs = d2l_model_output_count(model);
    for (char **set = sets; *set; set++) {
        char *set_dir = join(dir, *set);
        int ok = 1;
        for (size_t k = 0; k < inputs && ok; k++) {
            char name[32];
            snprintf(name, sizeof name, "input_%zu.pb", k);
            char *path = join(set_dir, name);
            any_tensor input = {{0}, 0, 0, NULL, 0};
            ok = check(read_any_tensor_pb(path, &input) == 0, "%s: read %s", set_dir, name);
            if (ok) {
                status = d2l_session_set_input(session, k, input.dtype, input.data, input.dims, input.rank);
                ok = check_status(status, D2L_OK, "set_input");
            }
            free(input.data);
            free(path);
        }
        if (ok) ok = check_status(d2l_session_run(session), D2L_OK, "run");
        for (size_t k = 0; k < outputs && ok; k++) {
            char name[32];
            snprintf(name, sizeof name, "output_%zu.pb", k);
            char *path = join(set_dir, name);
            any_tensor expected = {{0}, 0, 0, NULL, 0};
            if (check(read_any_tensor_pb(path, &expected) == 0, "%s: read %s", set_dir, name)) {
                d2l_dtype dtype;
                const void *data;
                const int64_t *dims;
                size_t rank;
                status = d2l_session_get_output(session, k, &dtype, &data, &dims, &rank);
                if (check_status(status, D2L_OK, "get_output")) {
                    int same = rank == expected.rank && dtype == expected.dtype;
                    for (size_t i = 0; same && i < rank; i++) same = dims[i] == expected.dims[i];
                    char want[128], got[128];
                    format_dims(expected.dims, expected.rank, want, sizeof want);
                    format_dims(dims, rank, got, sizeof got);
                    check(same, "%s (%s): output %zu dims %s == %s, dtype %d == %d", set_dir, how, k,
                          got, want, (int)dtype, (int)expected.dtype);
                    if (same && dtype == D2L_FLOAT32) {
                        double diff = max_abs_diff(data, expected.data, expected.count);
                        check(diff <= 1e-5, "%s (%s): output %zu max |diff| %.3g <= 1e-5", set_dir, how, k, diff);
                    } else if (same) {
                        size_t item = dtype == D2L_INT64 ? 8 : 4;
                        check(memcmp(data, expected.data, expected.count * item) == 0,
                              "%s (%s): output %zu integer values equal", set_dir, how, k);
                    }
                }
            }
            free(expected.data);
            free(path);
        }
        free(set_dir);
    }
    d2l_session_free(session);
    free_names(sets);
}

static void test_fixtures(void) {
    char *fixtures = path_of("Tests/Fixtures");
    char **names = list_dir(fixtures, "");
    int found = 0;
    for (char **name = names; *name; name++) {
        char *dir = join(fixtures, *name);
        char *model_path = join(dir, "model.onnx");
        char *data_path = join(dir, "model.onnx.data");
        if (!file_exists(model_path)) goto next;
        found++;

        /* From the file. */
        d2l_model *model = NULL;
        if (check_status(d2l_model_load_file(model_path, &model), D2L_OK, model_path)) {
            const char *opset_text = strstr(*name, "opset");
            if (opset_text) {
                long want = strtol(opset_text + 5, NULL, 10);
                check(d2l_model_opset(model) == want, "%s: d2l_model_opset == %ld (got %lld)",
                      *name, want, (long long)d2l_model_opset(model));
            }
            check(d2l_model_input_count(model) >= 1 && d2l_model_output_count(model) >= 1,
                  "%s: has inputs and outputs", *name);
            check_data_sets(model, dir, "load_file");
            d2l_model_free(model);
        }

        /* From memory: single-file models load; models with external data are refused. */
        size_t size = 0;
        unsigned char *bytes = read_file(model_path, &size);
        if (!check(bytes != NULL, "read %s", model_path)) goto next;
        model = SENTINEL_MODEL;
        d2l_status status = d2l_model_load_memory(bytes, size, &model);
        if (file_exists(data_path)) {
            check_status(status, D2L_ERR_INVALID_MODEL, "d2l_model_load_memory (external data)");
            check(contains_nocase(d2l_last_error(), "external"),
                  "%s from memory: the message mentions external data (\"%s\")", *name,
                  d2l_last_error());
            check(model == SENTINEL_MODEL, "%s from memory: out_model untouched", *name);
            if (status == D2L_OK && model != SENTINEL_MODEL) d2l_model_free(model);
        } else {
            if (check_status(status, D2L_OK, "d2l_model_load_memory")) {
                free(bytes); /* the model keeps no pointer into the buffer */
                bytes = NULL;
                check_data_sets(model, dir, "load_memory");
                d2l_model_free(model);
            }
        }
        free(bytes);
    next:
        free(model_path);
        free(data_path);
        free(dir);
    }
    check(found >= 4, "found %d fixture models in %s (expected at least 4)", found, fixtures);
    free_names(names);
    free(fixtures);
}

/* ------------------------------------------------------------------------------------ */
/* Bad models                                                                           */
/* ------------------------------------------------------------------------------------ */

/** Loads (from `path` or from `bytes`), creates a session, sets input 0 to zeros of its
 *  declared shape and runs. Returns the first non-OK status (D2L_OK when all worked);
 *  *out_model receives the model on success (the caller frees it). */
static d2l_status try_model(const char *path, const unsigned char *bytes, size_t size,
                            d2l_model **out_model) {
    d2l_model *model = NULL;
    d2l_status status = path ? d2l_model_load_file(path, &model)
                             : d2l_model_load_memory(bytes, size, &model);
    if (status != D2L_OK) return status;
    d2l_session *session = NULL;
    if ((status = d2l_session_create(model, &session)) == D2L_OK) {
        const int64_t *declared;
        size_t rank;
        status = d2l_model_input_shape(model, 0, &declared, &rank);
        if (status == D2L_OK && rank > 16) status = D2L_ERR_INTERNAL; /* not in these files */
        if (status == D2L_OK) {
            int64_t shape[16];
            size_t count = 1;
            for (size_t i = 0; i < rank; i++) {
                shape[i] = declared[i] < 0 ? 1 : declared[i];
                count *= (size_t)shape[i];
            }
            d2l_dtype dtype = D2L_FLOAT32;
            status = d2l_model_input_dtype(model, 0, &dtype);
            void *zeros = calloc(count ? count : 1, 8); /* 8 bytes: the widest dtype */
            if (status == D2L_OK) status = d2l_session_set_input(session, 0, dtype, zeros, shape, rank);
            if (status == D2L_OK) status = d2l_session_run(session);
            free(zeros);
        }
        d2l_session_free(session);
    }
    if (status == D2L_OK) *out_model = model;
    else d2l_model_free(model);
    return status;
}

static void check_valid_tiny(d2l_model *model, const char *how) {
    d2l_session *session = NULL;
    if (!check_status(d2l_session_create(model, &session), D2L_OK, "valid-tiny: session")) return;
    float x[4] = {1, 2, 3, 4};
    int64_t shape[2] = {1, 4};
    tensor y = {{0}, 0, NULL, 0};
    if (check_status(run_float(session, x, shape, 2, &y), D2L_OK, "valid-tiny: run")) {
        check(y.rank == 2 && y.dims[0] == 1 && y.dims[1] == 3 && fabsf(y.data[0] - 1) <= 1e-6f &&
                  fabsf(y.data[1]) <= 1e-6f && fabsf(y.data[2]) <= 1e-6f,
              "valid-tiny (%s): x = [1, 2, 3, 4] gives y = [1, 0, 0] (got rank %zu [%g, %g, %g])",
              how, y.rank, y.count > 0 ? y.data[0] : NAN, y.count > 1 ? y.data[1] : NAN,
              y.count > 2 ? y.data[2] : NAN);
    }
    tensor_free(&y);
    d2l_session_free(session);
}

static void test_bad_models(void) {
    char *dir = path_of("Tests/Fixtures/bad");
    char *table_path = join(dir, "expected.tsv");
    size_t size;
    char *table = (char *)read_file(table_path, &size);
    if (!check(table != NULL, "read %s", table_path)) goto done;
    table[size] = '\0';

    int lines = 0;
    char *listed = calloc(size + 2, 1); /* "\nname\n..." for the completeness check */
    if (!listed) abort();
    strcpy(listed, "\n");
    char *save = NULL;
    for (char *line = strtok_r(table, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        size_t length = strlen(line);
        if (length > 0 && line[length - 1] == '\r') line[--length] = '\0';
        if (length == 0 || line[0] == '#') continue;
        char *name = line, *status_name = strchr(line, '\t');
        if (!status_name) {
            check(0, "expected.tsv line \"%s\" has the form filename<TAB>STATUS<TAB>substring", line);
            continue;
        }
        *status_name++ = '\0';
        char *substring = strchr(status_name, '\t');
        if (substring) *substring++ = '\0'; else substring = "";
        lines++;
        strcat(listed, name);
        strcat(listed, "\n");

        char *path = join(dir, name);
        int external = strncmp(name, "external-", 9) == 0;
        for (int from_memory = 0; from_memory < 2; from_memory++) {
            const char *how = from_memory ? "memory" : "file";
            unsigned char *bytes = NULL;
            size_t byte_count = 0;
            if (from_memory && !check((bytes = read_file(path, &byte_count)) != NULL,
                                      "read %s", path))
                continue;
            d2l_model *model = NULL;
            d2l_status status = try_model(from_memory ? NULL : path, bytes, byte_count, &model);
            free(bytes);
            const char *got = d2l_status_string(status);
            const char *message = status == D2L_OK ? "" : d2l_last_error();
            if (from_memory && external) {
                check(status != D2L_OK, "%s from memory: refused (%s: %s)", name, got, message);
                check(status == D2L_OK || contains_nocase(message, "external"),
                      "%s from memory: the message mentions external data", name);
            } else {
                check(strcmp(got, status_name) == 0, "%s from %s: %s (expected %s; message: %s)",
                      name, how, got, status_name, message);
                if (status != D2L_OK)
                    check(contains_nocase(message, substring),
                          "%s from %s: message contains \"%s\" (\"%s\")", name, how, substring,
                          message);
            }
            if (model && strcmp(name, "valid-tiny.onnx") == 0) check_valid_tiny(model, how);
            d2l_model_free(model);
        }
        free(path);
    }
    check(lines >= 20, "expected.tsv lists %d files", lines);

    /* Every bad model on disk is in the table. */
    char **files = list_dir(dir, "");
    for (char **f = files; *f; f++) {
        size_t n = strlen(*f);
        if (n < 5 || strcmp(*f + n - 5, ".onnx") != 0) continue;
        char needle[512];
        snprintf(needle, sizeof needle, "\n%s\n", *f);
        check(strstr(listed, needle) != NULL, "%s is listed in expected.tsv", *f);
    }
    free_names(files);
    free(listed);
done:
    free(table);
    free(table_path);
    free(dir);
}

/* ------------------------------------------------------------------------------------ */
/* NULL pointers and indices                                                            */
/* ------------------------------------------------------------------------------------ */

static void test_null_arguments(const d2l_model *model, const char *model_path) {
    d2l_model *m = SENTINEL_MODEL;
    check_status(d2l_model_load_file(NULL, &m), D2L_ERR_INVALID_ARGUMENT, "d2l_model_load_file(NULL path)");
    check(m == SENTINEL_MODEL, "d2l_model_load_file(NULL path): out_model untouched");
    check_status(d2l_model_load_file(model_path, NULL), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_load_file(NULL out_model)");
    check_status(d2l_model_load_file("/nonexistent/model.onnx", &m), D2L_ERR_IO,
                 "d2l_model_load_file(missing file)");
    check(m == SENTINEL_MODEL, "d2l_model_load_file(missing file): out_model untouched");
    check_status(d2l_model_load_memory(NULL, 10, &m), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_load_memory(NULL data)");
    check_status(d2l_model_load_memory(NULL, 0, &m), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_load_memory(NULL data, size 0)");
    check(m == SENTINEL_MODEL, "d2l_model_load_memory(NULL data): out_model untouched");
    static const unsigned char some_bytes[4] = {0};
    check_status(d2l_model_load_memory(some_bytes, sizeof some_bytes, NULL),
                 D2L_ERR_INVALID_ARGUMENT, "d2l_model_load_memory(NULL out_model)");

    d2l_model_free(NULL);
    d2l_session_free(NULL);
    check(1, "d2l_model_free(NULL) and d2l_session_free(NULL) are no-ops");

    check(d2l_model_input_count(NULL) == 0, "d2l_model_input_count(NULL) == 0");
    check(d2l_model_output_count(NULL) == 0, "d2l_model_output_count(NULL) == 0");
    check(d2l_model_input_name(NULL, 0) == NULL, "d2l_model_input_name(NULL, 0) == NULL");
    check(d2l_model_output_name(NULL, 0) == NULL, "d2l_model_output_name(NULL, 0) == NULL");
    size_t inputs = d2l_model_input_count(model), outputs = d2l_model_output_count(model);
    check(d2l_model_input_name(model, inputs) == NULL, "d2l_model_input_name(index == count) == NULL");
    check(d2l_model_output_name(model, outputs) == NULL, "d2l_model_output_name(index == count) == NULL");
    check(d2l_model_input_name(model, SIZE_MAX) == NULL, "d2l_model_input_name(SIZE_MAX) == NULL");
    check(d2l_model_output_name(model, SIZE_MAX) == NULL, "d2l_model_output_name(SIZE_MAX) == NULL");

    /* Shapes and dtypes of inputs and outputs. */
    for (int output = 0; output < 2; output++) {
        const char *fn = output ? "d2l_model_output_shape" : "d2l_model_input_shape";
        d2l_status (*shape_of)(const d2l_model *, size_t, const int64_t **, size_t *) =
            output ? d2l_model_output_shape : d2l_model_input_shape;
        size_t count = output ? outputs : inputs;
        struct { const d2l_model *model; size_t index; int null_shape, null_rank; const char *what; } cases[] = {
            {NULL, 0, 0, 0, "NULL model"},
            {model, 0, 1, 0, "NULL out_shape"},
            {model, 0, 0, 1, "NULL out_rank"},
            {model, count, 0, 0, "index == count"},
            {model, SIZE_MAX, 0, 0, "index SIZE_MAX"},
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            const int64_t *shape = SENTINEL_SHAPE;
            size_t rank = SENTINEL_RANK;
            char what[128];
            snprintf(what, sizeof what, "%s(%s)", fn, cases[i].what);
            check_status(shape_of(cases[i].model, cases[i].index, cases[i].null_shape ? NULL : &shape,
                                  cases[i].null_rank ? NULL : &rank),
                         D2L_ERR_INVALID_ARGUMENT, what);
            check(shape == SENTINEL_SHAPE && rank == SENTINEL_RANK, "%s: out-parameters untouched", what);
        }
        const char *dfn = output ? "d2l_model_output_dtype" : "d2l_model_input_dtype";
        d2l_status (*dtype_of)(const d2l_model *, size_t, d2l_dtype *) =
            output ? d2l_model_output_dtype : d2l_model_input_dtype;
        d2l_dtype dtype = SENTINEL_DTYPE;
        char what[128];
        snprintf(what, sizeof what, "%s(NULL model)", dfn);
        check_status(dtype_of(NULL, 0, &dtype), D2L_ERR_INVALID_ARGUMENT, what);
        snprintf(what, sizeof what, "%s(NULL out_dtype)", dfn);
        check_status(dtype_of(model, 0, NULL), D2L_ERR_INVALID_ARGUMENT, what);
        snprintf(what, sizeof what, "%s(index == count)", dfn);
        check_status(dtype_of(model, count, &dtype), D2L_ERR_INVALID_ARGUMENT, what);
        snprintf(what, sizeof what, "%s(index SIZE_MAX)", dfn);
        check_status(dtype_of(model, SIZE_MAX, &dtype), D2L_ERR_INVALID_ARGUMENT, what);
        check(dtype == SENTINEL_DTYPE, "%s: out_dtype untouched", dfn);
    }

    check(d2l_model_metadata(NULL, "d2l.labels") == NULL, "d2l_model_metadata(NULL model) == NULL");
    check(d2l_model_metadata(model, NULL) == NULL, "d2l_model_metadata(NULL key) == NULL");
    check(d2l_model_metadata(model, "no.such.key") == NULL, "d2l_model_metadata(absent key) == NULL");
    check(d2l_model_metadata_count(NULL) == 0, "d2l_model_metadata_count(NULL) == 0");
    check(d2l_model_metadata_key(NULL, 0) == NULL, "d2l_model_metadata_key(NULL, 0) == NULL");
    check(d2l_model_metadata_key(model, d2l_model_metadata_count(model)) == NULL,
          "d2l_model_metadata_key(index == count) == NULL");
    check(d2l_model_opset(NULL) == 0, "d2l_model_opset(NULL) == 0");

    /* Sessions. */
    d2l_session *s = SENTINEL_SESSION;
    check_status(d2l_session_create(NULL, &s), D2L_ERR_INVALID_ARGUMENT, "d2l_session_create(NULL model)");
    check(s == SENTINEL_SESSION, "d2l_session_create(NULL model): out_session untouched");
    check_status(d2l_session_create(model, NULL), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_session_create(NULL out_session)");
    check_status(d2l_session_set_threads(NULL, 1), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_session_set_threads(NULL)");
    float pixels[28 * 28] = {0};
    int64_t shape[4] = {1, 1, 28, 28};
    check_status(d2l_session_set_input(NULL, 0, D2L_FLOAT32, pixels, shape, 4),
                 D2L_ERR_INVALID_ARGUMENT, "d2l_session_set_input(NULL session)");
    check_status(d2l_session_run(NULL), D2L_ERR_INVALID_ARGUMENT, "d2l_session_run(NULL)");
    d2l_dtype dtype = SENTINEL_DTYPE;
    const void *data = SENTINEL_DATA;
    const int64_t *out_shape = SENTINEL_SHAPE;
    size_t rank = SENTINEL_RANK;
    check_status(d2l_session_get_output(NULL, 0, &dtype, &data, &out_shape, &rank),
                 D2L_ERR_INVALID_ARGUMENT, "d2l_session_get_output(NULL session)");
    check(dtype == SENTINEL_DTYPE && data == SENTINEL_DATA && out_shape == SENTINEL_SHAPE &&
              rank == SENTINEL_RANK,
          "d2l_session_get_output(NULL session): out-parameters untouched");
}

/* ------------------------------------------------------------------------------------ */
/* Sessions: order of calls, bad inputs, batches, threads                               */
/* ------------------------------------------------------------------------------------ */

/** Calls d2l_session_get_output with the out-parameter `null_which` (0..3: dtype, data,
 *  shape, rank; -1: none) set to NULL; checks the status and that the others are
 *  untouched. */
static void check_get_output_fails(d2l_session *s, size_t index, int null_which,
                                   const char *what) {
    d2l_dtype dtype = SENTINEL_DTYPE;
    const void *data = SENTINEL_DATA;
    const int64_t *shape = SENTINEL_SHAPE;
    size_t rank = SENTINEL_RANK;
    d2l_status status = d2l_session_get_output(s, index, null_which == 0 ? NULL : &dtype,
                                               null_which == 1 ? NULL : &data,
                                               null_which == 2 ? NULL : &shape,
                                               null_which == 3 ? NULL : &rank);
    check_status(status, D2L_ERR_INVALID_ARGUMENT, what);
    check(dtype == SENTINEL_DTYPE && data == SENTINEL_DATA && shape == SENTINEL_SHAPE &&
              rank == SENTINEL_RANK,
          "%s: out-parameters untouched", what);
}

/** Runs the session on its current inputs and compares output 0 with `expected`
 *  exactly. */
static void check_rerun_gives(d2l_session *s, const tensor *expected, const char *what) {
    d2l_status status = d2l_session_run(s);
    d2l_dtype dtype;
    const void *data = NULL;
    const int64_t *shape;
    size_t rank = 0;
    if (status == D2L_OK) status = d2l_session_get_output(s, 0, &dtype, &data, &shape, &rank);
    int same = status == D2L_OK && rank == expected->rank &&
               memcmp(shape, expected->dims, rank * sizeof *shape) == 0 &&
               memcmp(data, expected->data, expected->count * sizeof(float)) == 0;
    check(same, "%s: the previous input is kept (a run gives the old result; %s)", what,
          d2l_status_string(status));
}

static void test_session_errors(const d2l_model *model) {
    d2l_session *s = NULL;
    if (!check_status(d2l_session_create(model, &s), D2L_OK, "d2l_session_create(lenet)")) return;

    /* Out of order. */
    check_get_output_fails(s, 0, -1, "d2l_session_get_output before any run");
    check_status(d2l_session_run(s), D2L_ERR_INVALID_ARGUMENT, "d2l_session_run before inputs are set");
    check_get_output_fails(s, 0, -1, "d2l_session_get_output after a failed first run");

    /* A good first run. */
    float pixels[28 * 28], other[28 * 28];
    fill_images(pixels, 28 * 28, 1);
    fill_images(other, 28 * 28, 2);
    int64_t shape[4] = {1, 1, 28, 28};
    tensor first = {{0}, 0, NULL, 0};
    if (!check_status(run_float(s, pixels, shape, 4, &first), D2L_OK, "lenet: first run")) {
        d2l_session_free(s);
        return;
    }
    check(first.rank == 2 && first.dims[0] == 1 && first.dims[1] == 10,
          "lenet: output shape [1, 10] (rank %zu)", first.rank);

    /* get_output: index out of range, each NULL out-parameter. */
    check_get_output_fails(s, d2l_model_output_count(model), -1, "d2l_session_get_output(index == count)");
    check_get_output_fails(s, SIZE_MAX, -1, "d2l_session_get_output(index SIZE_MAX)");
    static const char *out_names[] = {"out_dtype", "out_data", "out_shape", "out_rank"};
    for (int i = 0; i < 4; i++) {
        char what[96];
        snprintf(what, sizeof what, "d2l_session_get_output(NULL %s)", out_names[i]);
        check_get_output_fails(s, 0, i, what);
    }

    /* set_input: every way to get it wrong; the previous input must survive each. */
    struct {
        size_t index;
        int dtype;
        int null_data, null_shape;
        int64_t shape[5];
        size_t rank;
        d2l_status expected;
        const char *what;
    } cases[] = {
        {0, D2L_FLOAT32, 1, 0, {1, 1, 28, 28}, 4, D2L_ERR_INVALID_ARGUMENT, "NULL data"},
        {0, D2L_FLOAT32, 0, 1, {1, 1, 28, 28}, 4, D2L_ERR_INVALID_ARGUMENT, "NULL shape"},
        {1, D2L_FLOAT32, 0, 0, {1, 1, 28, 28}, 4, D2L_ERR_INVALID_ARGUMENT, "index == count"},
        {SIZE_MAX, D2L_FLOAT32, 0, 0, {1, 1, 28, 28}, 4, D2L_ERR_INVALID_ARGUMENT, "index SIZE_MAX"},
        {0, D2L_FLOAT32, 0, 0, {1, 28, 28}, 3, D2L_ERR_SHAPE, "rank 3 instead of 4"},
        {0, D2L_FLOAT32, 0, 0, {1, 1, 1, 28, 28}, 5, D2L_ERR_SHAPE, "rank 5 instead of 4"},
        {0, D2L_FLOAT32, 0, 0, {1, 1, 28, 27}, 4, D2L_ERR_SHAPE, "fixed dim 28 given as 27"},
        {0, D2L_FLOAT32, 0, 0, {1, 2, 28, 28}, 4, D2L_ERR_SHAPE, "fixed channels 1 given as 2"},
        {0, D2L_FLOAT32, 0, 0, {-1, 1, 28, 28}, 4, D2L_ERR_SHAPE, "negative batch dim"},
        {0, D2L_FLOAT32, 0, 0, {1, 1, -28, 28}, 4, D2L_ERR_SHAPE, "negative fixed dim"},
        {0, D2L_FLOAT32, 0, 0, {0, 1, 28, 28}, 4, D2L_ERR_SHAPE, "batch 0"},
        {0, D2L_INT64, 0, 0, {1, 1, 28, 28}, 4, D2L_ERR_INVALID_ARGUMENT, "wrong dtype int64"},
        {0, D2L_UINT8, 0, 0, {1, 1, 28, 28}, 4, D2L_ERR_INVALID_ARGUMENT, "wrong dtype uint8"},
        {0, 99, 0, 0, {1, 1, 28, 28}, 4, D2L_ERR_INVALID_ARGUMENT, "invalid dtype code 99"},
        {0, 0, 0, 0, {1, 1, 28, 28}, 4, D2L_ERR_INVALID_ARGUMENT, "invalid dtype code 0"},
    };
    /* Big enough for any of the shapes above as int64 (2 * 28 * 28 elements). */
    int64_t *wide = calloc(2 * 28 * 28, sizeof *wide);
    if (!wide) abort();
    memcpy(wide, other, sizeof other);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char what[128];
        snprintf(what, sizeof what, "d2l_session_set_input(%s)", cases[i].what);
        d2l_status status = d2l_session_set_input(s, cases[i].index, (d2l_dtype)cases[i].dtype,
                                                  cases[i].null_data ? NULL : (const void *)wide,
                                                  cases[i].null_shape ? NULL : cases[i].shape,
                                                  cases[i].rank);
        check_status(status, cases[i].expected, what);
        check(d2l_last_error()[0] != '\0', "%s: d2l_last_error() says why (\"%s\")", what,
              d2l_last_error());
        check_rerun_gives(s, &first, what);
    }
    free(wide);

    /* A different image changes the result; the session is still usable. */
    tensor second = {{0}, 0, NULL, 0};
    if (check_status(run_float(s, other, shape, 4, &second), D2L_OK, "lenet: run on another image"))
        check(max_abs_diff(first.data, second.data, first.count) > 0,
              "lenet: another image gives other logits");
    tensor_free(&second);

    /* set_threads: a bad value keeps the setting; 2 threads give the same outputs. */
    check_status(d2l_session_set_threads(s, 257), D2L_ERR_INVALID_ARGUMENT, "d2l_session_set_threads(257)");
    check_status(d2l_session_set_threads(s, SIZE_MAX), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_session_set_threads(SIZE_MAX)");
    size_t thread_counts[] = {2, 0, 1};
    for (size_t i = 0; i < 3; i++) {
        char what[64];
        snprintf(what, sizeof what, "d2l_session_set_threads(%zu)", thread_counts[i]);
        if (!check_status(d2l_session_set_threads(s, thread_counts[i]), D2L_OK, what)) continue;
        tensor t = {{0}, 0, NULL, 0};
        if (check_status(run_float(s, pixels, shape, 4, &t), D2L_OK, "run after set_threads")) {
            double diff = max_abs_diff(t.data, first.data, first.count);
            check(same_dims(&t, &first) && diff <= 1e-6,
                  "%zu threads: same outputs as 1 thread (max |diff| %.3g)", thread_counts[i], diff);
        }
        tensor_free(&t);
    }
    tensor_free(&first);
    d2l_session_free(s);
}

static void test_symbolic_batch(const d2l_model *model) {
    const int64_t *declared;
    size_t rank = 0;
    if (check_status(d2l_model_input_shape(model, 0, &declared, &rank), D2L_OK, "d2l_model_input_shape(lenet)"))
        check(rank == 4 && declared[0] == -1 && declared[1] == 1 && declared[2] == 28 && declared[3] == 28,
              "lenet: declared input shape [-1, 1, 28, 28]");
    d2l_dtype dtype = SENTINEL_DTYPE;
    check(d2l_model_input_dtype(model, 0, &dtype) == D2L_OK && dtype == D2L_FLOAT32, "lenet: input dtype float32");
    dtype = SENTINEL_DTYPE;
    check(d2l_model_output_dtype(model, 0, &dtype) == D2L_OK && dtype == D2L_FLOAT32, "lenet: output dtype float32");
    if (check_status(d2l_model_output_shape(model, 0, &declared, &rank), D2L_OK, "d2l_model_output_shape(lenet)"))
        check(rank == 2 && declared[0] == -1 && declared[1] == 10, "lenet: declared output shape [-1, 10]");
    const char *in = d2l_model_input_name(model, 0), *out = d2l_model_output_name(model, 0);
    check(in && strcmp(in, "x") == 0 && out && strcmp(out, "logits") == 0,
          "lenet: input \"x\", output \"logits\" (got \"%s\", \"%s\")", in ? in : "(null)", out ? out : "(null)");

    d2l_session *s = NULL;
    if (!check_status(d2l_session_create(model, &s), D2L_OK, "d2l_session_create(lenet)")) return;
    enum { pixels = 28 * 28 };
    float images[3 * pixels];
    fill_images(images, 3 * pixels, 7);
    tensor single[3] = {{{0}, 0, NULL, 0}, {{0}, 0, NULL, 0}, {{0}, 0, NULL, 0}};
    int64_t one[4] = {1, 1, 28, 28}, three[4] = {3, 1, 28, 28};
    int ok = 1;
    for (int i = 0; i < 3 && ok; i++)
        ok = run_float(s, images + i * pixels, one, 4, &single[i]) == D2L_OK;
    check(ok, "lenet: three runs at batch 1");
    tensor batch = {{0}, 0, NULL, 0}, again = {{0}, 0, NULL, 0};
    if (ok && check_status(run_float(s, images, three, 4, &batch), D2L_OK, "lenet: run at batch 3")) {
        check(batch.rank == 2 && batch.dims[0] == 3 && batch.dims[1] == 10, "lenet: batch 3 gives [3, 10]");
        for (int i = 0; i < 3 && batch.count == 30; i++) {
            double diff = max_abs_diff(batch.data + i * 10, single[i].data, 10);
            int bitwise = memcmp(batch.data + i * 10, single[i].data, 10 * sizeof(float)) == 0;
            /* Batches take other kernel paths (packed blocks, other tile edges): rounding only. */
            check(diff <= 1e-5, "lenet: image %d in a batch of 3 == alone (max |diff| %.3g%s)", i, diff,
                  bitwise ? ", bit-identical" : "");
        }
        if (check_status(run_float(s, images, one, 4, &again), D2L_OK, "lenet: back to batch 1"))
            check(same_dims(&again, &single[0]) && memcmp(again.data, single[0].data, 10 * sizeof(float)) == 0,
                  "lenet: batch 1 -> 3 -> 1 gives identical results");
    }
    tensor_free(&batch);
    tensor_free(&again);
    for (int i = 0; i < 3; i++) tensor_free(&single[i]);
    d2l_session_free(s);
}

/* ------------------------------------------------------------------------------------ */
/* Metadata                                                                             */
/* ------------------------------------------------------------------------------------ */

static void test_metadata(const d2l_model *model, const char *model_path) {
    /* The file's own metadata_props, read with protobuf-c, are the reference. */
    size_t size = 0;
    unsigned char *bytes = read_file(model_path, &size);
    Onnx__ModelProto *proto = bytes ? onnx__model_proto__unpack(NULL, size, bytes) : NULL;
    free(bytes);
    if (!check(proto != NULL, "parse %s with protobuf-c", model_path)) return;
    size_t count = d2l_model_metadata_count(model);
    check(count == proto->n_metadata_props && count >= 4,
          "lenet-fashion: d2l_model_metadata_count == %zu (got %zu)", proto->n_metadata_props, count);
    for (size_t i = 0; i < count && i < proto->n_metadata_props; i++) {
        const char *want_key = proto->metadata_props[i]->key;
        const char *want_value = proto->metadata_props[i]->value;
        const char *key = d2l_model_metadata_key(model, i);
        check(key && strcmp(key, want_key) == 0, "metadata key %zu is \"%s\" in file order (got \"%s\")",
              i, want_key, key ? key : "(null)");
        const char *value = d2l_model_metadata(model, want_key);
        check(value && strcmp(value, want_value) == 0, "d2l_model_metadata(\"%s\") is the file's value",
              want_key);
    }
    onnx__model_proto__free_unpacked(proto, NULL);
    const char *task = d2l_model_metadata(model, "d2l.task");
    check(task && strcmp(task, "classification") == 0, "d2l.task == \"classification\"");
    const char *labels = d2l_model_metadata(model, "d2l.labels");
    check(labels && strstr(labels, "\"ankle boot\"") && labels[0] == '[', "d2l.labels is the class list");
    const char *input = d2l_model_metadata(model, "d2l.input");
    check(input && strstr(input, "\"NCHW\""), "d2l.input names the NCHW layout");
    check(d2l_model_opset(model) == 17, "lenet-fashion: opset 17 (got %lld)", (long long)d2l_model_opset(model));
}

/* ------------------------------------------------------------------------------------ */
/* Errors are per thread; a model is shared by threads                                  */
/* ------------------------------------------------------------------------------------ */

static void *fresh_thread_error(void *arg) {
    const char *message = d2l_last_error();
    *(int *)arg = message != NULL && message[0] == '\0';
    return NULL;
}

static void test_last_error(const d2l_model *model) {
    d2l_model *m = SENTINEL_MODEL;
    check(d2l_model_load_file("/nonexistent/a-marker-path.onnx", &m) == D2L_ERR_IO,
          "loading a missing file fails with D2L_ERR_IO");
    char *message = strdup(d2l_last_error());
    check(strstr(message, "a-marker-path") != NULL,
          "d2l_last_error names the missing file (\"%s\")", message);
    check(d2l_model_input_count(model) == 1 && strcmp(d2l_last_error(), message) == 0,
          "a successful call does not clear d2l_last_error");
    pthread_t thread;
    int fresh = 0;
    if (check(pthread_create(&thread, NULL, fresh_thread_error, &fresh) == 0, "start a thread")) {
        pthread_join(thread, NULL);
        check(fresh, "a new thread's d2l_last_error() is \"\"");
    }
    check(strcmp(d2l_last_error(), message) == 0, "another thread does not change this thread's error");
    free(message);
}

enum { worker_count = 4, worker_runs = 50 };

typedef struct {
    const d2l_model *model;
    const float *images; /* 2 images: the worker alternates them */
    const float *expected; /* 2 x 10 logits */
    int mismatches, failures;
    char error[256];
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    d2l_session *s = NULL;
    if (d2l_session_create(w->model, &s) != D2L_OK) {
        w->failures++;
        snprintf(w->error, sizeof w->error, "%s", d2l_last_error());
        return NULL;
    }
    int64_t shape[4] = {1, 1, 28, 28};
    for (int run = 0; run < worker_runs; run++) {
        int which = run % 2;
        tensor t = {{0}, 0, NULL, 0};
        if (run_float(s, w->images + which * 28 * 28, shape, 4, &t) != D2L_OK) {
            w->failures++;
            snprintf(w->error, sizeof w->error, "%s", d2l_last_error());
        } else if (t.count != 10 || memcmp(t.data, w->expected + which * 10, 10 * sizeof(float)) != 0) {
            w->mismatches++;
        }
        tensor_free(&t);
    }
    d2l_session_free(s);
    return NULL;
}

static void test_shared_model(const d2l_model *model) {
    float images[2 * 28 * 28], expected[2 * 10];
    fill_images(images, 2 * 28 * 28, 11);
    d2l_session *s = NULL;
    if (!check_status(d2l_session_create(model, &s), D2L_OK, "d2l_session_create(reference)")) return;
    int64_t shape[4] = {1, 1, 28, 28};
    for (int i = 0; i < 2; i++) {
        tensor t = {{0}, 0, NULL, 0};
        if (!check_status(run_float(s, images + i * 28 * 28, shape, 4, &t), D2L_OK, "reference run")) {
            d2l_session_free(s);
            return;
        }
        memcpy(expected + i * 10, t.data, sizeof(float) * 10);
        tensor_free(&t);
    }
    d2l_session_free(s);

    worker workers[worker_count];
    pthread_t threads[worker_count];
    int started[worker_count] = {0};
    for (int i = 0; i < worker_count; i++) {
        workers[i] = (worker){model, images, expected, 0, 0, ""};
        started[i] = pthread_create(&threads[i], NULL, worker_main, &workers[i]) == 0;
        check(started[i], "start worker thread %d", i);
    }
    for (int i = 0; i < worker_count; i++) {
        if (!started[i]) continue;
        pthread_join(threads[i], NULL);
        check(workers[i].failures == 0 && workers[i].mismatches == 0,
              "thread %d: %d runs on the shared model, %d failed, %d differ from the reference%s%s", i,
              worker_runs, workers[i].failures, workers[i].mismatches, workers[i].error[0] ? ": " : "",
              workers[i].error);
    }
}

/* ------------------------------------------------------------------------------------ */
/* API version 3 conveniences (these headers use the helpers above)                     */
/* ------------------------------------------------------------------------------------ */

#include "image_input_tests.h"
#include "classify_row_tests.h"

/* ------------------------------------------------------------------------------------ */

int main(int argc, char **argv) {
    if (argc > 1) root = argv[1];
    setvbuf(stdout, NULL, _IOLBF, 0);

    test_info();
    test_fixtures();
    test_bad_models();
    test_detection();

    char *lenet_path = path_of("models/lenet-fashion.onnx");
    d2l_model *lenet = NULL;
    if (check_status(d2l_model_load_file(lenet_path, &lenet), D2L_OK, "load models/lenet-fashion.onnx")) {
        test_null_arguments(lenet, lenet_path);
        test_session_errors(lenet);
        test_symbolic_batch(lenet);
        test_metadata(lenet, lenet_path);
        char *lm_path = path_of("Tests/Fixtures/gru-lm-opset17/model.onnx");
        test_names(lenet, lm_path);
        free(lm_path);
        test_image_input(lenet);
        test_classify_row(lenet);
        test_last_error(lenet);
        test_shared_model(lenet);
        d2l_model_free(lenet);
    }
    free(lenet_path);

    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
