// The system libpng (Debian: libpng-dev) and d2l_png_decode, the one call the toolkit's
// ImageDecoder makes: libpng reports errors by longjmp, which Swift cannot catch, so the
// setjmp lives here, in C.
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/// What d2l_png_decode read: the sizes, the channels of `pixels` (1 gray, 2 gray+alpha,
/// 3 RGB, 4 RGBA), and whether the file was 16-bit grayscale (then `pixels` holds
/// big-endian 16-bit samples, 2 bytes per sample), or the error.
typedef struct {
    unsigned width, height, channels, gray16;
    /// libpng's message when the call fails.
    char message[256];
} d2l_png_result;

typedef struct {
    const unsigned char *data;
    size_t size, position;
    d2l_png_result *result;
} d2l_png_source;

static void d2l_png_error(png_structp png, png_const_charp message) {
    d2l_png_source *source = (d2l_png_source *)png_get_io_ptr(png);
    if (source && source->result) {
        strncpy(source->result->message, message ? message : "libpng error", sizeof source->result->message - 1);
        source->result->message[sizeof source->result->message - 1] = 0;
    }
    png_longjmp(png, 1);
}

static void d2l_png_warning(png_structp png, png_const_charp message) { (void)png; (void)message; }

static void d2l_png_read(png_structp png, png_bytep out, png_size_t length) {
    d2l_png_source *source = (d2l_png_source *)png_get_io_ptr(png);
    if (length > source->size - source->position) png_error(png, "the file ends early (truncated)");
    memcpy(out, source->data + source->position, length);
    source->position += length;
}

/// Decodes the PNG in `data[0..<size]` with PIL's conventions: bit depths below 8 scaled to
/// 8 bits (palette indices expanded through the palette to RGB, tRNS kept as an alpha
/// channel the caller drops), 16-bit samples reduced to their high byte except 16-bit
/// grayscale (kept whole for the caller to clip, as PIL's I;16 → RGB does), no gamma,
/// interlacing undone. Refuses an image whose decoded size passes `max_bytes` before
/// allocating. On success returns 0 and `*pixels` (free() it), rows top to bottom,
/// interleaved channels; on failure returns 1 with `result->message` set.
static inline int d2l_png_decode(const unsigned char *data, size_t size, size_t max_bytes,
                                 unsigned char **pixels, d2l_png_result *result) {
    *pixels = NULL;
    memset(result, 0, sizeof *result);
    d2l_png_source source = {data, size, 0, result};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, NULL, d2l_png_error, d2l_png_warning);
    if (!png) { strcpy(result->message, "libpng could not start"); return 1; }
    png_infop info = png_create_info_struct(png);
    unsigned char *volatile buffer = NULL;
    png_bytep *volatile rows = NULL;
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); strcpy(result->message, "libpng could not start"); return 1; }
    if (setjmp(png_jmpbuf(png))) {
        free(buffer);
        free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    png_set_read_fn(png, &source, d2l_png_read);
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), type = png_get_color_type(png, info);
    int gray16 = depth == 16 && type == PNG_COLOR_TYPE_GRAY;
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    // tRNS of a gray or RGB image stays metadata (as in PIL): no alpha channel is added.
    if (depth == 16 && !gray16) png_set_strip_16(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    unsigned channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if (height == 0 || rowbytes == 0 || rowbytes > max_bytes / height) {
        snprintf(result->message, sizeof result->message,
                 "%ux%u pixels with %u channels is more than the decoder's limit of %zu bytes",
                 (unsigned)width, (unsigned)height, channels, max_bytes);
        png_destroy_read_struct(&png, &info, NULL);
        return 1;
    }
    buffer = (unsigned char *)malloc(rowbytes * height);
    rows = (png_bytep *)malloc(sizeof(png_bytep) * height);
    if (!buffer || !rows) png_error(png, "out of memory");
    for (png_uint_32 y = 0; y < height; y++) rows[y] = buffer + y * rowbytes;
    png_read_image(png, rows);
    // Like PIL, what follows the image data (IEND included) is not required.
    free(rows);
    png_destroy_read_struct(&png, &info, NULL);
    result->width = width;
    result->height = height;
    result->channels = channels;
    result->gray16 = gray16;
    *pixels = buffer;
    return 0;
}
