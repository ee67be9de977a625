/*
 * check.h — the reporting and file helpers shared by the C test programs
 * (test_capi.c, test_generate.c): one "ok - ..." / "FAIL - ..." line per check, counted
 * for the closing "N passed, M failed" line, and paths relative to the repository root.
 * Header-only (static functions): each test program includes it once.
 */
#ifndef D2L_TESTS_CHECK_H
#define D2L_TESTS_CHECK_H

#include "d2l.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

/** Records one check and prints its line. Returns `ok`. */
static int check(int ok, const char *format, ...) {
    va_list args;
    va_start(args, format);
    printf("%s - ", ok ? "ok" : "FAIL");
    vprintf(format, args);
    putchar('\n');
    fflush(stdout);
    va_end(args);
    if (ok) passed++; else failed++;
    return ok;
}

/** Checks that `status` is `expected`; on a mismatch the line shows both names and
 *  d2l_last_error(). */
static int check_status(d2l_status status, d2l_status expected, const char *what) {
    if (status == expected) return check(1, "%s -> %s", what, d2l_status_string(status));
    return check(0, "%s -> %s (expected %s; last error: %s)", what, d2l_status_string(status),
                 d2l_status_string(expected), d2l_last_error());
}

static const char *root = ".";

/** A new string "root/relative" (the caller frees it). */
static char *path_of(const char *relative) {
    size_t n = strlen(root) + strlen(relative) + 2;
    char *p = malloc(n);
    if (!p) abort();
    snprintf(p, n, "%s/%s", root, relative);
    return p;
}

/** Reads a whole file into a new buffer (one spare byte, so a 0-byte file still gives a
 *  non-NULL pointer). Returns NULL on error. */
__attribute__((unused)) static unsigned char *read_file(const char *path, size_t *out_size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *data = NULL;
    size_t size = 0, capacity = 0;
    for (;;) {
        if (size + 1 >= capacity) {
            capacity = capacity ? capacity * 2 : 65536;
            unsigned char *grown = realloc(data, capacity);
            if (!grown) { free(data); fclose(f); return NULL; }
            data = grown;
        }
        size_t n = fread(data + size, 1, capacity - size - 1, f);
        if (n == 0) break;
        size += n;
    }
    int error = ferror(f);
    fclose(f);
    if (error) { free(data); return NULL; }
    *out_size = size;
    return data;
}

#endif
