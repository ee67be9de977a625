/*
 * example_labels.h — the class names of a model's `d2l.labels` metadata (a JSON array of
 * strings) for detect.c, whose detection rows carry class indices. (classify.c needs no
 * copy: d2l_classify returns the labels; the image preprocessing both examples once did
 * here is libd2l's d2l_session_set_image_u8.) Header-only (static functions); include it
 * once, after example_image.h.
 */
#ifndef D2L_EXAMPLE_LABELS_H
#define D2L_EXAMPLE_LABELS_H

#include "example_image.h"

/* ------------------------------------------------------------------------------------ */
/* A very small JSON reader: an array of strings                                        */
/* ------------------------------------------------------------------------------------ */

static const char *json_skip_space(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
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

#endif
