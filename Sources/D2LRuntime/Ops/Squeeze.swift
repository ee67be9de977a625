/// `Squeeze`: removes the size-1 dimensions listed in `axes` (all of them when omitted).
struct Squeeze: OperatorKernel {
    /// Output 0 is input 0's bytes (`copyThrough`).
    func run(_ io: KernelIO, pool _: ThreadPool?) { copyThrough(io) }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        let shape = x.type.shape
        var drop: [Int]
        if let axes = try planTimeInts(inputs, 1, label, "axes") {
            drop = try normalizeAxes(axes, rank: shape.count, label)
            for k in drop where shape[k] != 1 {
                throw .shape("\(label): cannot squeeze axis \(k) of \(x.type.text): its size is not 1")
            }
        } else {
            drop = []
            for (k, d) in shape.enumerated() where d == 1 { drop.append(k) }
        }
        var out: [Int] = []
        for (k, d) in shape.enumerated() where !drop.contains(k) { out.append(d) }
        return [TensorType(x.type.dtype, out)]
    }
}

extension Squeeze {
    static let schema = OperatorSchema.noAttributes("Squeeze", versions: [1, 11, 13, 21, 23, 24, 25], inputs: (1, 2),
                                                    planTimeInputs: [1], .kernel(AnyOperatorKernel(Squeeze())))
}
