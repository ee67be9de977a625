/// `Dropout` (13/22) in inference: output = input, optional mask = all true. A constant
/// `training_mode` of true is refused; `ratio` and `seed` are accepted and unused.
struct Dropout: OperatorKernel {
    /// Output 0 is input 0's bytes (`copyThrough`).
    func run(_ io: KernelIO, pool _: ThreadPool?) { copyThrough(io) }

    init(_ a: AttributeReader) throws(D2LError) {
        try a.allowOnly(["seed"])
    }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let x = try required(inputs, 0, label)
        if inputs.count > 2, let mode = inputs[2] {
            guard let c = mode.constant, mode.type.dtype == .bool, mode.type.count == 1 else {
                throw .unsupported("\(label): 'training_mode' must be a constant bool (libd2l runs inference only)")
            }
            if c.integers().first == 1 {
                throw .unsupported("\(label): training_mode is true; libd2l runs inference only")
            }
        }
        return [x.type, TensorType(.bool, x.type.shape)]
    }
}

extension Dropout {
    /// Input 2 (`training_mode`) is read while planning: training mode is refused.
    static let schema = OperatorSchema("Dropout", versions: [1, 6, 7, 10, 12, 13, 22], inputs: (1, 3), outputs: (1, 2),
                                       planTimeInputs: [2]) { a, _ throws(D2LError) in .kernel(AnyOperatorKernel(try Dropout(a))) }
}
