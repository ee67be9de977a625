/*
 * example_input.h — what the C examples (classify.c, detect.c) share to turn an image
 * into a model's input: a small reader for the d2l.input and d2l.labels metadata (JSON)
 * and make_input, which converts, resizes and normalises an image as d2l.input says.
 * Header-only (static functions); include it once, after example_image.h.
 */
#ifndef D2L_EXAMPLE_INPUT_H
#define D2L_EXAMPLE_INPUT_H

#include "example_image.h"

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


#endif
