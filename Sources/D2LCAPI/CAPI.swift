import D2LRuntime
import _D2LSystem

// The C API of include/d2l.h: thin @_cdecl shims over D2LRuntime. Each function checks
// its pointers, converts C values, calls the runtime, and turns a thrown D2LError into
// a status plus this thread's last-error message. Out-parameters are written only on
// success. Nothing here may trap: a trap would kill the C caller's process.

/// The API version (D2L_API_VERSION in include/d2l.h).
let apiVersion: Int32 = 3

// MARK: - Handles

/// What a `d2l_model *` points to: the model plus the C strings and shapes the API lends.
final class CModel {
    let model: Model
    let inputNames: [UnsafeMutablePointer<CChar>]
    let outputNames: [UnsafeMutablePointer<CChar>]
    let metadataKeys: [UnsafeMutablePointer<CChar>]
    let metadataValues: [UnsafeMutablePointer<CChar>]
    let inputShapes: [UnsafeMutablePointer<Int64>]
    let outputShapes: [UnsafeMutablePointer<Int64>]
    /// Per input (output): one C string pointer per dimension, the `dim_param` name or NULL.
    let inputDimNames: [UnsafeMutablePointer<UnsafePointer<CChar>?>]
    let outputDimNames: [UnsafeMutablePointer<UnsafePointer<CChar>?>]
    /// The strings those arrays point to.
    private let dimNameStrings: [UnsafeMutablePointer<CChar>]
    /// `d2l.labels` as C strings (empty when absent), or nil when present but not a JSON
    /// array of strings. Made at load, so the model stays immutable.
    let labels: [UnsafeMutablePointer<CChar>]?

    init(_ model: Model) {
        self.model = model
        inputNames = model.inputs.map { cString($0.name) }
        outputNames = model.outputs.map { cString($0.name) }
        metadataKeys = model.metadata.map { cString($0.key) }
        metadataValues = model.metadata.map { cString($0.value) }
        inputShapes = model.inputs.map { int64Array($0.type.dims) }
        outputShapes = model.outputs.map { int64Array($0.type.dims) }
        var strings: [UnsafeMutablePointer<CChar>] = []
        inputDimNames = model.inputs.map { cStringArray($0.type.dimNames, keeping: &strings) }
        outputDimNames = model.outputs.map { cStringArray($0.type.dimNames, keeping: &strings) }
        dimNameStrings = strings
        if let text = model.metadata("d2l.labels") {
            labels = JSONStringArray.parse(text).map { $0.map { cString($0) } }
        } else {
            labels = []
        }
    }

    deinit {
        for p in inputNames + outputNames + metadataKeys + metadataValues + (labels ?? []) + dimNameStrings { free(p) }
        for p in inputShapes + outputShapes { p.deallocate() }
        for p in inputDimNames + outputDimNames { p.deallocate() }
    }
}

/// What a `d2l_session *` points to.
final class CSession {
    let session: Session
    /// Keeps the model's Swift object alive while the session exists.
    let owner: CModel

    init(_ owner: CModel) {
        self.owner = owner
        session = Session(model: owner.model)
    }
}

private func cString(_ s: String) -> UnsafeMutablePointer<CChar> {
    var copy = s
    return copy.withUTF8 { bytes -> UnsafeMutablePointer<CChar> in
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        if let base = bytes.baseAddress { memcpy(p, base, bytes.count) }
        p[bytes.count] = 0
        return p
    }
}

/// free() is used for cString's memory, which `allocate` obtained from malloc.
private func free(_ p: UnsafeMutablePointer<CChar>) { p.deallocate() }

private func int64Array(_ dims: [Int?]) -> UnsafeMutablePointer<Int64> {
    let p = UnsafeMutablePointer<Int64>.allocate(capacity: max(dims.count, 1))
    for (i, d) in dims.enumerated() { p[i] = Int64(d ?? -1) }
    return p
}

/// A C array of `names.count` string pointers (NULL for nil; one slot even when empty);
/// the strings it points to are appended to `strings`, which the caller frees.
private func cStringArray(_ names: [String?], keeping strings: inout [UnsafeMutablePointer<CChar>])
    -> UnsafeMutablePointer<UnsafePointer<CChar>?> {
    let p = UnsafeMutablePointer<UnsafePointer<CChar>?>.allocate(capacity: max(names.count, 1))
    p[0] = nil
    for (i, name) in names.enumerated() {
        if let name {
            let s = cString(name)
            strings.append(s)
            p[i] = UnsafePointer(s)
        } else {
            p[i] = nil
        }
    }
    return p
}

@inline(__always)
private func model(_ p: OpaquePointer?) -> CModel? {
    guard let p else { return nil }
    return Unmanaged<CModel>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

@inline(__always)
private func session(_ p: OpaquePointer?) -> CSession? {
    guard let p else { return nil }
    return Unmanaged<CSession>.fromOpaque(UnsafeRawPointer(p)).takeUnretainedValue()
}

// MARK: - Errors

/// Records `error` as this thread's last error and returns its status code.
func fail(_ error: D2LError) -> Int32 {
    var message = error.message
    message.withUTF8 { bytes in
        bytes.withMemoryRebound(to: CChar.self) { d2l_sys_set_last_error($0.baseAddress, $0.count) }
    }
    return error.status.rawValue
}

func invalidArgument(_ message: String) -> Int32 {
    fail(D2LError(.invalidArgument, message))
}

private func cStatic(_ s: StaticString) -> UnsafePointer<CChar> {
    UnsafeRawPointer(s.utf8Start).assumingMemoryBound(to: CChar.self)
}

// MARK: - Library information

@_cdecl("d2l_api_version")
public func d2l_api_version() -> Int32 { apiVersion }

@_cdecl("d2l_version_string")
public func d2l_version_string() -> UnsafePointer<CChar> { cStatic(d2lVersion) }

@_cdecl("d2l_kernel_isa")
public func d2l_kernel_isa() -> UnsafePointer<CChar> { activeKernelVariantName }

@_cdecl("d2l_status_string")
public func d2l_status_string(_ status: Int32) -> UnsafePointer<CChar> {
    guard let s = D2LStatus(rawValue: status) else { return cStatic("D2L_ERR_UNKNOWN") }
    return cStatic(s.name)
}

@_cdecl("d2l_last_error")
public func d2l_last_error() -> UnsafePointer<CChar> { d2l_sys_last_error() }

// MARK: - Models

@_cdecl("d2l_model_load_file")
public func d2l_model_load_file(_ path: UnsafePointer<CChar>?, _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let path else { return invalidArgument("d2l_model_load_file: path is NULL") }
    guard let outModel else { return invalidArgument("d2l_model_load_file: out_model is NULL") }
    do {
        let loaded = try Model(path: String(cString: path))
        outModel.pointee = OpaquePointer(Unmanaged.passRetained(CModel(loaded)).toOpaque())
        return 0
    } catch {
        return fail(error)
    }
}

@_cdecl("d2l_model_load_memory")
public func d2l_model_load_memory(_ data: UnsafeRawPointer?, _ size: Int, _ outModel: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let data else { return invalidArgument("d2l_model_load_memory: data is NULL") }
    guard let outModel else { return invalidArgument("d2l_model_load_memory: out_model is NULL") }
    guard size >= 0 else { return invalidArgument("d2l_model_load_memory: size is too large") }
    do {
        let loaded = try Model(bytes: UnsafeRawBufferPointer(start: data, count: size))
        outModel.pointee = OpaquePointer(Unmanaged.passRetained(CModel(loaded)).toOpaque())
        return 0
    } catch {
        return fail(error)
    }
}

@_cdecl("d2l_model_free")
public func d2l_model_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<CModel>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("d2l_model_input_count")
public func d2l_model_input_count(_ p: OpaquePointer?) -> Int { model(p)?.inputNames.count ?? 0 }

@_cdecl("d2l_model_output_count")
public func d2l_model_output_count(_ p: OpaquePointer?) -> Int { model(p)?.outputNames.count ?? 0 }

@_cdecl("d2l_model_input_name")
public func d2l_model_input_name(_ p: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    guard let m = model(p), index >= 0, index < m.inputNames.count else { return nil }
    return UnsafePointer(m.inputNames[index])
}

@_cdecl("d2l_model_output_name")
public func d2l_model_output_name(_ p: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    guard let m = model(p), index >= 0, index < m.outputNames.count else { return nil }
    return UnsafePointer(m.outputNames[index])
}

/// The declared-type accessors' common part: checks the model, the out-params (named
/// `outName` and out_rank in messages) and `index` among the inputs (or outputs), then
/// writes `value(model, index)` and the rank.
private func declaredOut<T>(_ fn: StaticString, _ p: OpaquePointer?, _ index: Int, _ output: Bool,
                            _ out: UnsafeMutablePointer<T>?, _ outName: StaticString,
                            _ outRank: UnsafeMutablePointer<Int>?, _ value: (CModel, Int) -> T) -> Int32 {
    guard let m = model(p) else { return invalidArgument("\(fn): model is NULL") }
    guard let out, let outRank else { return invalidArgument("\(fn): \(outName) or out_rank is NULL") }
    let infos = output ? m.model.outputs : m.model.inputs
    guard index >= 0, index < infos.count else {
        return invalidArgument("\(fn): index \(index) is out of range (count \(infos.count))")
    }
    out.pointee = value(m, index)
    outRank.pointee = infos[index].type.dims.count
    return 0
}

private func shapeOut(_ fn: StaticString, _ p: OpaquePointer?, _ index: Int, _ output: Bool,
                      _ outShape: UnsafeMutablePointer<UnsafePointer<Int64>?>?, _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    declaredOut(fn, p, index, output, outShape, "out_shape", outRank) { m, i in
        UnsafePointer(output ? m.outputShapes[i] : m.inputShapes[i])
    }
}

@_cdecl("d2l_model_input_shape")
public func d2l_model_input_shape(_ p: OpaquePointer?, _ index: Int, _ outShape: UnsafeMutablePointer<UnsafePointer<Int64>?>?, _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    shapeOut("d2l_model_input_shape", p, index, false, outShape, outRank)
}

@_cdecl("d2l_model_output_shape")
public func d2l_model_output_shape(_ p: OpaquePointer?, _ index: Int, _ outShape: UnsafeMutablePointer<UnsafePointer<Int64>?>?, _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    shapeOut("d2l_model_output_shape", p, index, true, outShape, outRank)
}

private func dimNamesOut(_ fn: StaticString, _ p: OpaquePointer?, _ index: Int, _ output: Bool,
                         _ outNames: UnsafeMutablePointer<UnsafePointer<UnsafePointer<CChar>?>?>?,
                         _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    declaredOut(fn, p, index, output, outNames, "out_names", outRank) { m, i in
        UnsafePointer(output ? m.outputDimNames[i] : m.inputDimNames[i])
    }
}

@_cdecl("d2l_model_input_dim_names")
public func d2l_model_input_dim_names(_ p: OpaquePointer?, _ index: Int,
                                      _ outNames: UnsafeMutablePointer<UnsafePointer<UnsafePointer<CChar>?>?>?,
                                      _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    dimNamesOut("d2l_model_input_dim_names", p, index, false, outNames, outRank)
}

@_cdecl("d2l_model_output_dim_names")
public func d2l_model_output_dim_names(_ p: OpaquePointer?, _ index: Int,
                                       _ outNames: UnsafeMutablePointer<UnsafePointer<UnsafePointer<CChar>?>?>?,
                                       _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    dimNamesOut("d2l_model_output_dim_names", p, index, true, outNames, outRank)
}

private func indexOut(_ fn: StaticString, _ p: OpaquePointer?, _ name: UnsafePointer<CChar>?, _ output: Bool,
                      _ outIndex: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let m = model(p) else { return invalidArgument("\(fn): model is NULL") }
    guard let name else { return invalidArgument("\(fn): name is NULL") }
    guard let outIndex else { return invalidArgument("\(fn): out_index is NULL") }
    do {
        let text = String(cString: name)
        outIndex.pointee = output ? try m.model.outputIndex(named: text) : try m.model.inputIndex(named: text)
        return 0
    } catch {
        return fail(D2LError(error.status, "\(fn): \(error.message)"))
    }
}

@_cdecl("d2l_model_input_index")
public func d2l_model_input_index(_ p: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                  _ outIndex: UnsafeMutablePointer<Int>?) -> Int32 {
    indexOut("d2l_model_input_index", p, name, false, outIndex)
}

@_cdecl("d2l_model_output_index")
public func d2l_model_output_index(_ p: OpaquePointer?, _ name: UnsafePointer<CChar>?,
                                   _ outIndex: UnsafeMutablePointer<Int>?) -> Int32 {
    indexOut("d2l_model_output_index", p, name, true, outIndex)
}

private func dtypeOut(_ fn: StaticString, _ p: OpaquePointer?, _ index: Int, _ output: Bool, _ outDtype: UnsafeMutablePointer<Int32>?) -> Int32 {
    guard let m = model(p) else { return invalidArgument("\(fn): model is NULL") }
    guard let outDtype else { return invalidArgument("\(fn): out_dtype is NULL") }
    let infos = output ? m.model.outputs : m.model.inputs
    guard index >= 0, index < infos.count else {
        return invalidArgument("\(fn): index \(index) is out of range (count \(infos.count))")
    }
    outDtype.pointee = infos[index].type.dtype.rawValue
    return 0
}

@_cdecl("d2l_model_input_dtype")
public func d2l_model_input_dtype(_ p: OpaquePointer?, _ index: Int, _ outDtype: UnsafeMutablePointer<Int32>?) -> Int32 {
    dtypeOut("d2l_model_input_dtype", p, index, false, outDtype)
}

@_cdecl("d2l_model_output_dtype")
public func d2l_model_output_dtype(_ p: OpaquePointer?, _ index: Int, _ outDtype: UnsafeMutablePointer<Int32>?) -> Int32 {
    dtypeOut("d2l_model_output_dtype", p, index, true, outDtype)
}

@_cdecl("d2l_model_metadata")
public func d2l_model_metadata(_ p: OpaquePointer?, _ key: UnsafePointer<CChar>?) -> UnsafePointer<CChar>? {
    guard let m = model(p), let key else { return nil }
    for (i, k) in m.metadataKeys.enumerated() where strcmp(k, key) == 0 {
        return UnsafePointer(m.metadataValues[i])
    }
    return nil
}

@_cdecl("d2l_model_metadata_count")
public func d2l_model_metadata_count(_ p: OpaquePointer?) -> Int { model(p)?.metadataKeys.count ?? 0 }

@_cdecl("d2l_model_metadata_key")
public func d2l_model_metadata_key(_ p: OpaquePointer?, _ index: Int) -> UnsafePointer<CChar>? {
    guard let m = model(p), index >= 0, index < m.metadataKeys.count else { return nil }
    return UnsafePointer(m.metadataKeys[index])
}

@_cdecl("d2l_model_opset")
public func d2l_model_opset(_ p: OpaquePointer?) -> Int64 {
    guard let m = model(p) else { return 0 }
    return Int64(m.model.opset)
}

// MARK: - Sessions

@_cdecl("d2l_session_create")
public func d2l_session_create(_ p: OpaquePointer?, _ outSession: UnsafeMutablePointer<OpaquePointer?>?) -> Int32 {
    guard let m = model(p) else { return invalidArgument("d2l_session_create: model is NULL") }
    guard let outSession else { return invalidArgument("d2l_session_create: out_session is NULL") }
    outSession.pointee = OpaquePointer(Unmanaged.passRetained(CSession(m)).toOpaque())
    return 0
}

@_cdecl("d2l_session_free")
public func d2l_session_free(_ p: OpaquePointer?) {
    guard let p else { return }
    Unmanaged<CSession>.fromOpaque(UnsafeRawPointer(p)).release()
}

@_cdecl("d2l_session_set_threads")
public func d2l_session_set_threads(_ p: OpaquePointer?, _ threads: Int) -> Int32 {
    guard let s = session(p) else { return invalidArgument("d2l_session_set_threads: session is NULL") }
    do {
        try s.session.setThreads(threads)
        return 0
    } catch {
        return fail(error)
    }
}

@_cdecl("d2l_session_set_input")
public func d2l_session_set_input(_ p: OpaquePointer?, _ index: Int, _ dtype: Int32, _ data: UnsafeRawPointer?,
                                  _ shape: UnsafePointer<Int64>?, _ rank: Int) -> Int32 {
    let fn = "d2l_session_set_input"
    guard let s = session(p) else { return invalidArgument("\(fn): session is NULL") }
    guard let type = DType(rawValue: dtype) else { return invalidArgument("\(fn): \(dtype) is not a d2l_dtype") }
    guard rank >= 0 && rank <= 64 else { return invalidArgument("\(fn): rank \(rank) is out of range (0 to 64)") }
    guard rank == 0 || shape != nil else { return invalidArgument("\(fn): shape is NULL") }
    // The same dtype and shape as the input held: copy the data, allocating nothing.
    if let data, s.session.refillInput(index, dtype: type, data: data,
                                       shape: UnsafeBufferPointer(start: shape, count: shape == nil ? 0 : rank)) {
        return 0
    }
    var dims: [Int] = []
    if let shape {
        for i in 0..<rank {
            let d = shape[i]
            guard d >= 0 && d <= Int64(Int.max) else {
                return fail(D2LError(.shape, "\(fn): dimension \(i) is negative (\(d))"))
            }
            dims.append(Int(d))
        }
    }
    // A NULL data pointer is only acceptable for an empty tensor, which inputs never are.
    guard let data else { return invalidArgument("\(fn): data is NULL") }
    do {
        try s.session.setInput(index, dtype: type, data: data, shape: dims)
        return 0
    } catch {
        return fail(error)
    }
}

@_cdecl("d2l_session_set_image_u8")
public func d2l_session_set_image_u8(_ p: OpaquePointer?, _ index: Int, _ pixels: UnsafePointer<UInt8>?,
                                     _ height: Int, _ width: Int, _ channels: Int) -> Int32 {
    let fn = "d2l_session_set_image_u8"
    guard let s = session(p) else { return invalidArgument("\(fn): session is NULL") }
    guard let pixels else { return invalidArgument("\(fn): pixels is NULL") }
    // size_t values above Int.max arrive negative.
    guard height >= 0, width >= 0, channels >= 0 else {
        return invalidArgument("\(fn): height, width or channels is too large")
    }
    do {
        try s.session.setImage(index, pixels: pixels, height: height, width: width,
                               channels: channels)
        return 0
    } catch {
        return fail(D2LError(error.status, "\(fn): \(error.message)"))
    }
}

@_cdecl("d2l_session_run")
public func d2l_session_run(_ p: OpaquePointer?) -> Int32 {
    guard let s = session(p) else { return invalidArgument("d2l_session_run: session is NULL") }
    do {
        try s.session.run()
        return 0
    } catch {
        return fail(error)
    }
}

@_cdecl("d2l_session_get_output")
public func d2l_session_get_output(_ p: OpaquePointer?, _ index: Int, _ outDtype: UnsafeMutablePointer<Int32>?,
                                   _ outData: UnsafeMutablePointer<UnsafeRawPointer?>?,
                                   _ outShape: UnsafeMutablePointer<UnsafePointer<Int64>?>?,
                                   _ outRank: UnsafeMutablePointer<Int>?) -> Int32 {
    let fn = "d2l_session_get_output"
    guard let s = session(p) else { return invalidArgument("\(fn): session is NULL") }
    guard let outDtype, let outData, let outShape, let outRank else {
        return invalidArgument("\(fn): an out-parameter is NULL")
    }
    guard s.session.hasOutputs else { return invalidArgument("\(fn): no successful run yet") }
    guard let view = s.session.output(index), let shape = s.session.outputShape64(index) else {
        return invalidArgument("\(fn): output index \(index) is out of range (count \(s.owner.outputNames.count))")
    }
    outDtype.pointee = view.type.dtype.rawValue
    outData.pointee = UnsafeRawPointer(view.pointer)
    outShape.pointee = shape
    outRank.pointee = view.type.rank
    return 0
}

// MARK: - Text generation and classification

@_cdecl("d2l_generate")
public func d2l_generate(_ p: OpaquePointer?, _ prefix: UnsafePointer<CChar>?, _ numTokens: Int, _ temperature: Float,
                         _ topK: Int, _ seed: UInt64, _ outText: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    let fn = "d2l_generate"
    guard let s = session(p) else { return invalidArgument("\(fn): session is NULL") }
    guard let prefix else { return invalidArgument("\(fn): prefix is NULL") }
    guard let outText else { return invalidArgument("\(fn): out_text is NULL") }
    guard numTokens >= 0 else { return invalidArgument("\(fn): num_tokens is too large") }
    guard topK >= 0 else { return invalidArgument("\(fn): top_k is too large") }
    do {
        let text = try s.session.generate(prefix: String(cString: prefix), count: numTokens,
                                          temperature: temperature, topK: topK, seed: seed)
        outText.pointee = cString(text)
        return 0
    } catch {
        return fail(D2LError(error.status, "\(fn): \(error.message)"))
    }
}

@_cdecl("d2l_text_free")
public func d2l_text_free(_ text: UnsafeMutablePointer<CChar>?) {
    guard let text else { return }
    free(text)
}

@_cdecl("d2l_classify")
public func d2l_classify(_ p: OpaquePointer?, _ topK: Int, _ outIndices: UnsafeMutablePointer<Int>?,
                         _ outProbabilities: UnsafeMutablePointer<Double>?,
                         _ outLabels: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                         _ outCount: UnsafeMutablePointer<Int>?) -> Int32 {
    classifyRow("d2l_classify", p, 0, topK, outIndices, outProbabilities, outLabels, outCount)
}

@_cdecl("d2l_classify_row")
public func d2l_classify_row(_ p: OpaquePointer?, _ row: Int, _ topK: Int, _ outIndices: UnsafeMutablePointer<Int>?,
                             _ outProbabilities: UnsafeMutablePointer<Double>?,
                             _ outLabels: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                             _ outCount: UnsafeMutablePointer<Int>?) -> Int32 {
    guard row >= 0 else { return invalidArgument("d2l_classify_row: row is too large") }
    return classifyRow("d2l_classify_row", p, row, topK, outIndices, outProbabilities, outLabels, outCount)
}

/// d2l_classify and d2l_classify_row: top-k of row `row` of output 0, labels from d2l.labels.
private func classifyRow(_ fn: StaticString, _ p: OpaquePointer?, _ row: Int, _ topK: Int,
                         _ outIndices: UnsafeMutablePointer<Int>?, _ outProbabilities: UnsafeMutablePointer<Double>?,
                         _ outLabels: UnsafeMutablePointer<UnsafePointer<CChar>?>?,
                         _ outCount: UnsafeMutablePointer<Int>?) -> Int32 {
    guard let s = session(p) else { return invalidArgument("\(fn): session is NULL") }
    guard let outIndices, let outProbabilities, let outCount else {
        return invalidArgument("\(fn): out_indices, out_probabilities or out_count is NULL")
    }
    guard topK >= 1 else { return invalidArgument("\(fn): top_k must be at least 1") }
    var labels: [UnsafeMutablePointer<CChar>] = []
    if outLabels != nil {
        guard let l = s.owner.labels else {
            return fail(D2LError(.invalidModel, "\(fn): metadata d2l.labels is not a JSON array of strings"))
        }
        labels = l
    }
    do {
        let top = try s.session.classify(topK: topK, row: row)
        for (j, entry) in top.enumerated() {
            outIndices[j] = entry.index
            outProbabilities[j] = entry.probability
            if let outLabels { outLabels[j] = entry.index < labels.count ? UnsafePointer(labels[entry.index]) : nil }
        }
        outCount.pointee = top.count
        return 0
    } catch {
        return fail(D2LError(error.status, "\(fn): \(error.message)"))
    }
}
