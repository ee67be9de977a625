/*
 * classify.c — classify one image with an ONNX model through libd2l.
 *
 *     classify MODEL.onnx IMAGE.{pgm,png,jpg} [--top K]
 *     classify MODEL.onnx IMAGES-idx3-ubyte[.gz] --index N [--top K]
 *
 * The image is a binary PGM file (P5, maxval 255), a PNG or a JPEG file (when built with
 * libpng / libjpeg: -DD2L_EXAMPLE_PNG -lpng, -DD2L_EXAMPLE_JPEG -ljpeg, as
 * bindings/c/Makefile does when they are installed; `classify --help` lists the formats
 * of a build), told apart by their first bytes, or, with --index N, image N of an IDX
 * image file such as Fashion-MNIST's t10k-images-idx3-ubyte (plain or gzip'ed). Colour
 * images become grayscale for a one-channel model (PIL's L = 0.299 R + 0.587 G +
 * 0.114 B) and grayscale images are repeated for a three-channel one; an image of
 * another size than the model's input is resized (PIL's bilinear filter, antialiased
 * when shrinking).
 *
 * The program shows the whole round trip through the C API of include/d2l.h:
 *
 *   1. d2l_model_load_file loads and validates the model;
 *   2. the model's metadata says how pixels become inputs (`d2l.input`: scale 0..255 to
 *      `range`, then (x - mean[c]) / std[c]) and how classes are named (`d2l.labels`);
 *   3. d2l_model_input_shape gives the input's shape (a symbolic batch becomes 1; a
 *      symbolic height and width take the image's, or `d2l.input`'s "size");
 *   4. a session runs the model and output 0 (the logits) goes through a softmax;
 *   5. the top K classes (default 5) are printed, one per line: `rank label probability`.
 *
 * Exit status: 0 on success, 1 on any failure (the message goes to stderr), 2 on bad
 * command-line arguments.
 *
 * Build: see bindings/c/Makefile (`make -C bindings/c`), or by hand:
 *     cc -O2 -Iinclude -DD2L_EXAMPLE_PNG -DD2L_EXAMPLE_JPEG bindings/c/examples/classify.c \
 *        -L.build/release -ld2l -lpng -ljpeg -lz -lm -Wl,-rpath,$PWD/.build/release -o classify
 */
#define EXAMPLE_NAME "classify"
#include "example_image.h"
#include "example_input.h"

/* ------------------------------------------------------------------------------------ */
/* Running and reporting                                                                */
/* ------------------------------------------------------------------------------------ */

/** Runs `model` on `input` and writes the softmax of output 0 (a float32 tensor of one
 *  row of logits) into a new array *out_probabilities of *out_count classes. */
static int run_model(const d2l_model *model, const input_tensor *input,
                     double **out_probabilities, size_t *out_count) {
    int result = -1;
    d2l_session *session = NULL;
    d2l_status status = d2l_session_create(model, &session);
    if (status != D2L_OK) return fail_d2l("d2l_session_create", status);

    if ((status = d2l_session_set_input(session, 0, D2L_FLOAT32, input->data, input->shape,
                                        input->rank)) != D2L_OK) {
        fail_d2l("d2l_session_set_input", status);
        goto done;
    }
    if ((status = d2l_session_run(session)) != D2L_OK) {
        fail_d2l("d2l_session_run", status);
        goto done;
    }
    d2l_dtype dtype;
    const void *data;
    const int64_t *shape;
    size_t rank;
    status = d2l_session_get_output(session, 0, &dtype, &data, &shape, &rank);
    if (status != D2L_OK) {
        fail_d2l("d2l_session_get_output", status);
        goto done;
    }
    if (dtype != D2L_FLOAT32) {
        fail("output 0 is not float32");
        goto done;
    }
    /* One row of logits: [1, classes] or [classes]; anything of batch 1 flattens. */
    size_t count = 1;
    for (size_t i = 0; i < rank; i++) count *= (size_t)shape[i];
    if (count == 0) {
        fail("output 0 is empty");
        goto done;
    }
    const float *logits = data;
    double *probabilities = malloc(count * sizeof *probabilities);
    if (!probabilities) {
        fail("out of memory");
        goto done;
    }
    /* Softmax in double, shifted by the largest logit so that exp cannot overflow. */
    double largest = logits[0], sum = 0.0;
    for (size_t i = 1; i < count; i++)
        if (logits[i] > largest) largest = logits[i];
    for (size_t i = 0; i < count; i++) sum += probabilities[i] = exp(logits[i] - largest);
    for (size_t i = 0; i < count; i++) probabilities[i] /= sum;
    *out_probabilities = probabilities;
    *out_count = count;
    result = 0;
done:
    d2l_session_free(session);
    return result;
}

/** Prints the `top` most probable classes, most probable first (ties: lowest index). */
static void print_top(const double *probabilities, size_t count, size_t top,
                      const labels *names) {
    if (top > count) top = count;
    char *taken = calloc(count, 1);
    for (size_t rank = 1; rank <= top; rank++) {
        size_t best = count;
        for (size_t i = 0; i < count; i++)
            if (!(taken && taken[i]) && (best == count || probabilities[i] > probabilities[best]))
                best = i;
        if (taken) taken[best] = 1;
        if (best < names->count)
            printf("%zu %s %.6f\n", rank, names->names[best], probabilities[best]);
        else
            printf("%zu %zu %.6f\n", rank, best, probabilities[best]);
        if (!taken) break; /* out of memory: the first line is all we can rank */
    }
    free(taken);
}

/* ------------------------------------------------------------------------------------ */
/* main                                                                                 */
/* ------------------------------------------------------------------------------------ */

static void usage(void) {
    fprintf(stderr,
            "usage: classify MODEL.onnx IMAGE [--top K]\n"
            "       classify MODEL.onnx IMAGES-idx3-ubyte[.gz] --index N [--top K]\n"
            "image formats: %s\n",
            supported_formats());
}

/** Parses a non-negative decimal number. Returns 0 on success. */
static int parse_count(const char *text, unsigned long *out) {
    char *end;
    if (!text || *text < '0' || *text > '9') return -1;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (*end != '\0' || errno != 0) return -1;
    *out = value;
    return 0;
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *image_path = NULL;
    unsigned long index = 0, top = 5;
    int use_index = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--index") == 0 || strcmp(argv[i], "--top") == 0) {
            int is_index = argv[i][2] == 'i';
            unsigned long *target = is_index ? &index : &top;
            if (i + 1 >= argc || parse_count(argv[i + 1], target) != 0) {
                fprintf(stderr, "classify: %s needs a non-negative number\n", argv[i]);
                usage();
                return 2;
            }
            use_index |= is_index;
            i++;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "classify: unknown option %s\n", argv[i]);
            usage();
            return 2;
        } else if (!model_path) {
            model_path = argv[i];
        } else if (!image_path) {
            image_path = argv[i];
        } else {
            fprintf(stderr, "classify: unexpected argument %s\n", argv[i]);
            usage();
            return 2;
        }
    }
    if (!model_path || !image_path) {
        usage();
        return 2;
    }
    if (top == 0) {
        fputs("classify: --top must be at least 1\n", stderr);
        return 2;
    }
    if (d2l_api_version() < D2L_API_VERSION) {
        fail("libd2l %s has API version %d; this program needs %d", d2l_version_string(),
             d2l_api_version(), D2L_API_VERSION);
        return 1;
    }

    int result = 1;
    d2l_model *model = NULL;
    image img = {0, 0, 0, NULL};
    labels names = {NULL, 0};
    input_tensor input = {NULL, {0}, 0};
    double *probabilities = NULL;
    size_t count = 0;
    preprocessing pre;

    d2l_status status = d2l_model_load_file(model_path, &model);
    if (status != D2L_OK) {
        fail("cannot load %s: %s: %s", model_path, d2l_status_string(status),
             d2l_last_error());
        goto done;
    }
    if (preprocessing_parse(d2l_model_metadata(model, "d2l.input"), &pre) != 0) goto done;
    const char *labels_json = d2l_model_metadata(model, "d2l.labels");
    if (labels_json && labels_parse(labels_json, &names) != 0) {
        fail("d2l.labels is not a JSON array of strings");
        goto done;
    }
    if ((use_index ? read_idx(image_path, index, &img) : read_image(image_path, &img)) != 0)
        goto done;
    if (make_input(model, &img, &pre, &input) != 0) goto done;
    if (run_model(model, &input, &probabilities, &count) != 0) goto done;
    print_top(probabilities, count, top, &names);
    result = 0;
done:
    free(probabilities);
    free(input.data);
    labels_free(&names);
    image_free(&img);
    d2l_model_free(model);
    return result;
}
