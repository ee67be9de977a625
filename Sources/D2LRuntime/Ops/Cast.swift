/// `Cast` (13/19/21/23/24/25) between the runtime's dtypes: float32, uint8, int32, int64,
/// bool. Float to integer truncates toward zero and saturates (NaN gives 0); integer to
/// integer wraps like numpy's `astype`; anything to bool is `x != 0`. `saturate` and
/// `round_mode` only concern float8 and are accepted and ignored.
struct Cast: OperatorKernel {
    let to: DType

    init(_ a: AttributeReader, version: Int) throws(D2LError) {
        try a.allowOnly(version >= 24 ? ["to", "saturate", "round_mode"] : version >= 19 ? ["to", "saturate"] : ["to"])
        guard a.has("to") else { throw a.invalid("to", "is required") }
        let code = try a.int("to", default: 0)
        guard let c = Int32(exactly: code), let t = DType(rawValue: c) else {
            let name = Int32(exactly: code).map { DType.onnxName($0) } ?? "type \(code)"
            throw .unsupported("\(a.label): cannot cast to \(name); libd2l takes float32, uint8, int32, int64 and bool")
        }
        to = t
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        [TensorType(to, try required(inputs, 0, label).type.shape)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        let x = io.input(0)
        guard let y = io.outputs[0] else { return }
        let n = x.type.count
        switch x.type.dtype {
        case .float32: fromFloat(x.typed(Float.self), y, n)
        case .int64: fromInteger(x.typed(Int64.self), y, n)
        case .int32: fromInteger(x.typed(Int32.self), y, n)
        case .uint8, .bool: fromInteger(x.typed(UInt8.self), y, n)
        }
    }

    private func fromFloat(_ x: UnsafeMutablePointer<Float>, _ y: TensorView, _ n: Int) {
        switch to {
        case .float32: let p = y.typed(Float.self); for i in 0..<n { p[i] = x[i] }
        case .int64: let p = y.typed(Int64.self); for i in 0..<n { p[i] = Int64.fromDouble(Double(x[i])) }
        case .int32: let p = y.typed(Int32.self); for i in 0..<n { p[i] = Int32.fromDouble(Double(x[i])) }
        case .uint8: let p = y.typed(UInt8.self); for i in 0..<n { p[i] = UInt8.fromDouble(Double(x[i])) }
        case .bool: let p = y.typed(UInt8.self); for i in 0..<n { p[i] = x[i] != 0 ? 1 : 0 }
        }
    }

    private func fromInteger<S: FixedWidthInteger>(_ x: UnsafeMutablePointer<S>, _ y: TensorView, _ n: Int) {
        switch to {
        case .float32: let p = y.typed(Float.self); for i in 0..<n { p[i] = Float(x[i]) }
        case .int64: let p = y.typed(Int64.self); for i in 0..<n { p[i] = Int64(truncatingIfNeeded: x[i]) }
        case .int32: let p = y.typed(Int32.self); for i in 0..<n { p[i] = Int32(truncatingIfNeeded: x[i]) }
        case .uint8: let p = y.typed(UInt8.self); for i in 0..<n { p[i] = UInt8(truncatingIfNeeded: x[i]) }
        case .bool: let p = y.typed(UInt8.self); for i in 0..<n { p[i] = x[i] != 0 ? 1 : 0 }
        }
    }
}

extension Cast {
    static let schema = OperatorSchema("Cast", versions: [1, 6, 9, 13, 19, 21, 23, 24, 25], inputs: (1, 1)) { a, version throws(D2LError) in
        .kernel(AnyOperatorKernel(try Cast(a, version: version)))
    }
}
