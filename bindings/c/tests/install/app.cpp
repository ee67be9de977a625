// app.cpp — the C++ counterpart of app.c: include/d2l.h from C++ (extern "C"), handles owned
// by std::unique_ptr, and one run of the model on zeros (symbolic dimensions as 1). Prints
// app.c's line (test_pkgconfig.sh checks it), then output 0's shape.
#include <d2l.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <vector>

namespace {
struct ModelFree { void operator()(d2l_model *m) const { d2l_model_free(m); } };
struct SessionFree { void operator()(d2l_session *s) const { d2l_session_free(s); } };
using Model = std::unique_ptr<d2l_model, ModelFree>;
using Session = std::unique_ptr<d2l_session, SessionFree>;

int fail(const char *what) {
    std::fprintf(stderr, "app: %s: %s\n", what, d2l_last_error());
    return 1;
}
}  // namespace

int main(int argc, char **argv) {
    if (argc < 2) { std::fprintf(stderr, "app: usage: app MODEL.onnx\n"); return 1; }
    d2l_model *raw_model = nullptr;
    if (d2l_model_load_file(argv[1], &raw_model) != D2L_OK) return fail(argv[1]);
    Model model(raw_model);
    std::printf("libd2l %s (%s): %zu input(s)\n", d2l_version_string(), d2l_kernel_isa(),
                d2l_model_input_count(model.get()));

    d2l_session *raw_session = nullptr;
    if (d2l_session_create(model.get(), &raw_session) != D2L_OK) return fail("session");
    Session session(raw_session);
    for (size_t i = 0; i < d2l_model_input_count(model.get()); ++i) {
        const int64_t *declared = nullptr;
        size_t rank = 0;
        d2l_dtype dtype = D2L_FLOAT32;
        if (d2l_model_input_shape(model.get(), i, &declared, &rank) != D2L_OK) return fail("input shape");
        if (d2l_model_input_dtype(model.get(), i, &dtype) != D2L_OK) return fail("input dtype");
        std::vector<int64_t> shape(declared, declared + rank);
        size_t count = 1;
        for (auto &d : shape) { if (d < 1) d = 1; count *= static_cast<size_t>(d); }
        std::vector<std::uint64_t> zeros(count, 0);  // 8 bytes per element: room for any dtype
        if (d2l_session_set_input(session.get(), i, dtype, zeros.data(), shape.data(), rank) != D2L_OK)
            return fail("set input");
    }
    if (d2l_session_run(session.get()) != D2L_OK) return fail("run");
    d2l_dtype dtype;
    const void *data = nullptr;
    const int64_t *shape = nullptr;
    size_t rank = 0;
    if (d2l_session_get_output(session.get(), 0, &dtype, &data, &shape, &rank) != D2L_OK) return fail("output");
    std::printf("output 0: [");
    for (size_t d = 0; d < rank; ++d) std::printf("%s%lld", d ? ", " : "", static_cast<long long>(shape[d]));
    std::printf("]\n");
    return 0;
}
