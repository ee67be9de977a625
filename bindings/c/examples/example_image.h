/*
 * example_image.h — what the C examples (classify.c, detect.c) share to read images:
 * errors printed as "NAME: message" and binary PGM, IDX (plain or gzip'ed), PNG and JPEG
 * readers (with -DD2L_EXAMPLE_PNG / -DD2L_EXAMPLE_JPEG) that give 8-bit pixels, H x W x C
 * interleaved, as d2l_session_set_image_u8 takes them (which converts, resizes and
 * normalises them for the model). Header-only (static functions): include it once, after
 * defining EXAMPLE_NAME (the program's name in messages).
 */
#ifndef D2L_EXAMPLE_IMAGE_H
#define D2L_EXAMPLE_IMAGE_H

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

#ifndef EXAMPLE_NAME
#define EXAMPLE_NAME "example"
#endif

/* ------------------------------------------------------------------------------------ */
/* Errors                                                                               */
/* ------------------------------------------------------------------------------------ */

/** Prints "EXAMPLE_NAME: MESSAGE" to stderr. Always returns -1, so callers can
 *  `return fail(...)`. */
static int fail(const char *format, ...) {
    va_list args;
    va_start(args, format);
    fputs(EXAMPLE_NAME ": ", stderr);
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
__attribute__((unused)) static int read_idx(const char *path, unsigned long index, image *out) {
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

#endif
