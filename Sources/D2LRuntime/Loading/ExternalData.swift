import _D2LONNX
import _D2LSystem

/// Tensor data stored outside the model file (`data_location: EXTERNAL`), as the dynamo
/// exporter writes it to `model.onnx.data`. Only files inside the model's folder are
/// read: absolute locations and any `..` component are refused.
enum ExternalData {
    /// Where a tensor's external data lives, checked: a location inside the model's
    /// folder, a declared length (if any) equal to `byteCount`, and a file long enough.
    struct Location {
        var path: String
        /// The location as the model writes it (for messages).
        var name: String
        var offset: Int
    }

    /// Validates a tensor's external data reference without reading it (so that nothing
    /// is allocated for a file whose references are bad).
    static func locate(_ t: Onnx__TensorProto, byteCount: Int, what: String,
                       modelDirectory: String?) throws(D2LError) -> Location {
        var location: String?
        var offset = 0
        var length: Int?
        for i in 0..<t.n_external_data {
            guard let entry = t.external_data[i] else { continue }
            let key = string(entry.pointee.key)
            let value = string(entry.pointee.value)
            switch key {
            case "location": location = value
            case "offset":
                guard let v = parseNonNegative(value) else {
                    throw .invalidModel("\(what) has an invalid external data offset \(quoted(value))")
                }
                offset = v
            case "length":
                guard let v = parseNonNegative(value) else {
                    throw .invalidModel("\(what) has an invalid external data length \(quoted(value))")
                }
                length = v
            default: break // "checksum" and unknown keys are not needed to read the data.
            }
        }
        guard let location, !location.isEmpty else {
            throw .invalidModel("\(what) is stored as external data but names no location")
        }
        guard let modelDirectory else {
            throw .invalidModel("\(what) is stored as external data in \(quoted(location)): a model loaded from memory cannot read it; load the model from its file instead")
        }
        if location.utf8.first == UInt8(ascii: "/") {
            throw .invalidModel("\(what) names an absolute external data location \(quoted(location)); only files in the model's folder are read")
        }
        for component in location.split(separator: "/") where component == ".." {
            throw .invalidModel("\(what) names external data location \(quoted(location)) outside the model's folder ('..' is not allowed)")
        }
        if let length, length != byteCount {
            throw .invalidModel("\(what) has \(length) bytes of external data, but its shape needs \(byteCount)")
        }
        let path = modelDirectory.isEmpty ? location : modelDirectory + "/" + location
        let size = d2l_sys_file_size(path)
        if size < 0 {
            throw D2LError(.io, "\(what): cannot read external data file \(quoted(location)) in the model's folder: \(errnoText(d2l_sys_errno()))")
        }
        guard let end = checkedAdd(offset, byteCount), Int64(end) <= size else {
            throw .invalidModel("\(what): external data file \(quoted(location)) (\(size) bytes) is too short for \(byteCount) bytes at offset \(offset)")
        }
        return Location(path: path, name: location, offset: offset)
    }

    /// Reads `byteCount` bytes of a located external tensor into `destination`.
    static func read(_ location: Location, into destination: UnsafeMutableRawPointer, byteCount: Int,
                     what: String) throws(D2LError) {
        let status = d2l_sys_read_file_range(location.path, UInt64(location.offset), byteCount, destination)
        if status == EINVAL {
            throw .invalidModel("\(what): external data file \(quoted(location.name)) is too short for \(byteCount) bytes at offset \(location.offset)")
        }
        if status != 0 {
            throw D2LError(.io, "\(what): cannot read external data file \(quoted(location.name)) in the model's folder: \(errnoText(status))")
        }
    }

    /// A decimal integer ≥ 0 that fits in Int, or nil.
    static func parseNonNegative(_ text: String) -> Int? {
        if text.isEmpty || text.utf8.count > 18 { return nil }
        var value = 0
        for c in text.utf8 {
            guard c >= 48 && c <= 57 else { return nil }
            value = value * 10 + Int(c - 48)
        }
        return value
    }
}

/// strerror's text for an errno value.
func errnoText(_ code: Int32) -> String {
    if code == Int32(D2L_SYS_ENOTREG) { return "not a regular file (a directory, FIFO or device is not read)" }
    guard let s = strerror(code) else { return "error \(code)" }
    return String(cString: s)
}
