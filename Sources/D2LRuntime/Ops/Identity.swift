/// `Identity`: output = input, any dtype.
struct Identity: OperatorKernel {
    /// Output 0 is input 0's bytes (`copyThrough`).
    func run(_ io: KernelIO, pool _: ThreadPool?) { copyThrough(io) }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        [try required(inputs, 0, label).type]
    }
}

extension Identity {
    static let schema = OperatorSchema.noAttributes("Identity", versions: [1, 13, 14, 16, 19, 21, 23, 24, 25], inputs: (1, 1),
                                                    .kernel(AnyOperatorKernel(Identity())))
}
