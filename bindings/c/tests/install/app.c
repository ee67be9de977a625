/* app.c — a user's smallest C program against an installed libd2l: loads the model named
 * on the command line and prints the library's version, kernel variant and the model's
 * input count (test_pkgconfig.sh checks the line). Built by tools/cross-build and
 * test_install.sh with pkg-config and with CMake, against libd2l.so and libd2l.a. */
#include <d2l.h>
#include <stdio.h>
int main(int argc, char **argv) {
    d2l_model *model = NULL;
    if (argc < 2 || d2l_model_load_file(argv[1], &model) != D2L_OK) {
        fprintf(stderr, "app: %s\n", argc < 2 ? "usage: app MODEL.onnx" : d2l_last_error());
        return 1;
    }
    printf("libd2l %s (%s): %zu input(s)\n", d2l_version_string(), d2l_kernel_isa(), d2l_model_input_count(model));
    d2l_model_free(model);
    return 0;
}
