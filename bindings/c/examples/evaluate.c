/*
 * evaluate — test accuracy of an ONNX image classifier through libd2l, from C.
 *
 *     evaluate MODEL.onnx IMAGES-idx3-ubyte[.gz] LABELS-idx1-ubyte[.gz] [--batch N] [--threads T]
 *
 * Reads every image of an IDX file (Fashion-MNIST's t10k files, plain or gzip'ed), scales
 * pixels to [0, 1] (the d2l.input convention of the toolkit's exports: range [0, 1],
 * mean 0, std 1), runs them through the model in batches and prints the fraction whose
 * largest logit is at the label. The model's input must be [batch, 1, rows, cols] of the
 * file's size (resize first for the 96/224 models). Exit status 0 on success.
 */
#include "d2l.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static int fail(const char *message, const char *detail) {
    fprintf(stderr, "evaluate: %s%s%s\n", message, detail ? ": " : "", detail ? detail : "");
    return 1;
}

static uint32_t be32(const unsigned char *b) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/** Reads a whole IDX file (images: magic 0x803, dims count×rows×cols; labels: 0x801,
 *  count). Returns the data (malloc'ed, caller frees) or NULL with a message printed. */
static unsigned char *read_idx(const char *path, uint32_t magic, uint32_t *count, uint32_t *rows, uint32_t *cols) {
    gzFile f = gzopen(path, "rb");
    if (!f) { fail("cannot open", path); return NULL; }
    unsigned char header[16];
    size_t header_size = magic == 0x803 ? 16 : 8;
    unsigned char *data = NULL;
    if (gzread(f, header, (unsigned)header_size) != (int)header_size || be32(header) != magic) {
        fail(magic == 0x803 ? "not an IDX image file" : "not an IDX label file", path);
        goto done;
    }
    *count = be32(header + 4);
    *rows = magic == 0x803 ? be32(header + 8) : 1;
    *cols = magic == 0x803 ? be32(header + 12) : 1;
    size_t size = (size_t)*count * *rows * *cols;
    if (*rows == 0 || *cols == 0 || *rows > 65536 || *cols > 65536 || size > ((size_t)1 << 34)) {
        fail("bad dimensions in", path);
        goto done;
    }
    data = malloc(size ? size : 1);
    if (!data) { fail("out of memory", NULL); goto done; }
    for (size_t done = 0; done < size;) {
        unsigned chunk = size - done > (1u << 30) ? (1u << 30) : (unsigned)(size - done);
        int n = gzread(f, data + done, chunk);
        if (n <= 0) { fail("truncated file", path); free(data); data = NULL; goto done; }
        done += (size_t)n;
    }
done:
    gzclose(f);
    return data;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: evaluate MODEL.onnx IMAGES-idx3-ubyte[.gz] LABELS-idx1-ubyte[.gz] [--batch N] [--threads T]\n");
        return 2;
    }
    long batch = 256, threads = 1;
    for (int i = 4; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--batch") == 0) batch = strtol(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--threads") == 0) threads = strtol(argv[i + 1], NULL, 10);
        else return fail("unknown option", argv[i]);
    }
    if (batch <= 0 || threads <= 0) return fail("--batch and --threads must be positive", NULL);

    uint32_t count, rows, cols, label_count, one;
    unsigned char *images = read_idx(argv[2], 0x803, &count, &rows, &cols);
    if (!images) return 1;
    unsigned char *labels = read_idx(argv[3], 0x801, &label_count, &one, &one);
    if (!labels) { free(images); return 1; }
    int status = 1;
    d2l_model *model = NULL;
    d2l_session *session = NULL;
    float *pixels = NULL;
    if (label_count != count) {
        fprintf(stderr, "evaluate: %u images but %u labels\n", (unsigned)count, (unsigned)label_count);
        goto done;
    }
    if (d2l_model_load_file(argv[1], &model) != D2L_OK || d2l_session_create(model, &session) != D2L_OK ||
        d2l_session_set_threads(session, (size_t)threads) != D2L_OK) {
        fail(argv[1], d2l_last_error());
        goto done;
    }
    size_t image_size = (size_t)rows * cols;
    pixels = malloc(sizeof(float) * image_size * (size_t)batch);
    if (!pixels) { fail("out of memory", NULL); goto done; }
    size_t correct = 0;
    for (size_t start = 0; start < count; start += (size_t)batch) {
        size_t n = count - start < (size_t)batch ? count - start : (size_t)batch;
        for (size_t i = 0; i < n * image_size; i++) pixels[i] = images[start * image_size + i] / 255.0f;
        int64_t shape[4] = {(int64_t)n, 1, rows, cols};
        d2l_dtype dtype;
        const void *data;
        const int64_t *out_shape;
        size_t rank;
        if (d2l_session_set_input(session, 0, D2L_FLOAT32, pixels, shape, 4) != D2L_OK ||
            d2l_session_run(session) != D2L_OK ||
            d2l_session_get_output(session, 0, &dtype, &data, &out_shape, &rank) != D2L_OK) {
            fail("run failed", d2l_last_error());
            goto done;
        }
        if (dtype != D2L_FLOAT32 || rank != 2 || out_shape[0] != (int64_t)n) {
            fail("the model's output is not [batch, classes] float32", NULL);
            goto done;
        }
        const float *logits = data;
        size_t classes = (size_t)out_shape[1];
        for (size_t r = 0; r < n; r++) {
            size_t best = 0;
            for (size_t c = 1; c < classes; c++)
                if (logits[r * classes + c] > logits[r * classes + best]) best = c;
            if (best == labels[start + r]) correct++;
        }
    }
    printf("test accuracy %.4f (%u images, libd2l from C)\n", count ? (double)correct / count : 0.0, (unsigned)count);
    status = 0;
done:
    free(pixels);
    d2l_session_free(session);
    d2l_model_free(model);
    free(images);
    free(labels);
    return status;
}
