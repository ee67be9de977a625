// swift-tools-version:6.0
//
// d2l: a Swift toolkit for *Dive into Deep Learning*, the libd2l inference runtime
// (C API in include/d2l.h), and d2l-export. See docs/ARCHITECTURE.md for the design.
//
// Portable by default: no unsafe flags unless D2L_TARGET_CPU is set, e.g.
//   D2L_TARGET_CPU=native swift build -c release
// which tunes the runtime's kernels for that CPU (-target-cpu, and FMA SIMD code).
import PackageDescription

// MARK: - Build configuration

let targetCPU: String? = {
    guard let value = Context.environment["D2L_TARGET_CPU"], !value.isEmpty else { return nil }
    return value
}()

/// Flags for the kernels' module: tuned only on request, so that other packages can
/// depend on this one and its binaries run on any x86-64 or ARM board.
let kernelSettings: [SwiftSetting] = targetCPU.map {
    [.unsafeFlags(["-target-cpu", $0]), .define("D2L_FMA")]
} ?? []

// MARK: - Public products

let products: [Product] = [
    /// libd2l.so: the C API of include/d2l.h, exporting nothing else.
    .library(name: "d2l", type: .dynamic, targets: ["D2LSharedLibrary"]),
    /// libd2l-static.a (tools/install copies it to libd2l.a).
    .library(name: "d2l-static", type: .static, targets: ["D2LCAPI"]),
    /// The runtime as a Swift library, for Swift programs.
    .library(name: "D2LRuntime", targets: ["D2LRuntime"]),
    /// The training toolkit: tensors, autograd, layers, optimizers, data, training loops, export.
    .library(name: "D2L", targets: ["D2L"]),
    /// `d2l-cli train|eval|generate`.
    .executable(name: "d2l-cli", targets: ["d2l-cli"]),
    /// `d2l-export convert|inspect|verify`.
    .executable(name: "d2l-export", targets: ["d2l-export"]),
    /// `d2l-book list|SECTION [--quick]`: the book's sections as programs (Examples/).
    .executable(name: "d2l-book", targets: ["d2l-book"]),
]

// MARK: - Dependencies

let dependencies: [Package.Dependency] = [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    /// `swift package generate-documentation` for the DocC catalogs (tools/docs); a
    /// command plugin, so it adds nothing to any product or to dependents' builds.
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
]

// MARK: - Implementation

let implementation: [Target] = [
    /// The system libprotobuf-c (Debian: libprotobuf-c-dev).
    .systemLibrary(name: "CProtobufC", providers: [.apt(["libprotobuf-c-dev"])]),
    /// protoc-c output for onnx.proto (tools/dev/regenerate-onnx-proto). No stable API.
    .target(name: "_D2LONNX", dependencies: ["CProtobufC"]),
    /// libc, libm and pthreads for the runtime (Embedded Swift has no Glibc), plus
    /// thread-local error storage and the thread pool.
    .target(name: "_D2LSystem"),
    /// The innermost loops (GEMM tiles, column panels, elementwise), C compiled once per
    /// instruction set (scalar, SSE2, AVX2+FMA, AVX-512F; NEON) and chosen at run time.
    /// No flags: each variant carries its own `target` attribute.
    .target(name: "_D2LKernels"),
    /// The inference runtime: load, validate, plan, run. No Foundation.
    .target(
        name: "D2LRuntime",
        dependencies: ["_D2LONNX", "_D2LSystem", "_D2LKernels", "CProtobufC"],
        swiftSettings: kernelSettings,
        // libm (sqrtf, expf, ...): without Foundation nothing else brings it to a program
        // that depends on D2LRuntime alone.
        linkerSettings: [.linkedLibrary("m")]
    ),
    /// The @_cdecl d2l_* functions declared in include/d2l.h.
    .target(name: "D2LCAPI", dependencies: ["D2LRuntime", "_D2LSystem"]),
    /// libd2l.so's link: D2LCAPI with the version script libd2l.map, so the library
    /// exports only the header's functions. The one unsafe flag of the package, on a target
    /// only the `d2l` product uses (SwiftPM dependents use D2LRuntime or D2L).
    .target(
        name: "D2LSharedLibrary",
        dependencies: ["D2LCAPI"],
        exclude: ["libd2l.map"],
        linkerSettings: [.unsafeFlags(["-Xlinker", "--version-script=\(Context.packageDirectory)/Sources/D2LSharedLibrary/libd2l.map"])]
    ),
    /// The system zlib (Debian: zlib1g-dev), for gzip-compressed data sets.
    .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
    /// The system libpng (Debian: libpng-dev), for ImageDecoder; only D2L links it.
    .systemLibrary(name: "CPNG", providers: [.apt(["libpng-dev"])]),
    /// The system libjpeg (Debian: libjpeg62-turbo-dev), for ImageDecoder; only D2L links it.
    .systemLibrary(name: "CJPEG", providers: [.apt(["libjpeg62-turbo-dev"])]),
    /// The training toolkit. Its forward kernels are D2LRuntime's.
    .target(
        name: "D2L",
        dependencies: ["D2LRuntime", "_D2LONNX", "_D2LSystem", "CProtobufC", "CZlib", "CPNG", "CJPEG"],
        swiftSettings: kernelSettings
    ),
]

// MARK: - Tools

let tools: [Target] = [
    /// `d2l-cli`: argument parsing and messages over D2L.
    .executableTarget(
        name: "d2l-cli",
        dependencies: ["D2L", "D2LRuntime", .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),
    /// `d2l-export`: argument parsing and messages over D2L's checkpoint conversion.
    .executableTarget(
        name: "d2l-export",
        dependencies: ["D2L", "D2LRuntime", .product(name: "ArgumentParser", package: "swift-argument-parser")]
    ),
    /// `d2l-book`: one source per book section under Examples/ChapterN, registered in
    /// Examples/BookSections.swift; thin over D2L, like the book's notebooks over d2l.
    .executableTarget(
        name: "d2l-book",
        dependencies: ["D2L", .product(name: "ArgumentParser", package: "swift-argument-parser")],
        path: "Examples"
    ),
]

// MARK: - Tests

let tests: [Target] = [
    .testTarget(
        name: "D2LRuntimeTests",
        dependencies: ["D2LRuntime", "_D2LONNX", "_D2LSystem"],
        exclude: [],
        swiftSettings: kernelSettings
    ),
    .testTarget(
        name: "D2LTests",
        dependencies: ["D2L", "D2LRuntime"],
        swiftSettings: kernelSettings
    ),
]

let package = Package(
    name: "d2l",
    products: products,
    dependencies: dependencies,
    targets: implementation + tools + tests,
    swiftLanguageModes: [.v5]
)
