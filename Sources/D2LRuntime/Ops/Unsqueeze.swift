/// `Unsqueeze`: inserts size-1 dimensions at `axes` (positions in the output).
struct Unsqueeze: OperatorKernel {
    /// Output 0 is input 0's bytes (`copyThrough`).
    func run(_ io: KernelIO, pool _: ThreadPool?) { copyThrough(io) }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        _ = try required(inputs, 1, label)
        let axes = try planTimeInts(inputs, 1, label, "axes") ?? []
        let rank = x.type.rank + axes.count
        let positions = try normalizeAxes(axes, rank: rank, label)
        var out: [Int] = []
        var next = 0
        for k in 0..<rank {
            if positions.contains(k) { out.append(1) } else { out.append(x.type.shape[next]); next += 1 }
        }
        return [TensorType(x.type.dtype, out)]
    }
}

extension Unsqueeze {
    static let schema = OperatorSchema.noAttributes("Unsqueeze", versions: [1, 11, 13, 21, 23, 24, 25], inputs: (2, 2),
                                                    planTimeInputs: [1], .kernel(AnyOperatorKernel(Unsqueeze())))
}
