/*
 * image_input_tests.h — the checks of d2l_session_set_image_u8 (API version 3) for
 * test_capi.c:
 *  - every case of Tests/Fixtures/image-input (tools/fixtures/make-image-input-fixtures:
 *    identity models whose output is the prepared input, the image, and the input numpy
 *    computes by the rule of docs/FORMAT.md, checked there against PIL) within 1e-6;
 *  - lenet-fashion on an RGB sample through set_image_u8 + d2l_classify;
 *  - channel conversion and sizes on identity models made by model_builder.h;
 *  - every error (NULL pointers, sizes, channels, overflow, the input's dtype, rank and
 *    batch, malformed d2l.input), each with its status and message, the previous input kept.
 * Uses test_capi.c's helpers (read_any_tensor_pb, list_dir, join, max_abs_diff, run_output): included
 * after them.
 */
#ifndef D2L_TESTS_IMAGE_INPUT_H
#define D2L_TESTS_IMAGE_INPUT_H

static int dims_are(const tensor *t, int64_t n, int64_t c, int64_t h, int64_t w) {
    return t->rank == 4 && t->dims[0] == n && t->dims[1] == c && t->dims[2] == h && t->dims[3] == w;
}

/** Each fixture case: set_image_u8 then the identity's output == NAME.expected.pb. */
static void test_image_fixtures(void) {
    char *dir = path_of("Tests/Fixtures/image-input");
    char **names = list_dir(dir, "");
    size_t cases = 0;
    for (char **name = names; *name; name++) {
        size_t n = strlen(*name);
        if (n < 6 || strcmp(*name + n - 5, ".onnx") != 0) continue;
        cases++;
        char stem[256];
        snprintf(stem, sizeof stem, "%.*s", (int)(n - 5), *name);
        char file[300];
        char *model_path = join(dir, *name);
        snprintf(file, sizeof file, "%s.pixels.pb", stem);
        char *pixels_path = join(dir, file);
        snprintf(file, sizeof file, "%s.expected.pb", stem);
        char *expected_path = join(dir, file);
        d2l_model *model = NULL;
        d2l_session *s = NULL;
        any_tensor pixels = {{0}, 0, 0, NULL, 0}, expected = {{0}, 0, 0, NULL, 0};
        if (check_status(d2l_model_load_file(model_path, &model), D2L_OK, stem)
            && check(read_any_tensor_pb(pixels_path, &pixels) == 0 && pixels.dtype == D2L_UINT8 && pixels.rank == 3,
                     "%s: read the [H, W, C] uint8 image", stem)
            && check(read_any_tensor_pb(expected_path, &expected) == 0 && expected.dtype == D2L_FLOAT32 && expected.rank == 4,
                     "%s: read the expected [1, C, H, W] input", stem)
            && check_status(d2l_session_create(model, &s), D2L_OK, "d2l_session_create")) {
            d2l_status status = d2l_session_set_image_u8(s, 0, pixels.data, (size_t)pixels.dims[0], (size_t)pixels.dims[1],
                                                         (size_t)pixels.dims[2]);
            char what[320];
            snprintf(what, sizeof what, "%s: d2l_session_set_image_u8 of a %lldx%lldx%lld image", stem,
                     (long long)pixels.dims[0], (long long)pixels.dims[1], (long long)pixels.dims[2]);
            tensor got = {{0}, 0, NULL, 0};
            if (check_status(status, D2L_OK, what) && check_status(run_output(s, &got), D2L_OK, "run the identity")) {
                char want_dims[128], got_dims[128];
                format_dims(expected.dims, expected.rank, want_dims, sizeof want_dims);
                format_dims(got.dims, got.rank, got_dims, sizeof got_dims);
                int same = got.rank == expected.rank && memcmp(got.dims, expected.dims, got.rank * sizeof *got.dims) == 0;
                check(same, "%s: the input is %s (got %s)", stem, want_dims, got_dims);
                if (same) {
                    double diff = max_abs_diff(got.data, expected.data, expected.count);
                    check(diff <= 1e-6, "%s: equals the numpy reference, max |diff| %.3g <= 1e-6", stem, diff);
                }
            }
            tensor_free(&got);
        }
        free(pixels.data);
        free(expected.data);
        d2l_session_free(s);
        d2l_model_free(model);
        free(model_path);
        free(pixels_path);
        free(expected_path);
    }
    check(cases >= 7, "Tests/Fixtures/image-input holds %zu cases (at least 7)", cases);
    free_names(names);
    free(dir);
}

/** lenet-fashion classifies its 56x56 RGB sample (made grayscale and shrunk) as an ankle boot. */
static void test_image_classify(const d2l_model *lenet) {
    char *path = path_of("Tests/Fixtures/image-input/ankle-boot-rgb-56.pixels.pb");
    any_tensor pixels = {{0}, 0, 0, NULL, 0};
    d2l_session *s = NULL;
    if (check(read_any_tensor_pb(path, &pixels) == 0, "read the ankle boot sample")
        && check_status(d2l_session_create(lenet, &s), D2L_OK, "d2l_session_create(lenet)")) {
        size_t index = 9, count = 0;
        double probability = 0;
        const char *label = NULL;
        check_status(d2l_session_set_image_u8(s, 0, pixels.data, 56, 56, 3), D2L_OK, "lenet: set_image_u8 56x56 RGB");
        check_status(d2l_session_run(s), D2L_OK, "lenet: run");
        check_status(d2l_classify(s, 1, &index, &probability, &label, &count), D2L_OK, "lenet: classify");
        check(count == 1 && label && strcmp(label, "ankle boot") == 0, "lenet: the top class is \"ankle boot\" (%s, %.3f)",
              label ? label : "(null)", probability);
    }
    d2l_session_free(s);
    free(pixels.data);
    free(path);
}

/** Channel conversion and sizes, on identity models with chosen dims. */
static void test_image_conversions(void) {
    /* A 2x2 RGB image: L of (255, 0, 0) is 76, of (0, 255, 0) 150, of (0, 0, 255) 29, of (10, 20, 30) 18. */
    const uint8_t rgb[12] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
    const uint8_t rgba[16] = {255, 0, 0, 1, 0, 255, 0, 2, 0, 0, 255, 3, 10, 20, 30, 4};
    const uint8_t gray[4] = {0, 51, 102, 255};
    d2l_model *m = NULL;
    d2l_session *s = NULL;
    tensor t = {{0}, 0, NULL, 0};

    const int64_t one_channel[4] = {-1, 1, 2, 2};
    if (check_status(build_image_model(one_channel, "{\"range\": [0, 255]}", &m), D2L_OK, "identity [batch, 1, 2, 2]")) {
        check_status(d2l_session_create(m, &s), D2L_OK, "session");
        if (check_status(d2l_session_set_image_u8(s, 0, rgb, 2, 2, 3), D2L_OK, "RGB into 1 channel")
            && check_status(run_output(s, &t), D2L_OK, "run")) {
            check(dims_are(&t, 1, 1, 2, 2) && t.data[0] == 76 && t.data[1] == 150 && t.data[2] == 29 && t.data[3] == 18,
                  "PIL's L: 76 150 29 18 (got %g %g %g %g)", t.data[0], t.data[1], t.data[2], t.data[3]);
            tensor_free(&t);
        }
        if (check_status(d2l_session_set_image_u8(s, 0, rgba, 2, 2, 4), D2L_OK, "RGBA into 1 channel")
            && check_status(run_output(s, &t), D2L_OK, "run")) {
            check(t.data[0] == 76 && t.data[1] == 150 && t.data[2] == 29 && t.data[3] == 18, "alpha is dropped before L");
            tensor_free(&t);
        }
        d2l_session_free(s);
        s = NULL;
        d2l_model_free(m);
    }

    const int64_t two_channels[4] = {1, 2, 2, 2};
    if (check_status(build_image_model(two_channels, NULL, &m), D2L_OK, "identity [1, 2, 2, 2], no d2l.input")) {
        check_status(d2l_session_create(m, &s), D2L_OK, "session");
        if (check_status(d2l_session_set_image_u8(s, 0, gray, 2, 2, 1), D2L_OK, "gray into 2 channels")
            && check_status(run_output(s, &t), D2L_OK, "run")) {
            int same = dims_are(&t, 1, 2, 2, 2);
            for (int i = 0; same && i < 4; i++) same = t.data[i] == t.data[4 + i] && fabsf(t.data[i] - gray[i] / 255.0f) < 1e-7f;
            check(same, "the gray plane (p / 255: range [0, 1] without d2l.input) is repeated");
            tensor_free(&t);
        }
        check_status(d2l_session_set_image_u8(s, 0, rgb, 2, 2, 3), D2L_ERR_SHAPE, "RGB into 2 channels");
        check(strstr(d2l_last_error(), "2 channels") != NULL, "the message names the 2 channels: %s", d2l_last_error());
        d2l_session_free(s);
        s = NULL;
        d2l_model_free(m);
    }

    const int64_t symbolic[4] = {-1, -1, -1, -1};
    if (check_status(build_image_model(symbolic, "{\"size\": [3, 1]}", &m), D2L_OK, "identity, every dim symbolic")) {
        check_status(d2l_session_create(m, &s), D2L_OK, "session");
        if (check_status(d2l_session_set_image_u8(s, 0, gray, 2, 2, 1), D2L_OK, "gray into symbolic C")
            && check_status(run_output(s, &t), D2L_OK, "run")) {
            check(dims_are(&t, 1, 1, 3, 1), "a gray image gives [1, 1, 3, 1] (d2l.input's size)");
            tensor_free(&t);
        }
        if (check_status(d2l_session_set_image_u8(s, 0, rgba, 2, 2, 4), D2L_OK, "RGBA into symbolic C")
            && check_status(run_output(s, &t), D2L_OK, "run")) {
            check(dims_are(&t, 1, 3, 3, 1), "an RGBA image gives [1, 3, 3, 1]");
            tensor_free(&t);
        }
        d2l_session_free(s);
        s = NULL;
        d2l_model_free(m);
    }

    /* Without size or fixed H and W the image keeps its size, whatever it is each time. */
    const int64_t own[4] = {-1, 1, -1, -1};
    if (check_status(build_image_model(own, NULL, &m), D2L_OK, "identity [batch, 1, ?, ?]")) {
        uint8_t big[5 * 7] = {0};
        check_status(d2l_session_create(m, &s), D2L_OK, "session");
        if (check_status(d2l_session_set_image_u8(s, 0, gray, 2, 2, 1), D2L_OK, "a 2x2 image")
            && check_status(run_output(s, &t), D2L_OK, "run")) {
            check(dims_are(&t, 1, 1, 2, 2), "gives [1, 1, 2, 2]");
            tensor_free(&t);
        }
        if (check_status(d2l_session_set_image_u8(s, 0, big, 5, 7, 1), D2L_OK, "then a 5x7 image")
            && check_status(run_output(s, &t), D2L_OK, "run")) {
            check(dims_are(&t, 1, 1, 5, 7), "gives [1, 1, 5, 7]");
            tensor_free(&t);
        }
        d2l_session_free(s);
        d2l_model_free(m);
    }
}

/** Sets a good image, then checks that `status` (of a failed call) is `want` and that the
 *  session still runs on the good image. */
static void check_image_error(d2l_session *s, const tensor *before, d2l_status status, d2l_status want,
                              const char *what, const char *message_part) {
    check_status(status, want, what);
    if (message_part)
        check(strstr(d2l_last_error(), message_part) != NULL, "%s: the message says '%s': %s", what, message_part,
              d2l_last_error());
    tensor after = {{0}, 0, NULL, 0};
    if (before && check_status(run_output(s, &after), D2L_OK, "run after the error"))
        check(same_dims(&after, before) && memcmp(after.data, before->data, before->count * sizeof(float)) == 0,
              "%s: the previous input is kept", what);
    tensor_free(&after);
}

static void test_image_errors(const d2l_model *lenet) {
    d2l_session *s = NULL;
    if (!check_status(d2l_session_create(lenet, &s), D2L_OK, "d2l_session_create(lenet)")) return;
    uint8_t pixels[28 * 28 * 4];
    for (size_t i = 0; i < sizeof pixels; i++) pixels[i] = (uint8_t)(i * 7);
    tensor before = {{0}, 0, NULL, 0};
    if (!check_status(d2l_session_set_image_u8(s, 0, pixels, 28, 28, 1), D2L_OK, "lenet: a first 28x28 image")
        || !check_status(run_output(s, &before), D2L_OK, "lenet: run")) {
        d2l_session_free(s);
        return;
    }
    const char *fn = "d2l_session_set_image_u8";
    check_image_error(s, &before, d2l_session_set_image_u8(NULL, 0, pixels, 28, 28, 1), D2L_ERR_INVALID_ARGUMENT,
                      "set_image_u8(NULL session)", "session is NULL");
    check_image_error(s, &before, d2l_session_set_image_u8(s, 0, NULL, 28, 28, 1), D2L_ERR_INVALID_ARGUMENT,
                      "set_image_u8(NULL pixels)", "pixels is NULL");
    check_image_error(s, &before, d2l_session_set_image_u8(s, 1, pixels, 28, 28, 1), D2L_ERR_INVALID_ARGUMENT,
                      "set_image_u8(index 1 of 1)", "out of range");
    check_image_error(s, &before, d2l_session_set_image_u8(s, SIZE_MAX, pixels, 28, 28, 1), D2L_ERR_INVALID_ARGUMENT,
                      "set_image_u8(index SIZE_MAX)", "out of range");
    check_image_error(s, &before, d2l_session_set_image_u8(s, 0, pixels, 0, 28, 1), D2L_ERR_INVALID_ARGUMENT,
                      "set_image_u8(height 0)", "at least 1");
    check_image_error(s, &before, d2l_session_set_image_u8(s, 0, pixels, 28, 0, 1), D2L_ERR_INVALID_ARGUMENT,
                      "set_image_u8(width 0)", "at least 1");
    check_image_error(s, &before, d2l_session_set_image_u8(s, 0, pixels, 28, 28, 0), D2L_ERR_INVALID_ARGUMENT,
                      "set_image_u8(channels 0)", "channels is 0");
    check_image_error(s, &before, d2l_session_set_image_u8(s, 0, pixels, 28, 28, 2), D2L_ERR_INVALID_ARGUMENT,
                      "set_image_u8(channels 2)", "channels is 2");
    check_image_error(s, &before, d2l_session_set_image_u8(s, 0, pixels, 28, 28, 5), D2L_ERR_INVALID_ARGUMENT,
                      "set_image_u8(channels 5)", "channels is 5");
    check_image_error(s, &before, d2l_session_set_image_u8(s, 0, pixels, SIZE_MAX / 2, 4, 3), D2L_ERR_INVALID_ARGUMENT,
                      "set_image_u8(height x width x channels overflows)", "too large");
    check_image_error(s, &before, d2l_session_set_image_u8(s, 0, pixels, (size_t)1 << 21, (size_t)1 << 21, 4),
                      D2L_ERR_INVALID_ARGUMENT, "set_image_u8(2^21 x 2^21 x 4: no overflow, above the tensor limit)",
                      "too large");
    check_image_error(s, &before, d2l_session_set_image_u8(s, 0, pixels, SIZE_MAX, SIZE_MAX, SIZE_MAX),
                      D2L_ERR_INVALID_ARGUMENT, "set_image_u8(every size SIZE_MAX)", NULL);
    check(strstr(d2l_last_error(), fn) != NULL, "messages start with the function's name: %s", d2l_last_error());
    tensor_free(&before);
    d2l_session_free(s);

    /* The input: float32 and rank 4, a batch of 1 possible. */
    static const struct {
        const char *what;
        built_value value;
        d2l_status want;
        const char *message;
    } inputs[] = {
        {"an int64 [N, 1, 2, 2] input", {"x", D2L_INT64, 4, {-1, 1, 2, 2}, {"batch"}}, D2L_ERR_INVALID_ARGUMENT, "float32"},
        {"a uint8 [N, 1, 2, 2] input", {"x", D2L_UINT8, 4, {-1, 1, 2, 2}, {"batch"}}, D2L_ERR_INVALID_ARGUMENT, "uint8"},
        {"a float32 [N, 4] input", {"x", D2L_FLOAT32, 2, {-1, 4}, {"batch"}}, D2L_ERR_INVALID_ARGUMENT, "[N, C, H, W]"},
        {"a float32 [N, 1, 2, 2, 1] input", {"x", D2L_FLOAT32, 5, {-1, 1, 2, 2, 1}, {"batch"}}, D2L_ERR_INVALID_ARGUMENT,
         "[N, C, H, W]"},
        {"a fixed batch of 2", {"x", D2L_FLOAT32, 4, {2, 1, 2, 2}, {NULL}}, D2L_ERR_SHAPE, "batch of 2"},
        {"a fixed batch of 1", {"x", D2L_FLOAT32, 4, {1, 1, 2, 2}, {NULL}}, D2L_OK, NULL},
    };
    const uint8_t gray[4] = {1, 2, 3, 4};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        d2l_model *m = NULL;
        if (!check_status(build_identity_model(&inputs[i].value, 1, NULL, 0, &m), D2L_OK, inputs[i].what)) continue;
        check_status(d2l_session_create(m, &s), D2L_OK, "session");
        char what[160];
        snprintf(what, sizeof what, "set_image_u8 into %s", inputs[i].what);
        check_image_error(s, NULL, d2l_session_set_image_u8(s, 0, gray, 2, 2, 1), inputs[i].want, what, inputs[i].message);
        d2l_session_free(s);
        d2l_model_free(m);
    }

    /* Malformed d2l.input: D2L_ERR_INVALID_MODEL saying why. */
    static const struct {
        const char *json;
        const char *message;
    } specs[] = {
        {"[0, 1]", "not a JSON object"},
        {"not json", "not a JSON object"},
        {"", "not a JSON object"},
        {"{\"layout\": \"NHWC\"}", "only \"NCHW\""},
        {"{\"layout\": 4}", "\"layout\" must be a string"},
        {"{\"range\": [0]}", "\"range\""},
        {"{\"range\": [0, \"1\"]}", "\"range\""},
        {"{\"range\": [0, 1e999]}", "\"range\""},
        {"{\"mean\": []}", "\"mean\""},
        {"{\"mean\": 0.5}", "\"mean\""},
        {"{\"std\": [0]}", "\"std\""},
        {"{\"std\": [1, -0.0]}", "\"std\""},
        {"{\"size\": [0, 2]}", "\"size\""},
        {"{\"size\": [2.5, 2]}", "\"size\""},
        {"{\"size\": [2]}", "\"size\""},
        {"{\"size\": [3, 3]}", "differs from the fixed height and width"},
        {"{\"mean\": [0.1, 0.2]}", "2 \"mean\" values for a 1-channel input"},
        {"{\"range\": [0, 1],}", "well-formed"},
        {"{\"range\": [0, 1]} trailing", "text after"},
        {"{\"range\": [01, 2]}", "\"range\""},
        {"{\"extra\": [1, {\"a\": tru}]}", "well-formed JSON"},
    };
    const int64_t dims[4] = {-1, 1, 2, 2};
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        d2l_model *m = NULL;
        if (!check_status(build_image_model(dims, specs[i].json, &m), D2L_OK, "identity [batch, 1, 2, 2] with a bad d2l.input"))
            continue;
        check_status(d2l_session_create(m, &s), D2L_OK, "session");
        tensor good = {{0}, 0, NULL, 0};
        const float x[4] = {0.5f, 0.25f, 0.125f, 1};
        const int64_t shape[4] = {1, 1, 2, 2};
        if (check_status(d2l_session_set_input(s, 0, D2L_FLOAT32, x, shape, 4), D2L_OK, "set a float input first")
            && check_status(run_output(s, &good), D2L_OK, "run")) {
            char what[200];
            snprintf(what, sizeof what, "d2l.input %s", specs[i].json);
            check_image_error(s, &good, d2l_session_set_image_u8(s, 0, gray, 2, 2, 1), D2L_ERR_INVALID_MODEL, what,
                              specs[i].message);
        }
        tensor_free(&good);
        d2l_session_free(s);
        d2l_model_free(m);
    }
}

static void test_image_input(const d2l_model *lenet) {
    test_image_fixtures();
    test_image_classify(lenet);
    test_image_conversions();
    test_image_errors(lenet);
}

#endif
