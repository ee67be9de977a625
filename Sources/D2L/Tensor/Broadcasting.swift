import D2LRuntime

/// Shape arithmetic for broadcasting (NumPy rules: align trailing dimensions; a
/// dimension of 1 stretches): the runtime's (`Kernels/Broadcast.swift`, `Ops/OpSupport.swift`).
enum Broadcast {
    /// The broadcast shape of `a` and `b`, or nil when they do not broadcast.
    static func shape(_ a: [Int], _ b: [Int]) -> [Int]? { broadcastShape(a, b) }

    /// Row-major strides of `shape`.
    static func strides(_ shape: [Int]) -> [Int] { rowMajorStrides(shape) }

    /// Strides of a tensor of `shape` read as if it had `target` (its broadcast shape):
    /// 0 along stretched and missing dimensions.
    static func strides(of shape: [Int], broadcastTo target: [Int]) -> [Int] {
        broadcastOperandStrides(shape, to: target)
    }

    // A second walk beside the runtime's `forEachIndex` (its N-operand reference walk, which
    // hands the body an array of offsets per element): the toolkit's strided copies
    // (`broadcast(to:)`, slicing) run this two-operand loop in training, with no array per
    // element. Elementwise arithmetic uses the runtime's `BroadcastPlan` instead.
    /// Calls `body(offsetA, offsetB, outputIndex)` for every element of `shape`, in
    /// row-major order, with the two operands' strides (0 where broadcast).
    @inline(__always)
    static func forEach(_ shape: [Int], _ stridesA: [Int], _ stridesB: [Int],
                        _ body: (Int, Int, Int) -> Void) {
        let n = shape.reduce(1, *)
        if n == 0 { return }
        let rank = shape.count
        if rank == 0 { body(0, 0, 0); return }
        var index = [Int](repeating: 0, count: rank)
        var offsetA = 0, offsetB = 0
        let inner = shape[rank - 1], innerA = stridesA[rank - 1], innerB = stridesB[rank - 1]
        var out = 0
        while out < n {
            var a = offsetA, b = offsetB
            for _ in 0..<inner {
                body(a, b, out)
                a += innerA; b += innerB; out += 1
            }
            // Advance the odometer over the outer dimensions.
            var d = rank - 2
            while d >= 0 {
                index[d] += 1
                offsetA += stridesA[d]; offsetB += stridesB[d]
                if index[d] < shape[d] { break }
                offsetA -= stridesA[d] * shape[d]; offsetB -= stridesB[d] * shape[d]
                index[d] = 0
                d -= 1
            }
        }
    }
}

extension Tensor {
    /// Sums this tensor (a gradient of broadcast shape) down to `target`, the shape of
    /// the operand that was broadcast: over leading extra dimensions and over
    /// dimensions where `target` has 1.
    func sumToShape(_ target: [Int]) -> Tensor {
        if shape == target { return self }
        let offset = rank - target.count
        var axes: [Int] = Array(0..<offset)
        for i in 0..<target.count where target[i] == 1 && shape[i + offset] != 1 { axes.append(i + offset) }
        return sum(alongAxes: axes, keepDims: true).reshaped(target)
    }

    /// This tensor's values stretched to `target` (a shape it broadcasts to).
    public func broadcast(to target: [Int]) -> Tensor {
        precondition(Broadcast.shape(shape, target) == target,
                     "broadcast: shape \(shape) does not broadcast to \(target)")
        if shape == target { return self }
        let strides = Broadcast.strides(of: shape, broadcastTo: target)
        let source = self
        let value = Tensor.make(shape: target) { out in
            source.withUnsafeValues { x in
                Broadcast.forEach(target, strides, strides) { a, _, o in out[o] = x[a] }
            }
        }
        return Tensor.record("broadcast", value, inputs: [self]) { g in [g.sumToShape(source.shape)] }
    }
}
