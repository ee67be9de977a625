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
 * image file such as Fashion-MNIST's t10k-images-idx3-ubyte (plain or gzip'ed).
 *
 * The program shows the whole round trip through the C API of include/d2l.h; everything
 * but reading the image file is libd2l's:
 *
 *   1. d2l_model_load_file loads and validates the model (an image classifier: input 0
 *      float32 [N, C, H, W], output 0 the logits);
 *   2. d2l_session_set_image_u8 makes input 0 from the 8-bit pixels as the model's
 *      `d2l.input` metadata says: colour becomes grayscale for a one-channel model (PIL's
 *      L) and grayscale is repeated for a three-channel one, an image of another size is
 *      resized to the model's (PIL's bilinear filter, antialiased when shrinking), and
 *      pixels 0..255 are scaled to `range`, then (x - mean[c]) / std[c];
 *   3. d2l_session_run runs the model;
 *   4. d2l_classify gives the top K classes (default 5) of the softmax of the logits, with
 *      the names of `d2l.labels`, printed one per line: `rank label probability`.
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

/* ------------------------------------------------------------------------------------ */
/* Running and reporting                                                                */
/* ------------------------------------------------------------------------------------ */

/** Runs `model` on `img` and prints its `top` most probable classes, most probable first
 *  (ties: lowest index). Returns 0 on success. */
static int classify(const d2l_model *model, const image *img, size_t top) {
    int result = -1;
    size_t *indices = NULL;
    double *probabilities = NULL;
    const char **names = NULL;
    d2l_session *session = NULL;
    d2l_status status = d2l_session_create(model, &session);
    if (status != D2L_OK) return fail_d2l("d2l_session_create", status);
    if ((status = d2l_session_set_image_u8(session, 0, img->pixels, img->height, img->width, img->channels)) != D2L_OK) {
        fail_d2l("d2l_session_set_image_u8", status);
        goto done;
    }
    if ((status = d2l_session_run(session)) != D2L_OK) {
        fail_d2l("d2l_session_run", status);
        goto done;
    }
    /* d2l_classify writes at most the class count (the last dimension of output 0) entries. */
    d2l_dtype dtype;
    const void *logits;
    const int64_t *shape;
    size_t rank;
    if ((status = d2l_session_get_output(session, 0, &dtype, &logits, &shape, &rank)) != D2L_OK) {
        fail_d2l("d2l_session_get_output", status);
        goto done;
    }
    size_t classes = rank > 0 ? (size_t)shape[rank - 1] : 1;
    if (top > classes) top = classes;
    if (top == 0) {
        fail("output 0 is empty");
        goto done;
    }
    indices = malloc(top * sizeof *indices);
    probabilities = malloc(top * sizeof *probabilities);
    names = malloc(top * sizeof *names);
    if (!indices || !probabilities || !names) {
        fail("out of memory");
        goto done;
    }
    size_t count = 0;
    if ((status = d2l_classify(session, top, indices, probabilities, names, &count)) != D2L_OK) {
        fail_d2l("d2l_classify", status);
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        if (names[i])
            printf("%zu %s %.6f\n", i + 1, names[i], probabilities[i]);
        else
            printf("%zu %zu %.6f\n", i + 1, indices[i], probabilities[i]);
    }
    result = 0;
done:
    free(indices);
    free(probabilities);
    free(names);
    d2l_session_free(session);
    return result;
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

    d2l_status status = d2l_model_load_file(model_path, &model);
    if (status != D2L_OK) {
        fail("cannot load %s: %s: %s", model_path, d2l_status_string(status),
             d2l_last_error());
        goto done;
    }
    if ((use_index ? read_idx(image_path, index, &img) : read_image(image_path, &img)) != 0)
        goto done;
    if (classify(model, &img, top) != 0) goto done;
    result = 0;
done:
    image_free(&img);
    d2l_model_free(model);
    return result;
}
