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
#include "d2l.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#ifdef D2L_EXAMPLE_PNG
#include <png.h>
#endif
#ifdef D2L_EXAMPLE_JPEG
#include <jpeglib.h>
#include <setjmp.h>
#endif

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                               */
/* ------------------------------------------------------------------------------------ */

/** Prints "classify: MESSAGE" to stderr. Always returns -1, so callers can
 *  `return fail(...)`. */
static int fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fputs("classify: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    return -1;
}

/** Reports a failed libd2l call: the status name and libd2l's message. Returns -1. */
static int fail_d2l(const char *what, d2l_status status) {
    return fail("%s failed: %s: %s", what, d2l_status_string(status), d2l_last_error());
}

/* ------------------------------------------------------------------------------------ */
/* Images                                                                               */
/* ------------------------------------------------------------------------------------ */

/** The largest width or height the readers take (an image this example could feed to a
 *  model; larger headers in a small file are refused before any memory is taken). */
#ifndef MAX_IMAGE_SIDE
#define MAX_IMAGE_SIDE 16384
#endif

/** An 8-bit image, row-major, channels interleaved (RGB RGB …). */
typedef struct {
    size_t width, height;
    size_t channels;       /* 1 (grayscale) or 3 (RGB) */
    unsigned char *pixels; /* height * width * channels bytes, owned (free with image_free) */
} image;

static void image_free(image *img) {
    free(img->pixels);
    img->pixels = NULL;
}

/** Skips whitespace and `#` comments (which run to the end of the line) in a PGM
 *  header. */
static void pgm_skip_space(FILE *f) {
    int c;
    while ((c = fgetc(f)) != EOF) {
        if (c == '#') {
            while ((c = fgetc(f)) != EOF && c != '\n' && c != '\r') {}
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f') {
            ungetc(c, f);
            return;
        }
    }
}

/** Reads one unsigned decimal header field of a PGM file into *out. Returns 0 on
 *  success. */
static int pgm_read_number(FILE *f, size_t *out) {
    pgm_skip_space(f);
    int c = fgetc(f);
    if (c < '0' || c > '9') return -1;
    size_t value = 0;
    for (; c >= '0' && c <= '9'; c = fgetc(f)) {
        if (value > 1000000) return -1; /* far beyond any sane image size */
        value = value * 10 + (size_t)(c - '0');
    }
    if (c != EOF) ungetc(c, f);
    *out = value;
    return 0;
}

/** Reads a binary PGM (P5) file with maxval 255. Returns 0 on success. */
static int read_pgm(const char *path, image *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return fail("cannot open image %s: %s", path, strerror(errno));

    int status = -1;
    size_t width = 0, height = 0, maxval = 0;
    unsigned char *pixels = NULL;
    char magic[2];
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || magic[1] != '5') {
        fail("%s is not a binary PGM file (P5)", path);
        goto done;
    }
    if (pgm_read_number(f, &width) != 0 || pgm_read_number(f, &height) != 0 ||
        pgm_read_number(f, &maxval) != 0) {
        fail("%s: malformed PGM header", path);
        goto done;
    }
    if (width == 0 || height == 0) {
        fail("%s: empty image (%zux%zu)", path, width, height);
        goto done;
    }
    if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) {
        fail("%s: %zux%zu is larger than this example reads (at most %d on a side)", path, width, height,
             MAX_IMAGE_SIDE);
        goto done;
    }
    if (maxval != 255) {
        fail("%s: maxval %zu is not supported (only 255)", path, maxval);
        goto done;
    }
    /* Exactly one whitespace character separates the header from the pixels. */
    int c = fgetc(f);
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') {
        fail("%s: malformed PGM header", path);
        goto done;
    }
    /* The pixels must be in the file before memory is taken for them. */
    long here = ftell(f);
    if (here < 0 || fseek(f, 0, SEEK_END) != 0 || ftell(f) - here < (long)(width * height) ||
        fseek(f, here, SEEK_SET) != 0) {
        fail("%s: truncated PGM file (expected %zu pixels)", path, width * height);
        goto done;
    }
    pixels = malloc(width * height);
    if (!pixels) {
        fail("out of memory");
        goto done;
    }
    if (fread(pixels, 1, width * height, f) != width * height) {
        fail("%s: truncated PGM file (expected %zu pixels)", path, width * height);
        goto done;
    }
    out->width = width;
    out->height = height;
    out->channels = 1;
    out->pixels = pixels;
    pixels = NULL;
    status = 0;
done:
    free(pixels);
    fclose(f);
    return status;
}

/** Reads exactly `size` bytes; zlib reads plain files too, so this serves both forms. */
static int gz_read_exact(gzFile f, void *buffer, size_t size) {
    unsigned char *p = buffer;
    while (size > 0) {
        unsigned chunk = size > (1u << 30) ? (1u << 30) : (unsigned)size;
        int n = gzread(f, p, chunk);
        if (n <= 0) return -1;
        p += n;
        size -= (size_t)n;
    }
    return 0;
}

static uint32_t big_endian_u32(const unsigned char b[4]) {
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/** Reads image `index` of an IDX3 unsigned-byte file (magic 0x00000803: count, rows,
 *  columns, then the pixels), gzip-compressed or not. Returns 0 on success. */
static int read_idx(const char *path, unsigned long index, image *out) {
    gzFile f = gzopen(path, "rb");
    if (!f) return fail("cannot open image file %s: %s", path, strerror(errno));

    int status = -1;
    unsigned char *pixels = NULL;
    unsigned char header[16];
    if (gz_read_exact(f, header, sizeof header) != 0) {
        fail("%s: not an IDX image file (too short)", path);
        goto done;
    }
    uint32_t magic = big_endian_u32(header), count = big_endian_u32(header + 4);
    uint32_t rows = big_endian_u32(header + 8), cols = big_endian_u32(header + 12);
    if (magic != 0x00000803) {
        fail("%s: not an IDX3 unsigned-byte file (magic 0x%08x)", path, (unsigned)magic);
        goto done;
    }
    if (rows == 0 || cols == 0 || rows > MAX_IMAGE_SIDE || cols > MAX_IMAGE_SIDE) {
        fail("%s: bad image size %ux%u", path, (unsigned)rows, (unsigned)cols);
        goto done;
    }
    if (index >= count) {
        fail("--index %lu is out of range: %s holds %u images", index, path, (unsigned)count);
        goto done;
    }
    size_t size = (size_t)rows * cols;
    /* The offset must fit z_off_t (32 bits on armv7). gzseek on a compressed file
     * decompresses up to the position, which is fine here. */
    if (index > (unsigned long)((LONG_MAX - 16) / (long)size)) {
        fail("%s: image %lu lies beyond what this platform can seek to", path, index);
        goto done;
    }
    if (gzseek(f, (z_off_t)(16 + (long)index * (long)size), SEEK_SET) < 0) {
        fail("%s: cannot seek to image %lu", path, index);
        goto done;
    }
    /* Memory grows with the pixels actually read (1 MiB at a time), so a header that claims
     * a large image in a small file takes none. */
    for (size_t have = 0, capacity = 0; have < size;) {
        size_t want = size - have < ((size_t)1 << 20) ? size - have : ((size_t)1 << 20);
        if (have + want > capacity) {
            capacity = capacity * 2 > have + want ? (capacity * 2 < size ? capacity * 2 : size) : have + want;
            unsigned char *grown = realloc(pixels, capacity);
            if (!grown) {
                fail("out of memory");
                goto done;
            }
            pixels = grown;
        }
        if (gz_read_exact(f, pixels + have, want) != 0) {
            fail("%s: truncated file (image %lu is incomplete)", path, index);
            goto done;
        }
        have += want;
    }
    out->width = cols;
    out->height = rows;
    out->channels = 1;
    out->pixels = pixels;
    pixels = NULL;
    status = 0;
done:
    free(pixels);
    gzclose(f);
    return status;
}

#ifdef D2L_EXAMPLE_PNG
/** Reads a PNG file with libpng's simplified API: grayscale images (any bit depth) as one
 *  8-bit channel, everything else as RGB; an alpha channel is composited onto black,
 *  16-bit samples are reduced to 8 bits by libpng. Returns 0 on success. */
static int read_png(const char *path, image *out) {
    png_image png;
    memset(&png, 0, sizeof png);
    png.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&png, path))
        return fail("%s: not a readable PNG file: %s", path, png.message);
    if (png.width == 0 || png.height == 0 || png.width > MAX_IMAGE_SIDE || png.height > MAX_IMAGE_SIDE) {
        fail("%s: %ux%u is not an image size this example reads (1 to %d on a side)", path,
             (unsigned)png.width, (unsigned)png.height, MAX_IMAGE_SIDE);
        png_image_free(&png);
        return -1;
    }
    size_t channels = (png.format & PNG_FORMAT_FLAG_COLOR) ? 3 : 1;
    png.format = channels == 3 ? PNG_FORMAT_RGB : PNG_FORMAT_GRAY;
    /* Zeroed: libpng composites transparent pixels onto what the buffer holds. */
    unsigned char *pixels = calloc(PNG_IMAGE_SIZE(png), 1);
    if (!pixels) {
        png_image_free(&png);
        return fail("out of memory");
    }
    /* png_image_finish_read frees png's resources whether it succeeds or not. */
    if (!png_image_finish_read(&png, NULL, pixels, 0, NULL)) {
        free(pixels);
        return fail("%s: not a readable PNG file: %s", path, png.message);
    }
    out->width = png.width;
    out->height = png.height;
    out->channels = channels;
    out->pixels = pixels;
    return 0;
}
#endif

#ifdef D2L_EXAMPLE_JPEG
/** libjpeg's error manager, extended with a way out: libjpeg's default error_exit ends
 *  the process, which an example others copy must never do. */
typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf escape;
    char message[JMSG_LENGTH_MAX];
} jpeg_errors;

static void jpeg_error_exit(j_common_ptr info) {
    jpeg_errors *errors = (jpeg_errors *)info->err;
    errors->base.format_message(info, errors->message);
    longjmp(errors->escape, 1);
}

/** Warnings (level -1: corrupt or truncated data that libjpeg would paper over) are
 *  errors here, as PIL treats a truncated file; trace messages are dropped. */
static void jpeg_emit_message(j_common_ptr info, int level) {
    if (level < 0) jpeg_error_exit(info);
}

/** Reads a baseline or progressive JPEG file (grayscale as one channel, YCbCr and RGB as
 *  RGB; CMYK is refused). Returns 0 on success. */
static int read_jpeg(const char *path, image *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return fail("cannot open image %s: %s", path, strerror(errno));
    struct jpeg_decompress_struct info;
    jpeg_errors errors;
    unsigned char *volatile pixels = NULL;
    info.err = jpeg_std_error(&errors.base);
    errors.base.error_exit = jpeg_error_exit;
    errors.base.emit_message = jpeg_emit_message;
    if (setjmp(errors.escape)) {
        jpeg_destroy_decompress(&info);
        fclose(f);
        free(pixels);
        return fail("%s: not a readable JPEG file: %s", path, errors.message);
    }
    jpeg_create_decompress(&info);
    jpeg_stdio_src(&info, f);
    jpeg_read_header(&info, TRUE);
    if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
        jpeg_destroy_decompress(&info);
        fclose(f);
        return fail("%s: CMYK JPEG files are not supported by this example", path);
    }
    if (info.image_width == 0 || info.image_height == 0 || info.image_width > MAX_IMAGE_SIDE ||
        info.image_height > MAX_IMAGE_SIDE) {
        jpeg_destroy_decompress(&info);
        fclose(f);
        return fail("%s: %ux%u is not an image size this example reads (1 to %d on a side)", path,
                    (unsigned)info.image_width, (unsigned)info.image_height, MAX_IMAGE_SIDE);
    }
    info.out_color_space = info.num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&info);
    size_t width = info.output_width, height = info.output_height, channels = (size_t)info.output_components;
    pixels = malloc(width * height * channels);
    if (!pixels) {
        jpeg_destroy_decompress(&info);
        fclose(f);
        return fail("out of memory");
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = pixels + (size_t)info.output_scanline * width * channels;
        jpeg_read_scanlines(&info, &row, 1);
    }
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    fclose(f);
    out->width = width;
    out->height = height;
    out->channels = channels;
    out->pixels = pixels;
    return 0;
}
#endif

/** The image formats this build reads, for messages and --help. */
static const char *supported_formats(void) {
#if defined(D2L_EXAMPLE_PNG) && defined(D2L_EXAMPLE_JPEG)
    return "PGM, PNG, JPEG";
#elif defined(D2L_EXAMPLE_PNG)
    return "PGM, PNG";
#elif defined(D2L_EXAMPLE_JPEG)
    return "PGM, JPEG";
#else
    return "PGM";
#endif
}

/** Reads a PGM, PNG or JPEG file, told apart by its first bytes (not its name). Returns
 *  0 on success. */
static int read_image(const char *path, image *out) {
    FILE *f = fopen(path, "rb");
    if (!f) return fail("cannot open image %s: %s", path, strerror(errno));
    unsigned char magic[8] = {0};
    size_t n = fread(magic, 1, sizeof magic, f);
    fclose(f);
    if (n >= 2 && magic[0] == 'P' && magic[1] == '5') return read_pgm(path, out);
    if (n == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0) {
#ifdef D2L_EXAMPLE_PNG
        return read_png(path, out);
#else
        return fail("%s is a PNG file; this build reads %s (build it with libpng: -DD2L_EXAMPLE_PNG -lpng)",
                    path, supported_formats());
#endif
    }
    if (n >= 3 && magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF) {
#ifdef D2L_EXAMPLE_JPEG
        return read_jpeg(path, out);
#else
        return fail("%s is a JPEG file; this build reads %s (build it with libjpeg: -DD2L_EXAMPLE_JPEG -ljpeg)",
                    path, supported_formats());
#endif
    }
    return fail("%s is not an image this build reads (%s)", path, supported_formats());
}

/** One output sample's taps of PIL's bilinear (triangle) filter along an axis. */
typedef struct {
    size_t first, count; /* input samples first ..< first + count */
    double weights[];    /* count normalised weights */
} filter_taps;

/** Taps for resizing `in_size` samples to `out_size`, as PIL's `Image.resize(BILINEAR)`
 *  computes them: output sample i is centred on input coordinate (i + 0.5)·scale, and
 *  the triangle's support widens by the scale when shrinking (antialiasing). Returns an
 *  array of out_size pointers (each malloc'ed; free with taps_free), or NULL. */
static filter_taps **taps_make(size_t in_size, size_t out_size) {
    double scale = (double)in_size / (double)out_size;
    double filter_scale = scale > 1.0 ? scale : 1.0;
    double support = filter_scale; /* the triangle's support is 1 */
    filter_taps **taps = calloc(out_size, sizeof *taps);
    if (!taps) return NULL;
    for (size_t i = 0; i < out_size; i++) {
        double center = ((double)i + 0.5) * scale;
        double lo = center - support + 0.5, hi = center + support + 0.5;
        size_t first = lo > 0 ? (size_t)lo : 0;
        size_t last = hi < (double)in_size ? (size_t)hi : in_size;
        if (last <= first) last = first + 1 <= in_size ? first + 1 : in_size;
        filter_taps *t = malloc(sizeof *t + (last - first) * sizeof(double));
        if (!t) {
            for (size_t j = 0; j < i; j++) free(taps[j]);
            free(taps);
            return NULL;
        }
        t->first = first;
        t->count = last - first;
        double total = 0.0;
        for (size_t k = 0; k < t->count; k++) {
            double x = ((double)(first + k) - center + 0.5) / filter_scale;
            double w = x < 0 ? 1.0 + x : 1.0 - x;
            t->weights[k] = w > 0.0 ? w : 0.0;
            total += t->weights[k];
        }
        for (size_t k = 0; k < t->count; k++) t->weights[k] = total > 0.0 ? t->weights[k] / total : 1.0 / t->count;
        taps[i] = t;
    }
    return taps;
}

static void taps_free(filter_taps **taps, size_t count) {
    if (!taps) return;
    for (size_t i = 0; i < count; i++) free(taps[i]);
    free(taps);
}

/** Resizes `in` to width × height with PIL's bilinear filter (horizontal pass, then
 *  vertical, in double precision, rounded once at the end: within one level of PIL,
 *  which rounds after each pass). Returns 0 on success. */
static int resize_image(const image *in, size_t width, size_t height, image *out) {
    size_t c = in->channels;
    filter_taps **columns = taps_make(in->width, width), **rows = taps_make(in->height, height);
    double *middle = malloc(in->height * width * c * sizeof *middle);
    unsigned char *pixels = malloc(height * width * c);
    int status = -1;
    if (!columns || !rows || !middle || !pixels) {
        fail("out of memory");
        goto done;
    }
    for (size_t y = 0; y < in->height; y++)
        for (size_t x = 0; x < width; x++)
            for (size_t ch = 0; ch < c; ch++) {
                const filter_taps *t = columns[x];
                double sum = 0.0;
                for (size_t k = 0; k < t->count; k++)
                    sum += t->weights[k] * in->pixels[(y * in->width + t->first + k) * c + ch];
                middle[(y * width + x) * c + ch] = sum;
            }
    for (size_t y = 0; y < height; y++)
        for (size_t x = 0; x < width; x++)
            for (size_t ch = 0; ch < c; ch++) {
                const filter_taps *t = rows[y];
                double sum = 0.0;
                for (size_t k = 0; k < t->count; k++) sum += t->weights[k] * middle[((t->first + k) * width + x) * c + ch];
                long v = lround(sum);
                pixels[(y * width + x) * c + ch] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    out->width = width;
    out->height = height;
    out->channels = c;
    out->pixels = pixels;
    pixels = NULL;
    status = 0;
done:
    taps_free(columns, width);
    taps_free(rows, height);
    free(middle);
    free(pixels);
    return status;
}

/** The image as one channel: PIL's L = (19595 R + 38470 G + 7471 B + 2^15) >> 16. */
static int to_grayscale(image *img) {
    if (img->channels == 1) return 0;
    size_t n = img->width * img->height;
    unsigned char *gray = malloc(n);
    if (!gray) return fail("out of memory");
    for (size_t i = 0; i < n; i++) {
        const unsigned char *p = img->pixels + 3 * i;
        gray[i] = (unsigned char)((19595u * p[0] + 38470u * p[1] + 7471u * p[2] + 0x8000u) >> 16);
    }
    free(img->pixels);
    img->pixels = gray;
    img->channels = 1;
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* A very small JSON reader, for the two metadata values this program needs             */
/* ------------------------------------------------------------------------------------ */
/*
 * This is not a general JSON parser: it finds `"key"` followed by `:` in an object and
 * reads the array that follows, which is all d2l.input and d2l.labels need. Keys inside
 * nested values could fool the search, but the d2l metadata has none.
 */

static const char *json_skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/** Finds the value of `"key":` in `json`: returns a pointer to its first character, or
 *  NULL when the key is absent. */
static const char *json_find_value(const char *json, const char *key) {
    size_t key_length = strlen(key);
    for (const char *p = strchr(json, '"'); p; p = strchr(p + 1, '"')) {
        if (strncmp(p + 1, key, key_length) == 0 && p[1 + key_length] == '"') {
            const char *q = json_skip_space(p + 2 + key_length);
            if (*q == ':') return json_skip_space(q + 1);
        }
    }
    return NULL;
}

/** Reads the array of numbers at `p` (e.g. `[0.5, 1]`) into values[0..capacity).
 *  Returns the number of elements, or -1 when `p` holds no well-formed number array or
 *  it has more than `capacity` elements. */
static int json_parse_numbers(const char *p, double *values, int capacity) {
    if (!p || *p != '[') return -1;
    p = json_skip_space(p + 1);
    int count = 0;
    if (*p == ']') return 0;
    for (;;) {
        char *end;
        double value = strtod(p, &end);
        if (end == p || count == capacity) return -1;
        values[count++] = value;
        p = json_skip_space(end);
        if (*p == ']') return count;
        if (*p != ',') return -1;
        p = json_skip_space(p + 1);
    }
}

/** Appends the UTF-8 encoding of code point `c` to out; returns the bytes written. */
static size_t utf8_encode(unsigned long c, char *out) {
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | c >> 6);
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3F));
    out[2] = (char)(0x80 | (c >> 6 & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/** Reads the JSON string at `p` (which points at its opening quote). On success returns
 *  a new NUL-terminated string (the caller frees it) and sets *end past the closing
 *  quote; returns NULL on malformed input. Escapes, \uXXXX included, are decoded. */
static char *json_parse_string(const char *p, const char **end) {
    if (*p != '"') return NULL;
    p++;
    /* The decoded string is never longer than the encoded one. */
    const char *close = p;
    while (*close && *close != '"') close += (*close == '\\' && close[1]) ? 2 : 1;
    if (*close != '"') return NULL;
    char *out = malloc((size_t)(close - p) + 1), *o = out;
    if (!out) return NULL;
    while (p < close) {
        if (*p != '\\') { *o++ = *p++; continue; }
        char e = p[1];
        p += 2;
        switch (e) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            char hex[5] = {0};
            char *hex_end;
            if (close - p < 4) goto bad;
            memcpy(hex, p, 4);
            unsigned long c = strtoul(hex, &hex_end, 16);
            if (hex_end != hex + 4) goto bad;
            p += 4;
            /* A surrogate pair encodes one code point above U+FFFF. */
            if (c >= 0xD800 && c < 0xDC00 && close - p >= 6 && p[0] == '\\' && p[1] == 'u') {
                memcpy(hex, p + 2, 4);
                unsigned long low = strtoul(hex, &hex_end, 16);
                if (hex_end == hex + 4 && low >= 0xDC00 && low < 0xE000) {
                    c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
                    p += 6;
                }
            }
            /* \uXXXX takes 6 bytes and yields at most 3, a pair 12 and 4: it fits. */
            o += utf8_encode(c, o);
            break;
        }
        default: goto bad;
        }
    }
    *o = '\0';
    *end = close + 1;
    return out;
bad:
    free(out);
    return NULL;
}

/** A list of class names from `d2l.labels`. */
typedef struct {
    char **names;
    size_t count;
} labels;

static void labels_free(labels *l) {
    for (size_t i = 0; i < l->count; i++) free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->count = 0;
}

/** Parses a JSON array of strings such as `["t-shirt", "trouser"]`. Returns 0 on
 *  success. */
static int labels_parse(const char *json, labels *out) {
    labels l = {NULL, 0};
    const char *p = json_skip_space(json);
    if (*p != '[') return -1;
    p = json_skip_space(p + 1);
    if (*p == ']') { *out = l; return 0; }
    for (;;) {
        char *name = json_parse_string(p, &p);
        char **grown = name ? realloc(l.names, (l.count + 1) * sizeof *grown) : NULL;
        if (!grown) {
            free(name);
            labels_free(&l);
            return -1;
        }
        l.names = grown;
        l.names[l.count++] = name;
        p = json_skip_space(p);
        if (*p == ']') break;
        if (*p != ',') { labels_free(&l); return -1; }
        p = json_skip_space(p + 1);
    }
    *out = l;
    return 0;
}

/* ------------------------------------------------------------------------------------ */
/* Preprocessing: pixels -> model input                                                 */
/* ------------------------------------------------------------------------------------ */

#define MAX_CHANNELS 16

/** How raw pixels become inputs, from the `d2l.input` metadata. */
typedef struct {
    double range[2];            /* pixel 0 maps to range[0], pixel 255 to range[1] */
    double mean[MAX_CHANNELS];  /* per channel; one value applies to every channel */
    double std[MAX_CHANNELS];
    int mean_count, std_count;
    size_t size[2];             /* the optional "size": [H, W]; 0 when absent */
} preprocessing;

/** Reads `d2l.input` (NULL when absent: range [0, 1], mean 0, std 1). Returns 0 on
 *  success. */
static int preprocessing_parse(const char *json, preprocessing *out) {
    preprocessing p = {{0.0, 1.0}, {0.0}, {1.0}, 1, 1, {0, 0}};
    if (json) {
        const char *layout = json_find_value(json, "layout");
        if (layout && strncmp(layout, "\"NCHW\"", 6) != 0)
            return fail("d2l.input: only the NCHW layout is supported");
        const char *value = json_find_value(json, "range");
        if (value && json_parse_numbers(value, p.range, 2) != 2)
            return fail("d2l.input: \"range\" must be an array of two numbers");
        value = json_find_value(json, "mean");
        if (value && (p.mean_count = json_parse_numbers(value, p.mean, MAX_CHANNELS)) < 1)
            return fail("d2l.input: \"mean\" must be an array of 1 to %d numbers",
                        MAX_CHANNELS);
        value = json_find_value(json, "std");
        if (value && (p.std_count = json_parse_numbers(value, p.std, MAX_CHANNELS)) < 1)
            return fail("d2l.input: \"std\" must be an array of 1 to %d numbers",
                        MAX_CHANNELS);
        for (int i = 0; i < p.std_count; i++)
            if (p.std[i] == 0.0) return fail("d2l.input: \"std\" contains 0");
        value = json_find_value(json, "size");
        double size[2];
        if (value) {
            if (json_parse_numbers(value, size, 2) != 2 || !(size[0] >= 1 && size[0] <= MAX_IMAGE_SIDE) ||
                !(size[1] >= 1 && size[1] <= MAX_IMAGE_SIDE) || size[0] != floor(size[0]) || size[1] != floor(size[1]))
                return fail("d2l.input: \"size\" must be [height, width], whole numbers from 1 to %d", MAX_IMAGE_SIDE);
            p.size[0] = (size_t)size[0];
            p.size[1] = (size_t)size[1];
        }
    }
    *out = p;
    return 0;
}

/** The per-channel value of a mean or std array of `count` entries (1 = all channels). */
static int channel_value(const double *values, int count, size_t channel, size_t channels,
                         double *out) {
    if (count == 1) { *out = values[0]; return 0; }
    if ((size_t)count != channels)
        return fail("d2l.input: %d mean/std values for a %zu-channel input", count, channels);
    *out = values[channel];
    return 0;
}

/** The input tensor for one image. */
typedef struct {
    float *data;      /* owned */
    int64_t shape[8];
    size_t rank;
} input_tensor;

/** Builds the model's input from `img`: [1, C, H, W] (a colour image becomes grayscale
 *  for C = 1, a grayscale one is repeated in every channel; H and W are the model's, or
 *  for a symbolic size `d2l.input`'s "size" or else the image's) or [1, H*W] (a
 *  flattened grayscale image, as an MLP takes it; H and W from "size" or the image).
 *  The image is resized to H × W when it differs (and converted in place). A symbolic
 *  batch becomes 1. Returns 0 on success. */
static int make_input(const d2l_model *model, image *img, const preprocessing *pre,
                      input_tensor *out) {
    const int64_t *declared;
    size_t rank;
    d2l_status status = d2l_model_input_shape(model, 0, &declared, &rank);
    if (status != D2L_OK) return fail_d2l("d2l_model_input_shape", status);
    d2l_dtype dtype;
    status = d2l_model_input_dtype(model, 0, &dtype);
    if (status != D2L_OK) return fail_d2l("d2l_model_input_dtype", status);
    if (dtype != D2L_FLOAT32) return fail("the model's input is not float32");
    if (rank != 4 && rank != 2)
        return fail("the model's input has rank %zu (expected [N, C, H, W] or [N, H*W])",
                    rank);

    input_tensor t = {NULL, {0}, rank};
    for (size_t i = 0; i < rank; i++) t.shape[i] = declared[i];
    if (t.shape[0] == -1) t.shape[0] = 1;
    if (t.shape[0] != 1) return fail("the model's batch size is fixed at %lld, not 1",
                                     (long long)t.shape[0]);
    size_t channels = 1;
    size_t height = pre->size[0] ? pre->size[0] : img->height;
    size_t width = pre->size[1] ? pre->size[1] : img->width;
    if (rank == 4) {
        if (t.shape[1] < 1 || t.shape[1] > MAX_CHANNELS)
            return fail("the model's input has %lld channels", (long long)t.shape[1]);
        channels = (size_t)t.shape[1];
        if (t.shape[2] != -1) height = (size_t)t.shape[2];
        if (t.shape[3] != -1) width = (size_t)t.shape[3];
        if (height < 1 || width < 1 || height > MAX_IMAGE_SIDE || width > MAX_IMAGE_SIDE)
            return fail("the model takes %zux%zu images, which this example cannot make", width, height);
        t.shape[2] = (int64_t)height;
        t.shape[3] = (int64_t)width;
    } else if (t.shape[1] != (int64_t)(height * width)) {
        if (pre->size[0])
            return fail("d2l.input's size %zux%zu does not give the model's %lld values", width, height,
                        (long long)t.shape[1]);
        return fail("the model takes %lld values, this image has %zu pixels (and d2l.input has no size to resize to)",
                    (long long)t.shape[1], height * width);
    }
    if (img->channels == 3 && channels == 1) {
        if (to_grayscale(img) != 0) return -1;
    } else if (img->channels == 3 && channels != 3) {
        return fail("the model's input has %zu channels; this colour image has 3", channels);
    }
    if (img->width != width || img->height != height) {
        image resized = {0, 0, 0, NULL};
        if (resize_image(img, width, height, &resized) != 0) return -1;
        image_free(img);
        *img = resized;
    }

    size_t pixels = width * height;
    t.data = malloc(channels * pixels * sizeof *t.data);
    if (!t.data) return fail("out of memory");
    double scale = (pre->range[1] - pre->range[0]) / 255.0;
    for (size_t c = 0; c < channels; c++) {
        double mean = 0.0, std = 1.0;
        if (channel_value(pre->mean, pre->mean_count, c, channels, &mean) != 0 ||
            channel_value(pre->std, pre->std_count, c, channels, &std) != 0) {
            free(t.data);
            return -1;
        }
        float *plane = t.data + c * pixels;
        size_t step = img->channels, offset = img->channels == 1 ? 0 : c;
        for (size_t i = 0; i < pixels; i++) {
            double x = pre->range[0] + img->pixels[i * step + offset] * scale;
            plane[i] = (float)((x - mean) / std);
        }
    }
    *out = t;
    return 0;
}

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
