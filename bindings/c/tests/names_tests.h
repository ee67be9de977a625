/*
 * names_tests.h — the checks of the name lookups (API version 3) for test_capi.c:
 * d2l_model_input_index / d2l_model_output_index and d2l_model_input_dim_names /
 * d2l_model_output_dim_names, on lenet-fashion (x ['batch', 1, 28, 28] -> logits
 * ['batch', 10]), a two-input language model (tokens ['batch', 'steps'], h [1, 'batch',
 * 32]) and identity models made by model_builder.h (twelve inputs; fixed, named and
 * unnamed dimensions): results, and every error with its message and out-params untouched.
 * Header-only (static functions), included once after check.h and model_builder.h.
 */
#ifndef D2L_TESTS_NAMES_H
#define D2L_TESTS_NAMES_H

/** Whether names[0..rank) are `want` (NULL entries for NULL). */
static int same_dim_names(const char *const *names, const char *const *want, size_t rank) {
    for (size_t d = 0; d < rank; d++) {
        if ((names[d] == NULL) != (want[d] == NULL)) return 0;
        if (names[d] && strcmp(names[d], want[d]) != 0) return 0;
    }
    return 1;
}

static void test_index_lookup(const d2l_model *lenet, const d2l_model *lm) {
    size_t index = 77;
    check(d2l_model_input_index(lenet, "x", &index) == D2L_OK && index == 0, "d2l_model_input_index(lenet, \"x\") == 0");
    index = 77;
    check(d2l_model_output_index(lenet, "logits", &index) == D2L_OK && index == 0,
          "d2l_model_output_index(lenet, \"logits\") == 0");
    if (lm) {
        index = 77;
        check(d2l_model_input_index(lm, "h", &index) == D2L_OK && index == 1, "d2l_model_input_index(lm, \"h\") == 1");
        index = 77;
        check(d2l_model_output_index(lm, "h_out", &index) == D2L_OK && index == 1,
              "d2l_model_output_index(lm, \"h_out\") == 1");
        index = 77;
        check(d2l_model_input_index(lm, "tokens", &index) == D2L_OK && index == 0, "d2l_model_input_index(lm, \"tokens\") == 0");
    }

    index = 77;
    check_status(d2l_model_input_index(lenet, "y", &index), D2L_ERR_INVALID_ARGUMENT, "d2l_model_input_index(\"y\")");
    check(strstr(d2l_last_error(), "'y'") && strstr(d2l_last_error(), "'x'") && strstr(d2l_last_error(), "d2l_model_input_index"),
          "the message names the function, 'y' and the input 'x': %s", d2l_last_error());
    check_status(d2l_model_output_index(lenet, "x", &index), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_output_index(\"x\"): an input's name is no output's");
    check(strstr(d2l_last_error(), "'logits'") != NULL, "the message lists the output 'logits': %s", d2l_last_error());
    if (lm) {
        check_status(d2l_model_input_index(lm, "H", &index), D2L_ERR_INVALID_ARGUMENT, "names are case-sensitive (\"H\")");
        check(strstr(d2l_last_error(), "'tokens', 'h'") != NULL, "the message lists both inputs: %s", d2l_last_error());
    }
    check_status(d2l_model_input_index(lenet, "", &index), D2L_ERR_INVALID_ARGUMENT, "d2l_model_input_index(\"\")");
    check_status(d2l_model_input_index(lenet, "x ", &index), D2L_ERR_INVALID_ARGUMENT, "a trailing space is another name");
    check_status(d2l_model_input_index(NULL, "x", &index), D2L_ERR_INVALID_ARGUMENT, "d2l_model_input_index(NULL model)");
    check_status(d2l_model_input_index(lenet, NULL, &index), D2L_ERR_INVALID_ARGUMENT, "d2l_model_input_index(NULL name)");
    check(strstr(d2l_last_error(), "name is NULL") != NULL, "the message says name is NULL: %s", d2l_last_error());
    check_status(d2l_model_input_index(lenet, "x", NULL), D2L_ERR_INVALID_ARGUMENT, "d2l_model_input_index(NULL out_index)");
    check_status(d2l_model_output_index(NULL, "logits", &index), D2L_ERR_INVALID_ARGUMENT, "d2l_model_output_index(NULL model)");
    check_status(d2l_model_output_index(lenet, NULL, &index), D2L_ERR_INVALID_ARGUMENT, "d2l_model_output_index(NULL name)");
    check_status(d2l_model_output_index(lenet, "logits", NULL), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_output_index(NULL out_index)");
    check(index == 77, "out_index untouched on error (%zu)", index);

    /* Twelve inputs: each found at its place; an unknown name lists the first eight. */
    static const char *const names[12] = {"in0", "in1", "in2", "in3", "in4", "in5",
                                          "in6", "in7", "in8", "in9", "in10", "in11"};
    built_value values[12];
    for (size_t i = 0; i < 12; i++) values[i] = (built_value){names[i], D2L_FLOAT32, 1, {2}, {NULL}};
    d2l_model *many = NULL;
    if (!check_status(build_identity_model(values, 12, NULL, 0, &many), D2L_OK, "load a twelve-input identity model")) return;
    int found = 1;
    for (size_t i = 0; i < 12; i++) {
        char out_name[16];
        snprintf(out_name, sizeof out_name, "out_%s", names[i]);
        size_t in_index = 99, out_index = 99;
        found &= d2l_model_input_index(many, names[i], &in_index) == D2L_OK && in_index == i;
        found &= d2l_model_output_index(many, out_name, &out_index) == D2L_OK && out_index == i;
    }
    check(found, "every one of twelve inputs and outputs is found at its index");
    check_status(d2l_model_input_index(many, "in12", &index), D2L_ERR_INVALID_ARGUMENT, "d2l_model_input_index(\"in12\")");
    const char *message = d2l_last_error();
    check(strstr(message, "12 inputs") && strstr(message, "'in7'") && !strstr(message, "'in8'") && strstr(message, "4 more"),
          "the message counts 12 inputs and lists the first 8, then '4 more': %s", message);
    d2l_model_free(many);
}

static void test_dim_names(const d2l_model *lenet, const d2l_model *lm) {
    const char *const *names = NULL;
    size_t rank = 0;
    static const char *const lenet_x[4] = {"batch", NULL, NULL, NULL};
    if (check_status(d2l_model_input_dim_names(lenet, 0, &names, &rank), D2L_OK, "d2l_model_input_dim_names(lenet, 0)"))
        check(rank == 4 && same_dim_names(names, lenet_x, 4), "lenet's x: [\"batch\", NULL, NULL, NULL]");
    static const char *const lenet_logits[2] = {"batch", NULL};
    if (check_status(d2l_model_output_dim_names(lenet, 0, &names, &rank), D2L_OK, "d2l_model_output_dim_names(lenet, 0)"))
        check(rank == 2 && same_dim_names(names, lenet_logits, 2), "lenet's logits: [\"batch\", NULL]");
    const char *const *again = NULL;
    check(d2l_model_input_dim_names(lenet, 0, &again, &rank) == D2L_OK
              && d2l_model_input_dim_names(lenet, 0, &names, &rank) == D2L_OK && again == names,
          "the array is the model's own (the same pointer on every call)");
    if (lm) {
        static const char *const tokens[2] = {"batch", "steps"}, *const h[3] = {NULL, "batch", NULL};
        check(d2l_model_input_dim_names(lm, 0, &names, &rank) == D2L_OK && rank == 2 && same_dim_names(names, tokens, 2),
              "the language model's tokens: [\"batch\", \"steps\"]");
        check(d2l_model_input_dim_names(lm, 1, &names, &rank) == D2L_OK && rank == 3 && same_dim_names(names, h, 3),
              "the language model's h: [NULL, \"batch\", NULL]");
        static const char *const logits[2] = {"steps_x_batch", NULL};
        check(d2l_model_output_dim_names(lm, 0, &names, &rank) == D2L_OK && rank == 2 && same_dim_names(names, logits, 2),
              "the language model's logits: [\"steps_x_batch\", NULL]");
    }

    /* Fixed, named and unnamed dimensions; a rank-0 input. */
    built_value values[2] = {{"mixed", D2L_FLOAT32, 4, {-1, 3, -1, -1}, {"n", NULL, NULL, "width"}},
                             {"scalar", D2L_INT64, 0, {0}, {NULL}}};
    d2l_model *built = NULL;
    if (check_status(build_identity_model(values, 2, NULL, 0, &built), D2L_OK, "load an identity model with unnamed dims")) {
        static const char *const mixed[4] = {"n", NULL, NULL, "width"};
        check(d2l_model_input_dim_names(built, 0, &names, &rank) == D2L_OK && rank == 4 && same_dim_names(names, mixed, 4),
              "[\"n\", NULL (fixed 3), NULL (unnamed), \"width\"]");
        const int64_t *shape = NULL;
        check(d2l_model_input_shape(built, 0, &shape, &rank) == D2L_OK && rank == 4 && shape[0] == -1 && shape[1] == 3
                  && shape[2] == -1 && shape[3] == -1,
              "its shape: [-1, 3, -1, -1]");
        check(d2l_model_output_dim_names(built, 0, &names, &rank) == D2L_OK && rank == 4 && same_dim_names(names, mixed, 4),
              "the identity's output has the same names");
        rank = 99;
        check(d2l_model_input_dim_names(built, 1, &names, &rank) == D2L_OK && rank == 0 && names != NULL,
              "a rank-0 input: rank 0, a non-NULL array");
        d2l_model_free(built);
    }

    /* Errors: out-params untouched. */
    static const char *const sentinel[1] = {"sentinel"};
    const char *const *kept = sentinel;
    size_t kept_rank = 4242;
    check_status(d2l_model_input_dim_names(lenet, 1, &kept, &kept_rank), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_input_dim_names(index 1 of 1)");
    check(strstr(d2l_last_error(), "out of range") != NULL, "the message says out of range: %s", d2l_last_error());
    check_status(d2l_model_output_dim_names(lenet, SIZE_MAX, &kept, &kept_rank), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_output_dim_names(index SIZE_MAX)");
    check_status(d2l_model_input_dim_names(NULL, 0, &kept, &kept_rank), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_input_dim_names(NULL model)");
    check_status(d2l_model_input_dim_names(lenet, 0, NULL, &kept_rank), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_input_dim_names(NULL out_names)");
    check_status(d2l_model_input_dim_names(lenet, 0, &kept, NULL), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_input_dim_names(NULL out_rank)");
    check_status(d2l_model_output_dim_names(NULL, 0, &kept, &kept_rank), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_output_dim_names(NULL model)");
    check_status(d2l_model_output_dim_names(lenet, 0, NULL, &kept_rank), D2L_ERR_INVALID_ARGUMENT,
                 "d2l_model_output_dim_names(NULL out_names)");
    check(kept == sentinel && kept_rank == 4242, "out-params untouched on error");
}

/** Every names check; `lm_path` is a two-input language model (skipped when absent). */
static void test_names(const d2l_model *lenet, const char *lm_path) {
    d2l_model *lm = NULL;
    if (d2l_model_load_file(lm_path, &lm) != D2L_OK) {
        check(0, "load %s: %s", lm_path, d2l_last_error());
        lm = NULL;
    }
    test_index_lookup(lenet, lm);
    test_dim_names(lenet, lm);
    d2l_model_free(lm);
}

#endif
