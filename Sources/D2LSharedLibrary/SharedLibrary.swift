// libd2l.so: the C API of include/d2l.h and nothing else. This target only links
// D2LCAPI into the shared library with libd2l.map, the version script that keeps every
// symbol but the header's functions local (bindings/c/tests/test_exports.sh checks it).
@_exported import D2LCAPI
