// libFuzzer entry for the toolkit's file readers (built and run by tools/dev/fuzz-toolkit).
//
// One binary, one reader per run, chosen by the environment variable FUZZ_TARGET:
//   checkpoint   PyTorchCheckpoint.decode: torch.save zip (pickle, storages, deflate),
//                legacy tar/pickle, safetensors; then every tensor's values are touched
//   pickle       the pickle reader alone (persistent ids returned as they are)
//   zip          the ZIP reader alone: central directory, then every entry's data
//                (stored or deflated, CRC-checked)
//   safetensors  SafeTensorsFile.decode, then floats()/int64s() of every tensor
//   idx          IDXFile(bytes:expectedMagic:) with the images and the labels magic
//   gzip         the bytes written to a file, read back by readPossiblyGzipped(path:),
//                then parsed as IDX (what FashionMNIST.load does with a .gz file)
//   csv          CSVTable(parsing:) on the bytes as UTF-8, then numericMatrix() both ways
//   onnx         ONNXModelSummary(bytes:) (what `d2l-export inspect` prints for a model)
//   vocab        JSONStringArray.parse (libd2l's reader of the d2l.vocab and d2l.labels
//                metadata, and of vocab.json)
//   image        ImageDecoder.decode(bytes:) (libpng, libjpeg through the CPNG/CJPEG shims)
//                in both modes, at most 4 MiB decoded
// (The C example's readers are fuzzed by fuzz_classify_example.c, target classify-c.)
// Every input must give a value or a thrown error: a trap, sanitizer report, leak or
// timeout is a bug (bad bytes get a one-line error, never a crash).

@testable import D2L
@testable import D2LRuntime
#if canImport(Glibc)
import Glibc
#endif

/// The reader under test, read once from FUZZ_TARGET.
private let target: String = {
    guard let name = getenv("FUZZ_TARGET") else {
        fputs("fuzz-toolkit: set FUZZ_TARGET to checkpoint, pickle, zip, safetensors, idx, gzip, csv, onnx, vocab or image\n", stderr)
        exit(2)
    }
    return String(cString: name)
}()

/// FUZZ_VERBOSE=1: print each input's outcome (for re-running single files).
private let verbose = getenv("FUZZ_VERBOSE") != nil

/// FUZZ_ANY_MESSAGE=1: do not check error messages for control characters (to look for
/// crashes alone).
private let checkMessages = getenv("FUZZ_ANY_MESSAGE") == nil

/// Where the gzip target writes each input (one file per process, overwritten each run).
private let scratchPath: String = {
    let folder = getenv("FUZZ_SCRATCH").map { String(cString: $0) } ?? "/tmp"
    return "\(folder)/fuzz-toolkit-\(getpid()).gz"
}()

/// A sum over what a reader returned, so that nothing it produced is skipped.
private var checksum = 0

private func touch(_ values: [Float]) { for v in values { checksum &+= Int(v.bitPattern) } }

private func runOne(_ bytes: [UInt8]) throws {
    switch target {
    case "checkpoint":
        let checkpoint = try PyTorchCheckpoint.decode(bytes, source: "fuzz")
        for (name, tensor) in checkpoint.tensors {
            checksum &+= name.utf8.count &+ tensor.shape.count
            touch(tensor.values)
            for v in tensor.integers ?? [] { checksum &+= Int(truncatingIfNeeded: v) }
        }
        checksum &+= checkpoint.elementCount
    case "pickle":
        let (value, _) = try PickleReader.load(bytes, source: "fuzz", persistentLoad: { $0 })
        checksum &+= value.kindName.utf8.count
    case "zip":
        let archive = try ZipArchive(bytes: bytes, source: "fuzz")
        for index in archive.entries.indices {
            if let data = try? archive.data(index) { checksum &+= data.count }
        }
    case "safetensors":
        let file = try SafeTensorsFile.decode(bytes, source: "fuzz")
        for (_, tensor) in file.tensors {
            if let floats = try? tensor.floats() { touch(floats) }
            if let integers = try? tensor.int64s() { for v in integers { checksum &+= Int(truncatingIfNeeded: v) } }
        }
        checksum &+= file.metadata.count
    case "idx":
        for magic in [IDXFile.imagesMagic, IDXFile.labelsMagic] {
            if let file = try? IDXFile(bytes: bytes, expectedMagic: magic) {
                checksum &+= file.dimensions.reduce(0, &+) &+ file.data.count
            }
        }
    case "gzip":
        let fd = open(scratchPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { fatalError("fuzz-toolkit: cannot write \(scratchPath)") }
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        let data = try readPossiblyGzipped(path: scratchPath)
        for magic in [IDXFile.imagesMagic, IDXFile.labelsMagic] {
            if let file = try? IDXFile(bytes: data, expectedMagic: magic) { checksum &+= file.data.count }
        }
    case "csv":
        let table = try CSVTable(parsing: String(decoding: bytes, as: UTF8.self), source: "fuzz")
        for oneHot in [true, false] {
            if let matrix = try? table.numericMatrix(fillingMissing: true, oneHotCategoricals: oneHot) {
                touch(matrix.values)
            }
        }
        _ = try? table.numericMatrix(fillingMissing: false)
    case "onnx":
        let summary = try ONNXModelSummary(bytes: bytes, source: "fuzz")
        checksum &+= String(describing: summary).utf8.count
    case "image":
        for mode in [ImageDecoder.Mode.rgb, .native] {
            let image = try ImageDecoder.decode(bytes: bytes, name: "fuzz", mode: mode, maxBytes: 1 << 22)
            touch(image.pixels)
        }
    case "vocab":
        if let tokens = JSONStringArray.parse(String(decoding: bytes, as: UTF8.self)) {
            for token in tokens { checksum &+= token.utf8.count }
        }
    default:
        fputs("fuzz-toolkit: unknown FUZZ_TARGET '\(target)'\n", stderr)
        exit(2)
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzToolkit(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    do {
        try runOne(bytes)
        if verbose { print("fuzz-toolkit \(target): \(size) bytes -> ok") }
    } catch {
        let message = String(describing: error)
        // The one-line rule: a message never carries a control character (line break,
        // terminal escape) copied from the file.
        if checkMessages, message.unicodeScalars.contains(where: { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) }) {
            fatalError("fuzz-toolkit \(target): the error message has a control character: \(message.debugDescription)")
        }
        if verbose { print("fuzz-toolkit \(target): \(size) bytes -> \(message)") }
    }
    return 0
}
