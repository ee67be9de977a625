// The system libjpeg (Debian: libjpeg62-turbo-dev) and d2l_jpeg_decode, the one call the
// toolkit's ImageDecoder makes. libjpeg's default error_exit calls exit(); the error
// manager here longjmps back instead (Swift cannot catch a longjmp, so the setjmp lives
// here, in C), and a corrupt file becomes a message.
#include <stdio.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

/// What d2l_jpeg_decode read: the sizes and the channels of `pixels` (1 grayscale, 3 RGB,
/// 4 CMYK as libjpeg gives it, i.e. Adobe's inverted CMYK, YCCK converted to it), or the error.
typedef struct {
    unsigned width, height, channels;
    /// libjpeg's message when the call fails.
    char message[JMSG_LENGTH_MAX + 32];
} d2l_jpeg_result;

typedef struct {
    struct jpeg_error_mgr manager;
    jmp_buf jump;
    d2l_jpeg_result *result;
} d2l_jpeg_error;

static void d2l_jpeg_error_exit(j_common_ptr info) {
    d2l_jpeg_error *error = (d2l_jpeg_error *)info->err;
    (*info->err->format_message)(info, error->result->message);
    longjmp(error->jump, 1);
}

/// Warnings are ignored, as PIL does, except "premature end of JPEG file": PIL refuses a
/// truncated file (libjpeg would fill the rest with gray).
static void d2l_jpeg_emit_message(j_common_ptr info, int level) {
    if (level < 0 && info->err->msg_code == JWRN_JPEG_EOF) {
        d2l_jpeg_error *error = (d2l_jpeg_error *)info->err;
        strcpy(error->result->message, "the file ends early (truncated)");
        longjmp(error->jump, 1);
    }
}

static void d2l_jpeg_output_message(j_common_ptr info) { (void)info; }

/// Decodes the JPEG (baseline or progressive) in `data[0..<size]` as PIL does: grayscale
/// as 1 channel, YCbCr/RGB as RGB, CMYK/YCCK as libjpeg's CMYK, libjpeg's default (islow
/// DCT, fancy upsampling), EXIF orientation ignored. Refuses an image whose decoded size
/// passes `max_bytes` before allocating. On success returns 0 and `*pixels` (free() it),
/// rows top to bottom, interleaved channels; on failure returns 1 with `result->message`.
static inline int d2l_jpeg_decode(const unsigned char *data, size_t size, size_t max_bytes,
                                  unsigned char **pixels, d2l_jpeg_result *result) {
    *pixels = NULL;
    memset(result, 0, sizeof *result);
    struct jpeg_decompress_struct info;
    d2l_jpeg_error error;
    unsigned char *volatile buffer = NULL;
    info.err = jpeg_std_error(&error.manager);
    error.manager.error_exit = d2l_jpeg_error_exit;
    error.manager.emit_message = d2l_jpeg_emit_message;
    error.manager.output_message = d2l_jpeg_output_message;
    error.result = result;
    if (setjmp(error.jump)) {
        free(buffer);
        jpeg_destroy_decompress(&info);
        return 1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    switch (info.jpeg_color_space) {
    case JCS_GRAYSCALE: info.out_color_space = JCS_GRAYSCALE; break;
    case JCS_CMYK: case JCS_YCCK: info.out_color_space = JCS_CMYK; break;
    default: info.out_color_space = JCS_RGB; break;
    }
    jpeg_calc_output_dimensions(&info);
    size_t width = info.output_width, height = info.output_height, channels = (size_t)info.out_color_components;
    if (width == 0 || height == 0 || width * channels > max_bytes / height) {
        snprintf(result->message, sizeof result->message,
                 "%zux%zu pixels with %zu channels is more than the decoder's limit of %zu bytes",
                 width, height, channels, max_bytes);
        jpeg_destroy_decompress(&info);
        return 1;
    }
    buffer = (unsigned char *)malloc(width * height * channels);
    if (!buffer) ERREXIT1(&info, JERR_OUT_OF_MEMORY, 0);
    jpeg_start_decompress(&info);
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = buffer + (size_t)info.output_scanline * width * channels;
        jpeg_read_scanlines(&info, &row, 1);
    }
    // Like PIL, what follows the last scanline is not required.
    jpeg_abort_decompress(&info);
    jpeg_destroy_decompress(&info);
    result->width = (unsigned)width;
    result->height = (unsigned)height;
    result->channels = (unsigned)channels;
    *pixels = buffer;
    return 0;
}
