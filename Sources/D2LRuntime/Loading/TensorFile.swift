import _D2LONNX
import _D2LSystem

/// A tensor read from a serialized `onnx.TensorProto` file (the `input_0.pb` /
/// `output_0.pb` files of the ONNX backend-test layout), with its data copied out.
public struct TensorFile {
    public var name: String
    public var type: TensorType
    /// Row-major little-endian elements of `type`.
    public var bytes: [UInt8]

    /// The elements as Float (float32 tensors), else empty.
    public var floats: [Float] {
        guard type.dtype == .float32 else { return [] }
        return bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float.self)) }
    }

    /// Parses a serialized TensorProto.
    public init(bytes serialized: UnsafeRawBufferPointer) throws(D2LError) {
        guard let base = serialized.baseAddress, serialized.count > 0 else {
            throw .invalidModel("the tensor file is empty")
        }
        guard let proto = onnx__tensor_proto__unpack(nil, serialized.count, base.assumingMemoryBound(to: UInt8.self)) else {
            throw .invalidModel("not an onnx.TensorProto (\(serialized.count) bytes do not parse)")
        }
        defer { onnx__tensor_proto__free_unpacked(proto, nil) }
        let name = string(proto.pointee.name)
        let tensor = try ONNXReader.attributeTensor(proto.pointee, what: "tensor \(quoted(name))")
        self.name = name
        type = TensorType(tensor.dtype, tensor.shape)
        bytes = Array(UnsafeRawBufferPointer(start: tensor.pointer, count: tensor.byteCount))
    }

    /// Reads and parses the TensorProto file at `path`.
    public init(path: String) throws(D2LError) {
        var data: UnsafeMutableRawPointer?
        var size = 0
        let status = d2l_sys_read_file(path, Model.maximumFileSize, &data, &size)
        guard status == 0, let data else { throw D2LError(.io, "cannot read '\(path)': \(errnoText(status))") }
        defer { free(data) }
        try self.init(bytes: UnsafeRawBufferPointer(start: data, count: size))
    }
}
