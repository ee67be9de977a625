/// `Clip` (13): clamps to the optional scalar inputs `min` and `max` (float32, int64, int32).
struct Clip: OperatorKernel {
    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        try requireDType(x, [.float32, .int64, .int32, .uint8], label, "input")
        for i in 1..<3 where i < inputs.count {
            if let b = inputs[i], b.type.dtype != x.type.dtype || b.type.count != 1 {
                throw .invalidModel("\(label): \(quoted(i == 1 ? "min" : "max")) must be one \(x.type.dtype.name), not \(b.type.text)")
            }
        }
        return [x.type]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        guard let y = io.outputs[0] else { return }
        switch y.type.dtype {
        case .float32: clip(io, y.typed(Float.self))
        case .int64: clip(io, y.typed(Int64.self))
        case .int32: clip(io, y.typed(Int32.self))
        default: clip(io, y.typed(UInt8.self))
        }
    }

    private func clip<T: D2LNumber>(_ io: KernelIO, _ y: UnsafeMutablePointer<T>) {
        let x = io.input(0).typed(T.self)
        let lo: T? = io.inputs.count > 1 ? io.inputs[1]?.typed(T.self)[0] : nil
        let hi: T? = io.inputs.count > 2 ? io.inputs[2]?.typed(T.self)[0] : nil
        for i in 0..<io.input(0).type.count {
            var v = x[i]
            if let lo, v < lo { v = lo }
            if let hi, v > hi { v = hi }
            y[i] = v
        }
    }
}

extension Clip {
    static let schema = OperatorSchema.noAttributes("Clip", versions: [1, 6, 11, 12, 13], inputs: (1, 3), .kernel(AnyOperatorKernel(Clip())))
}
