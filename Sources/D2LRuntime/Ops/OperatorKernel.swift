/// What every operator struct in `Ops/` provides: planning for the given input types, and
/// its kernel. `Operator` runs each through these two functions; no switch elsewhere needs
/// to know an operator that nothing else inspects.
protocol OperatorKernel {
    /// Output types for these input types; records in `self` what `run` needs for them.
    /// Throws D2L_ERR_SHAPE (or UNSUPPORTED for a dtype the kernel lacks).
    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType]
    /// Runs the kernel on planned shapes; it cannot fail. `pool` is nil for one thread.
    func run(_ io: KernelIO, pool: ThreadPool?)
    /// Float scratch elements `run` needs (after `plan`).
    var scratchElements: Int { get }
}

extension OperatorKernel {
    var scratchElements: Int { 0 }
}

/// An operator nothing but planning and running looks at, as two functions over a copy of
/// its struct (a struct of functions, not an existential: Embedded Swift has no
/// `any Protocol`). Planning returns a new value; the unplanned one is left as it was, so
/// a model's graph can be planned by several sessions.
struct AnyOperatorKernel {
    private let planned: ([PlanInput?], String) throws(D2LError) -> (types: [TensorType], kernel: AnyOperatorKernel)
    private let runner: (KernelIO, ThreadPool?) -> Void
    let scratchElements: Int

    init<K: OperatorKernel>(_ kernel: K) {
        planned = { inputs, label throws(D2LError) in
            var copy = kernel
            let types = try copy.plan(inputs, label)
            return (types, AnyOperatorKernel(copy))
        }
        runner = { io, pool in kernel.run(io, pool: pool) }
        scratchElements = kernel.scratchElements
    }

    func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> (types: [TensorType], kernel: AnyOperatorKernel) {
        try planned(inputs, label)
    }

    func run(_ io: KernelIO, pool: ThreadPool?) { runner(io, pool) }
}
