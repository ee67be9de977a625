/*
 * classify_row_tests.h — the checks of d2l_classify_row (API version 3) for test_capi.c:
 * identity models whose output 0 is logits the test chooses ([2, 3, 4]: six rows; [5]: one),
 * checked against a softmax computed here; lenet-fashion on a batch of three images, each
 * row against d2l_classify of that image alone; d2l_classify == row 0; every error with
 * nothing written. Uses test_capi.c's helpers (fill_images): included after them.
 */
#ifndef D2L_TESTS_CLASSIFY_ROW_H
#define D2L_TESTS_CLASSIFY_ROW_H

/** The classes of `logits[0..classes)` by softmax, descending (ties: lower index), with
 *  their probabilities (float64). */
static void reference_top(const float *logits, size_t classes, size_t *order, double *probabilities) {
    double largest = -INFINITY, sum = 0;
    for (size_t i = 0; i < classes; i++) if (logits[i] > largest) largest = logits[i];
    for (size_t i = 0; i < classes; i++) sum += probabilities[i] = exp((double)logits[i] - largest);
    for (size_t i = 0; i < classes; i++) probabilities[i] /= sum;
    for (size_t i = 0; i < classes; i++) order[i] = i;
    for (size_t i = 0; i < classes; i++)
        for (size_t j = i + 1; j < classes; j++)
            if (probabilities[order[j]] > probabilities[order[i]]
                || (probabilities[order[j]] == probabilities[order[i]] && order[j] < order[i])) {
                size_t t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
}

/** Whether d2l_classify_row(s, row, top_k) gives the reference top-k of `logits`. */
static int row_matches(d2l_session *s, size_t row, size_t top_k, const float *logits, size_t classes) {
    size_t order[16], indices[16], count = 0;
    double reference[16], probabilities[16];
    reference_top(logits, classes, order, reference);
    if (d2l_classify_row(s, row, top_k, indices, probabilities, NULL, &count) != D2L_OK) return 0;
    size_t k = top_k < classes ? top_k : classes;
    if (count != k) return 0;
    for (size_t j = 0; j < k; j++)
        if (indices[j] != order[j] || fabs(probabilities[j] - reference[order[j]]) > 1e-12) return 0;
    return 1;
}

static void test_classify_row_identity(void) {
    built_value value = {"x", D2L_FLOAT32, 3, {2, 3, 4}, {NULL}};
    d2l_model *m = NULL;
    d2l_session *s = NULL;
    if (!check_status(build_identity_model(&value, 1, NULL, 0, &m), D2L_OK, "identity [2, 3, 4]")) return;
    check_status(d2l_session_create(m, &s), D2L_OK, "session");
    size_t indices[4] = {9, 9, 9, 9}, count = 99;
    double probabilities[4] = {-1, -1, -1, -1};
    check_status(d2l_classify_row(s, 0, 2, indices, probabilities, NULL, &count), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_classify_row before a run");
    /* Six rows of four logits; row 4 has a tie between classes 1 and 3. */
    const float logits[24] = {0, 1, 2, 3,    3, 2, 1, 0,  -1, 5, 0.5f, 2,  1, 1, 1, 1,  0, 7, -3, 7,  9, -9, 0, 0.25f};
    const int64_t shape[3] = {2, 3, 4};
    check_status(d2l_session_set_input(s, 0, D2L_FLOAT32, logits, shape, 3), D2L_OK, "set [2, 3, 4] logits");
    check_status(d2l_session_run(s), D2L_OK, "run");
    int all = 1;
    for (size_t row = 0; row < 6; row++) all &= row_matches(s, row, 3, logits + 4 * row, 4);
    check(all, "rows 0-5 of [2, 3, 4] (the product of all but the last dimension): the reference top-3");
    check(row_matches(s, 4, 4, logits + 16, 4), "row 4: a tie keeps the lower index first");
    check_status(d2l_classify_row(s, 5, 10, indices, probabilities, NULL, &count), D2L_OK, "row 5, top_k 10");
    check(count == 4, "top_k is capped at the 4 classes (%zu)", count);
    size_t first[4], first_count = 0;
    double first_probabilities[4];
    check(d2l_classify(s, 4, first, first_probabilities, NULL, &first_count) == D2L_OK && row_matches(s, 0, 4, logits, 4)
              && first_count == 4 && first[0] == 3 && first[3] == 0,
          "d2l_classify is row 0");

    /* Errors: nothing written. */
    size_t kept_indices[2] = {42, 42}, kept_count = 42;
    double kept_probabilities[2] = {42, 42};
    const char *kept_labels[2] = {"sentinel", "sentinel"};
    check_status(d2l_classify_row(s, 6, 2, kept_indices, kept_probabilities, kept_labels, &kept_count),
                 D2L_ERR_INVALID_ARGUMENT, "d2l_classify_row(row 6 of 6)");
    check(strstr(d2l_last_error(), "6 rows") && strstr(d2l_last_error(), "d2l_classify_row"),
          "the message gives the row count: %s", d2l_last_error());
    check_status(d2l_classify_row(s, SIZE_MAX, 2, kept_indices, kept_probabilities, NULL, &kept_count),
                 D2L_ERR_INVALID_ARGUMENT, "d2l_classify_row(row SIZE_MAX)");
    check_status(d2l_classify_row(s, 0, 0, kept_indices, kept_probabilities, NULL, &kept_count), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_classify_row(top_k 0)");
    check_status(d2l_classify_row(NULL, 0, 2, kept_indices, kept_probabilities, NULL, &kept_count),
                 D2L_ERR_INVALID_ARGUMENT, "d2l_classify_row(NULL session)");
    check_status(d2l_classify_row(s, 0, 2, NULL, kept_probabilities, NULL, &kept_count), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_classify_row(NULL out_indices)");
    check_status(d2l_classify_row(s, 0, 2, kept_indices, NULL, NULL, &kept_count), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_classify_row(NULL out_probabilities)");
    check_status(d2l_classify_row(s, 0, 2, kept_indices, kept_probabilities, NULL, NULL), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_classify_row(NULL out_count)");
    check(kept_indices[0] == 42 && kept_probabilities[0] == 42 && kept_labels[0] && strcmp(kept_labels[0], "sentinel") == 0
              && kept_count == 42,
          "nothing written on error");
    d2l_session_free(s);
    d2l_model_free(m);

    /* A rank-1 output is one row; an int64 one cannot be classified. */
    built_value vector = {"x", D2L_FLOAT32, 1, {5}, {NULL}};
    if (check_status(build_identity_model(&vector, 1, NULL, 0, &m), D2L_OK, "identity [5]")) {
        const float five[5] = {0.5f, -1, 3, 2, 3};
        const int64_t n = 5;
        check_status(d2l_session_create(m, &s), D2L_OK, "session");
        check(d2l_session_set_input(s, 0, D2L_FLOAT32, five, &n, 1) == D2L_OK && d2l_session_run(s) == D2L_OK
                  && row_matches(s, 0, 5, five, 5),
              "a [5] output is one row (ties 2 and 4: 2 first)");
        check_status(d2l_classify_row(s, 1, 2, kept_indices, kept_probabilities, NULL, &kept_count), D2L_ERR_INVALID_ARGUMENT,
                     "d2l_classify_row(row 1 of a [5] output)");
        check(strstr(d2l_last_error(), "1 row") != NULL, "the message says 1 row: %s", d2l_last_error());
        d2l_session_free(s);
        d2l_model_free(m);
    }
    built_value integers = {"x", D2L_INT64, 2, {1, 3}, {NULL}};
    if (check_status(build_identity_model(&integers, 1, NULL, 0, &m), D2L_OK, "identity int64 [1, 3]")) {
        const int64_t values[3] = {1, 2, 3}, dims[2] = {1, 3};
        check_status(d2l_session_create(m, &s), D2L_OK, "session");
        check(d2l_session_set_input(s, 0, D2L_INT64, values, dims, 2) == D2L_OK && d2l_session_run(s) == D2L_OK,
              "run the int64 identity");
        check_status(d2l_classify_row(s, 0, 2, kept_indices, kept_probabilities, NULL, &kept_count), D2L_ERR_INVALID_MODEL,
                     "d2l_classify_row of int64 logits");
        d2l_session_free(s);
        d2l_model_free(m);
    }
}

/** lenet-fashion on a batch of three images: row b is image b's d2l_classify, labels included. */
static void test_classify_row_batch(const d2l_model *lenet) {
    enum { pixels = 28 * 28 };
    float images[3 * pixels];
    fill_images(images, 3 * pixels, 23);
    d2l_session *batch = NULL, *alone = NULL;
    if (!check_status(d2l_session_create(lenet, &batch), D2L_OK, "session (batch)")
        || !check_status(d2l_session_create(lenet, &alone), D2L_OK, "session (alone)")) {
        d2l_session_free(batch);
        return;
    }
    const int64_t three[4] = {3, 1, 28, 28}, one[4] = {1, 1, 28, 28};
    check_status(d2l_session_set_input(batch, 0, D2L_FLOAT32, images, three, 4), D2L_OK, "lenet: a batch of 3");
    check_status(d2l_session_run(batch), D2L_OK, "lenet: run the batch");
    for (size_t b = 0; b < 3; b++) {
        size_t want[10], got[10], want_count = 0, got_count = 0;
        double want_p[10], got_p[10];
        const char *want_l[10], *got_l[10];
        check(d2l_session_set_input(alone, 0, D2L_FLOAT32, images + b * pixels, one, 4) == D2L_OK
                  && d2l_session_run(alone) == D2L_OK
                  && d2l_classify(alone, 10, want, want_p, want_l, &want_count) == D2L_OK,
              "lenet: image %zu alone", b);
        check_status(d2l_classify_row(batch, b, 10, got, got_p, got_l, &got_count), D2L_OK, "d2l_classify_row(batch)");
        int same = got_count == 10 && want_count == 10;
        for (size_t j = 0; same && j < 10; j++)
            same = got[j] == want[j] && fabs(got_p[j] - want_p[j]) < 1e-5 && got_l[j] && want_l[j] && strcmp(got_l[j], want_l[j]) == 0;
        check(same, "lenet: row %zu of the batch == image %zu alone (ranking, probabilities within 1e-5, labels)", b, b);
    }
    size_t index;
    double probability;
    size_t count;
    check_status(d2l_classify_row(batch, 3, 1, &index, &probability, NULL, &count), D2L_ERR_INVALID_ARGUMENT,
                 "lenet: d2l_classify_row(row 3 of a batch of 3)");
    d2l_session_free(batch);
    d2l_session_free(alone);
}

static void test_classify_row(const d2l_model *lenet) {
    test_classify_row_identity();
    test_classify_row_batch(lenet);
}

#endif
