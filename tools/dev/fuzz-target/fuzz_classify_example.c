/*
 * libFuzzer entry for the readers of the C examples (bindings/c/examples: classify.c's
 * image readers from example_image.h, detect.c's d2l.labels reader from example_labels.h;
 * built and run by tools/dev/fuzz-toolkit, target `classify-c`): what a C user copies from
 * the examples must hold up against any file. classify.c is included whole (its static
 * functions are what is fuzzed; its main is renamed away). For every input:
 *   - as text: labels_parse (`d2l.labels`);
 *   - as a file: read_image (PGM, and PNG and JPEG when built with -DD2L_EXAMPLE_PNG
 *     -DD2L_EXAMPLE_JPEG, as tools/dev/fuzz-toolkit does where libpng/libjpeg exist), and
 *     read_idx for images 0 and 1 (plain or gzip-compressed).
 * (The d2l.input reader and the resize are libd2l's d2l_session_set_image_u8 now, in
 * Sources/D2LRuntime/Preprocessing.)
 * A crash, sanitizer report, leak or timeout is a bug; a refusal is a message on stderr
 * (closed by the script with -close_fd_mask=... only when asked: FUZZ_QUIET=1).
 */
#define main classify_example_main
#include "../../../bindings/c/examples/classify.c"
#undef main
#include "../../../bindings/c/examples/example_labels.h"

#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* The metadata readers take a NUL-terminated string, as d2l_model_metadata returns. */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    labels names;
    if (labels_parse(text, &names) == 0) {
        size_t total = 0;
        for (size_t i = 0; i < names.count; i++) total += strlen(names.names[i]);
        (void)total;
        labels_free(&names);
    }
    free(text);

    /* The image readers take a path: one scratch file per process. */
    static char path[256];
    if (!path[0]) {
        const char *folder = getenv("FUZZ_SCRATCH");
        snprintf(path, sizeof path, "%s/fuzz-classify-%ld.img", folder ? folder : "/tmp", (long)getpid());
    }
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && fwrite(data, 1, size, f) != size) abort();
    fclose(f);
    image img = {0, 0, 0, NULL};
    if (read_image(path, &img) == 0) {
        unsigned sum = 0;
        for (size_t i = 0; i < img.width * img.height * img.channels; i++) sum += img.pixels[i];
        (void)sum;
        image_free(&img);
    }
    for (unsigned long index = 0; index < 2; index++) {
        image idx = {0, 0, 0, NULL};
        if (read_idx(path, index, &idx) == 0) {
            unsigned sum = 0;
            for (size_t i = 0; i < idx.width * idx.height; i++) sum += idx.pixels[i];
            (void)sum;
            image_free(&idx);
        }
    }
    return 0;
}
