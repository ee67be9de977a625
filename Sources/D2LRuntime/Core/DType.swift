/// Element types the runtime stores, numbered as ONNX's `TensorProto.DataType`
/// (and `d2l_dtype` in include/d2l.h).
public enum DType: Int32, Sendable {
    case float32 = 1
    case uint8 = 2
    case int32 = 6
    case int64 = 7
    case bool = 9

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .float32, .int32: return 4
        case .uint8, .bool: return 1
        case .int64: return 8
        }
    }

    /// The ONNX name, e.g. `float` or `int64`.
    public var name: String {
        switch self {
        case .float32: return "float32"
        case .uint8: return "uint8"
        case .int32: return "int32"
        case .int64: return "int64"
        case .bool: return "bool"
        }
    }

    /// The name of ONNX element type `code` (`float32`, `float64`, `bfloat16`, …), for
    /// messages and model summaries; `type N` for codes outside the TensorProto enum.
    public static func onnxName(_ code: Int32) -> String {
        switch code {
        case 0: return "undefined"
        case 1: return "float32"
        case 2: return "uint8"
        case 3: return "int8"
        case 4: return "uint16"
        case 5: return "int16"
        case 6: return "int32"
        case 7: return "int64"
        case 8: return "string"
        case 9: return "bool"
        case 10: return "float16"
        case 11: return "float64"
        case 12: return "uint32"
        case 13: return "uint64"
        case 14: return "complex64"
        case 15: return "complex128"
        case 16: return "bfloat16"
        default: return "type \(code)"
        }
    }
}
