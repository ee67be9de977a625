/*
 * detect.c — find objects in one image with an exported detector (d2l-cli train tiny-ssd)
 * through libd2l, as the book's 13.7.3 `predict` and `display` do.
 *
 *     detect MODEL.onnx IMAGE.{png,jpg,pgm} [--threshold 0.9] [--out boxes.png|boxes.ppm]
 *
 * 1. d2l_model_load_file; the model must have d2l.task "detection" and the outputs
 *    `anchors` [1, A, 4], `class_probs` [1, classes + 1, A] and `offsets` [1, A * 4];
 * 2. d2l_session_set_image_u8 makes the input from the image as d2l.input says (resized to
 *    its size with PIL's bilinear filter, scaled and normalised);
 * 3. d2l_session_run, then d2l_multibox_detection (NMS threshold 0.5, the book's) turns
 *    the three outputs into rows (class, confidence, x1, y1, x2, y2);
 * 4. every row of a class (not -1) whose confidence reaches --threshold (default 0.9) is
 *    printed as `label confidence x1 y1 x2 y2`, in pixels of the original image;
 * 5. with --out, the image is written with those boxes drawn: PNG when built with libpng
 *    and the name ends in .png, else binary PPM (P6).
 *
 * Exit status: 0 on success (also when nothing is found), 1 on any failure (message on
 * stderr), 2 on bad command-line arguments.
 *
 * Build: see bindings/c/Makefile (`make -C bindings/c`).
 */
#define EXAMPLE_NAME "detect"
#include "example_image.h"
#include "example_labels.h"

/** The index of the output named `name`, or -1. */
static long output_index(const d2l_model *model, const char *name) {
    size_t count = d2l_model_output_count(model);
    for (size_t i = 0; i < count; i++) {
        const char *n = d2l_model_output_name(model, i);
        if (n && strcmp(n, name) == 0) return (long)i;
    }
    return -1;
}

/** Output `name` of the last run as float32 values; *out_count receives their number. */
static int float_output(const d2l_model *model, d2l_session *session, const char *name, const float **out,
                        size_t *out_count, const int64_t **out_shape, size_t *out_rank) {
    long index = output_index(model, name);
    if (index < 0) return fail("the model has no output '%s' (is it a detector exported by d2l-cli train tiny-ssd?)", name);
    d2l_dtype dtype;
    const void *data;
    d2l_status status = d2l_session_get_output(session, (size_t)index, &dtype, &data, out_shape, out_rank);
    if (status != D2L_OK) return fail_d2l("d2l_session_get_output", status);
    if (dtype != D2L_FLOAT32) return fail("output '%s' is not float32", name);
    size_t count = 1;
    for (size_t i = 0; i < *out_rank; i++) count *= (size_t)(*out_shape)[i];
    *out = data;
    *out_count = count;
    return 0;
}

/** Draws the outline of a box (pixel corners, clipped to the image), 2 pixels wide. */
static void draw_box(image *img, double x1, double y1, double x2, double y2) {
    static const unsigned char colour[3] = {255, 40, 40};
    long w = (long)img->width, h = (long)img->height;
    long left = (long)floor(x1), top = (long)floor(y1), right = (long)ceil(x2) - 1, bottom = (long)ceil(y2) - 1;
    if (left < 0) left = 0;
    if (top < 0) top = 0;
    if (right >= w) right = w - 1;
    if (bottom >= h) bottom = h - 1;
    if (left > right || top > bottom) return;
    for (long y = top; y <= bottom; y++) {
        for (long x = left; x <= right; x++) {
            int edge = x - left < 2 || right - x < 2 || y - top < 2 || bottom - y < 2;
            if (!edge) continue;
            unsigned char *p = img->pixels + ((size_t)y * img->width + (size_t)x) * img->channels;
            for (size_t c = 0; c < img->channels; c++) p[c] = img->channels == 3 ? colour[c] : 255;
        }
    }
}

/** Writes `img` as binary PPM (grayscale repeated in R, G, B). */
static int write_ppm(const char *path, const image *img) {
    FILE *f = fopen(path, "wb");
    if (!f) return fail("cannot write %s: %s", path, strerror(errno));
    fprintf(f, "P6\n%zu %zu\n255\n", img->width, img->height);
    for (size_t i = 0; i < img->width * img->height; i++) {
        unsigned char rgb[3];
        for (int c = 0; c < 3; c++) rgb[c] = img->pixels[i * img->channels + (img->channels == 3 ? (size_t)c : 0)];
        fwrite(rgb, 1, 3, f);
    }
    if (fclose(f) != 0) return fail("cannot write %s", path);
    return 0;
}

#ifdef D2L_EXAMPLE_PNG
/** Writes `img` as an 8-bit PNG (RGB or gray). */
static int write_png(const char *path, const image *img) {
    png_image out;
    memset(&out, 0, sizeof out);
    out.version = PNG_IMAGE_VERSION;
    out.width = (png_uint_32)img->width;
    out.height = (png_uint_32)img->height;
    out.format = img->channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    if (!png_image_write_to_file(&out, path, 0, img->pixels, 0, NULL))
        return fail("cannot write %s: %s", path, out.message);
    return 0;
}
#endif

static int write_boxes_image(const char *path, const image *img) {
    size_t n = strlen(path);
#ifdef D2L_EXAMPLE_PNG
    if (n >= 4 && strcmp(path + n - 4, ".png") == 0) return write_png(path, img);
#else
    if (n >= 4 && strcmp(path + n - 4, ".png") == 0) return fail("this build has no libpng: write %s as .ppm", path);
#endif
    return write_ppm(path, img);
}

static void usage(void) {
    fprintf(stderr, "usage: detect MODEL.onnx IMAGE [--threshold T] [--out FILE.png|FILE.ppm]\nimage formats: %s\n",
            supported_formats());
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *image_path = NULL, *out_path = NULL;
    double threshold = 0.9;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threshold") == 0) {
            char *end = NULL;
            if (i + 1 >= argc || (threshold = strtod(argv[i + 1], &end), *end != '\0') || !(threshold >= 0 && threshold <= 1)) {
                fputs("detect: --threshold needs a number in [0, 1]\n", stderr);
                return 2;
            }
            i++;
        } else if (strcmp(argv[i], "--out") == 0) {
            if (i + 1 >= argc) { fputs("detect: --out needs a file name\n", stderr); return 2; }
            out_path = argv[++i];
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage();
            return 0;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "detect: unknown option %s\n", argv[i]);
            usage();
            return 2;
        } else if (!model_path) {
            model_path = argv[i];
        } else if (!image_path) {
            image_path = argv[i];
        } else {
            fprintf(stderr, "detect: unexpected argument %s\n", argv[i]);
            return 2;
        }
    }
    if (!model_path || !image_path) { usage(); return 2; }

    int result = 1;
    d2l_model *model = NULL;
    d2l_session *session = NULL;
    image original = {0, 0, 0, NULL};
    labels names = {NULL, 0};
    float *detections = NULL;

    d2l_status status = d2l_model_load_file(model_path, &model);
    if (status != D2L_OK) {
        fail("cannot load %s: %s: %s", model_path, d2l_status_string(status), d2l_last_error());
        goto done;
    }
    const char *task = d2l_model_metadata(model, "d2l.task");
    if (!task || strcmp(task, "detection") != 0) {
        fail("%s is not a detector (d2l.task is %s, not detection)", model_path, task ? task : "absent");
        goto done;
    }
    const char *labels_json = d2l_model_metadata(model, "d2l.labels");
    if (labels_json && labels_parse(labels_json, &names) != 0) {
        fail("d2l.labels is not a JSON array of strings");
        goto done;
    }
    if (read_image(image_path, &original) != 0) goto done;
    if ((status = d2l_session_create(model, &session)) != D2L_OK) { fail_d2l("d2l_session_create", status); goto done; }
    status = d2l_session_set_image_u8(session, 0, original.pixels, original.height, original.width, original.channels);
    if (status != D2L_OK) {
        fail_d2l("d2l_session_set_image_u8", status);
        goto done;
    }
    if ((status = d2l_session_run(session)) != D2L_OK) { fail_d2l("d2l_session_run", status); goto done; }

    const float *anchors, *probs, *offsets;
    size_t anchor_values, prob_values, offset_values, rank;
    const int64_t *shape;
    if (float_output(model, session, "anchors", &anchors, &anchor_values, &shape, &rank) != 0) goto done;
    if (float_output(model, session, "class_probs", &probs, &prob_values, &shape, &rank) != 0) goto done;
    if (rank != 3 || shape[0] != 1) { fail("class_probs must be [1, classes + 1, anchors]"); goto done; }
    size_t classes = (size_t)shape[1], count = (size_t)shape[2];
    if (float_output(model, session, "offsets", &offsets, &offset_values, &shape, &rank) != 0) goto done;
    if (anchor_values != count * 4 || offset_values != count * 4) {
        fail("the outputs do not fit: %zu anchors, %zu anchor values, %zu offsets", count, anchor_values, offset_values);
        goto done;
    }
    detections = malloc(count * 6 * sizeof *detections);
    if (!detections) { fail("out of memory"); goto done; }
    if ((status = d2l_multibox_detection(probs, offsets, anchors, classes, count, 0.5f, 0.009999999f, detections)) != D2L_OK) {
        fail_d2l("d2l_multibox_detection", status);
        goto done;
    }
    size_t found = 0;
    for (size_t i = 0; i < count; i++) {
        const float *row = detections + 6 * i;
        if (row[0] < 0 || row[1] < threshold) continue;
        double x1 = row[2] * original.width, y1 = row[3] * original.height;
        double x2 = row[4] * original.width, y2 = row[5] * original.height;
        size_t cls = (size_t)row[0];
        if (cls < names.count) printf("%s", names.names[cls]); else printf("%zu", cls);
        printf(" %.4f %.1f %.1f %.1f %.1f\n", row[1], x1, y1, x2, y2);
        draw_box(&original, x1, y1, x2, y2);
        found++;
    }
    if (found == 0) fprintf(stderr, "detect: no box with a confidence of %.2f or more\n", threshold);
    if (out_path && write_boxes_image(out_path, &original) != 0) goto done;
    result = 0;
done:
    free(detections);
    labels_free(&names);
    image_free(&original);
    d2l_session_free(session);
    d2l_model_free(model);
    return result;
}
