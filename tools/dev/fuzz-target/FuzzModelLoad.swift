// libFuzzer entry for d2l_model_load_memory (built and run by tools/dev/fuzz).
//
// Compiled into the same module as Sources/D2LCAPI/CAPI.swift, so it calls the C API's
// @_cdecl functions by their Swift names, exactly as a C caller would see them. For every
// input: load it from memory; if that succeeds, create a session and, when each input has
// at most `maxElements` elements (symbolic dimensions taken as 1), set zero-filled inputs of
// the declared shapes and dtypes, run, read every output's full extent, and free all.
// Any trap, sanitizer report or leak is a libd2l bug: bad bytes must give a status.

#if canImport(Glibc)
import Glibc
#endif

/// FUZZ_VERBOSE=1: print each call's status and d2l_last_error() (for re-running single files).
private let verbose: Bool = getenv("FUZZ_VERBOSE") != nil

private func report(_ what: String, _ status: Int32) -> Int32 {
    if verbose {
        let message = status == 0 ? "" : ": " + String(cString: d2l_last_error())
        print("fuzz-model-load: \(what) -> \(String(cString: d2l_status_string(status)))\(message)")
    }
    return status
}

/// Per-input element limit for running (keeps runs fast and memory bounded).
private let maxElements = 1_000_000

private func elementSize(_ dtype: Int32) -> Int? {
    switch dtype {
    case 1, 6: return 4      // D2L_FLOAT32, D2L_INT32
    case 2, 9: return 1      // D2L_UINT8, D2L_BOOL
    case 7: return 8         // D2L_INT64
    default: return nil
    }
}

/// Product of `dims` (negative = symbolic -> 1); nil on overflow or when above `limit`.
private func elementCount(_ dims: UnsafePointer<Int64>?, _ rank: Int, limit: Int) -> Int? {
    var n = 1
    for i in 0..<rank {
        guard let dims else { return nil }
        let d = dims[i] < 0 ? 1 : Int(dims[i])
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow || p > limit { return nil }
        n = p
    }
    return n
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    var model: OpaquePointer? = nil
    guard report("load_memory(\(size) bytes)", d2l_model_load_memory(UnsafeRawPointer(data), size, &model)) == 0, let model else { return 0 }
    defer { d2l_model_free(model) }

    // Touch everything the model lends.
    let inputCount = d2l_model_input_count(model)
    let outputCount = d2l_model_output_count(model)
    var checksum = 0
    for i in 0..<inputCount { if let name = d2l_model_input_name(model, i) { checksum &+= Int(name.pointee) } }
    for i in 0..<outputCount { if let name = d2l_model_output_name(model, i) { checksum &+= Int(name.pointee) } }
    for i in 0..<d2l_model_metadata_count(model) {
        if let key = d2l_model_metadata_key(model, i), let value = d2l_model_metadata(model, key) {
            checksum &+= Int(value.pointee)
        }
    }
    for i in 0..<outputCount {
        var shape: UnsafePointer<Int64>? = nil
        var rank = 0
        var dtype: Int32 = 0
        if d2l_model_output_shape(model, i, &shape, &rank) == 0, rank > 0, let shape {
            checksum &+= Int(truncatingIfNeeded: shape[rank - 1])
        }
        _ = d2l_model_output_dtype(model, i, &dtype)
    }
    _ = d2l_model_opset(model)

    var session: OpaquePointer? = nil
    guard report("session_create", d2l_session_create(model, &session)) == 0, let session else { return 0 }
    defer { d2l_session_free(session) }

    // Zero inputs of the declared shapes (symbolic dims -> 1).
    var buffers: [UnsafeMutableRawPointer] = []
    defer { for b in buffers { b.deallocate() } }
    for i in 0..<inputCount {
        var shape: UnsafePointer<Int64>? = nil
        var rank = 0
        var dtype: Int32 = 0
        guard d2l_model_input_shape(model, i, &shape, &rank) == 0,
              d2l_model_input_dtype(model, i, &dtype) == 0,
              let width = elementSize(dtype),
              let count = elementCount(shape, rank, limit: maxElements) else {
            if verbose { print("fuzz-model-load: input \(i) not run (dtype or more than \(maxElements) elements)") }
            return 0
        }
        var dims: [Int64] = []
        for k in 0..<rank { dims.append(shape![k] < 0 ? 1 : shape![k]) }
        let bytes = max(count * width, 1)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        buffers.append(buffer)
        let status = dims.withUnsafeBufferPointer {
            d2l_session_set_input(session, i, dtype, UnsafeRawPointer(buffer), $0.baseAddress, rank)
        }
        if report("set_input(\(i))", status) != 0 { return 0 }
    }
    guard report("run", d2l_session_run(session)) == 0 else { return 0 }

    // Read every byte of every output, so ASan checks the extent the API claims.
    for i in 0..<outputCount {
        var dtype: Int32 = 0
        var out: UnsafeRawPointer? = nil
        var shape: UnsafePointer<Int64>? = nil
        var rank = 0
        guard d2l_session_get_output(session, i, &dtype, &out, &shape, &rank) == 0 else {
            fatalError("d2l_session_get_output(\(i)) failed after a successful run")
        }
        guard let width = elementSize(dtype) else { fatalError("output \(i) has dtype \(dtype)") }
        for k in 0..<rank where shape![k] < 0 { fatalError("output \(i) has negative dimension \(shape![k])") }
        guard let count = elementCount(shape, rank, limit: Int.max / 8) else {
            fatalError("output \(i) element count overflows")
        }
        if count > 0 {
            guard let out else { fatalError("output \(i) has NULL data and \(count) elements") }
            let bytes = UnsafeRawBufferPointer(start: out, count: count * width)
            for b in bytes { checksum &+= Int(b) }
        }
    }
    // A second run at the same shapes must also succeed (the no-replan path).
    guard d2l_session_run(session) == 0 else { fatalError("second run at the same shapes failed") }
    if checksum == 0x7fff_ffff_ffff { print("") }  // keep the reads
    return 0
}
