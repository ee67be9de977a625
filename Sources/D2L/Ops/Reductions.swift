import Foundation
import D2LRuntime

/// A tensor viewed as [outer, length, inner] around one axis.
struct AxisSplit {
    var outer: Int, length: Int, inner: Int
    init(_ shape: [Int], _ axis: Int) {
        outer = shape[..<axis].reduce(1, *)
        length = shape[axis]
        inner = shape[(axis + 1)...].reduce(1, *)
    }
}

extension Tensor {
    /// `axis` made non-negative (Python-style negative axes count from the end).
    func normalizedAxis(_ axis: Int, _ op: String, rankOverride: Int? = nil) -> Int {
        let r = rankOverride ?? rank
        let a = axis < 0 ? axis + r : axis
        precondition(a >= 0 && a < Swift.max(r, 1), "\(op): axis \(axis) out of range for shape \(shape)")
        return a
    }

    /// Shape after reducing `axis`.
    private func reducedShape(_ axis: Int, keepDims: Bool) -> [Int] {
        var s = shape
        if keepDims { s[axis] = 1 } else { s.remove(at: axis) }
        return s
    }

    // MARK: Sum and mean

    /// The sum of all elements, as a scalar (shape `[]`).
    public func sum() -> Tensor {
        let total = withUnsafeValues { x -> Float in
            guard let p = x.baseAddress else { return 0 }
            return sumVector(p, x.count)
        }
        let inputShape = shape
        return Tensor.record("sum", Tensor(total), inputs: [self]) { g in [g.broadcast(to: inputShape)] }
    }

    /// Sums along one axis.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, "sum")
        let split = AxisSplit(shape, a)
        let outShape = reducedShape(a, keepDims: keepDims)
        // The runtime's ReduceSum kernel, so that training and the exported model agree.
        let value = Tensor.make(shape: outShape) { out in
            withUnsafeValues { x in
                if let p = x.baseAddress {
                    sumAlongAxis(p, out, outer: split.outer, length: split.length, inner: split.inner)
                } else {
                    out.initialize(repeating: 0, count: outShape.reduce(1, *))  // no input elements
                }
            }
        }
        let inputShape = shape
        return Tensor.record("sum", value, inputs: [self]) { g in
            [g.reshaped(Self.keptShape(inputShape, a)).broadcast(to: inputShape)]
        }
    }

    static func keptShape(_ shape: [Int], _ axis: Int) -> [Int] {
        var s = shape
        s[axis] = 1
        return s
    }

    /// Sums along several axes.
    public func sum(alongAxes axes: [Int], keepDims: Bool = false) -> Tensor {
        let sorted = Set(axes.map { normalizedAxis($0, "sum") }).sorted(by: >)
        var result = self
        for axis in sorted { result = result.sum(axis: axis, keepDims: true) }
        if !keepDims {
            result = result.reshaped(shape.enumerated().filter { !sorted.contains($0.offset) }.map(\.element))
        }
        return result
    }

    /// The mean of all elements, as a scalar.
    public func mean() -> Tensor { sum() / Float(Swift.max(count, 1)) }

    /// Means along one axis.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, "mean")
        return sum(axis: a, keepDims: keepDims) / Float(shape[a])
    }

    /// Means along several axes.
    public func mean(alongAxes axes: [Int], keepDims: Bool = false) -> Tensor {
        let n = Set(axes.map { normalizedAxis($0, "mean") }).reduce(1) { $0 * shape[$1] }
        return sum(alongAxes: axes, keepDims: keepDims) / Float(n)
    }

    // MARK: Max, min, argmax

    /// Index of the largest value along `axis` (first on ties), per position; as floats.
    public func argmax(axis: Int) -> Tensor {
        let a = normalizedAxis(axis, "argmax")
        let split = AxisSplit(shape, a)
        return Tensor.make(shape: reducedShape(a, keepDims: false)) { out in
            withUnsafeValues { x in
                for o in 0..<split.outer {
                    for i in 0..<split.inner {
                        var best = -Float.infinity, bestIndex = 0
                        for l in 0..<split.length {
                            let v = x[(o * split.length + l) * split.inner + i]
                            if v > best || (l == 0) { best = v; bestIndex = l }
                        }
                        out[o * split.inner + i] = Float(bestIndex)
                    }
                }
            }
        }
    }

    /// The index of the largest element of the flattened tensor.
    public func argmax() -> Int {
        withUnsafeValues { x in
            var best = 0
            for i in 0..<x.count where x[i] > x[best] { best = i }
            return best
        }
    }

    /// Largest values along `axis`; the gradient flows to the first largest element.
    public func max(axis: Int, keepDims: Bool = false) -> Tensor { extreme(axis: axis, keepDims: keepDims, largest: true) }

    /// Smallest values along `axis`; the gradient flows to the first smallest element.
    public func min(axis: Int, keepDims: Bool = false) -> Tensor { extreme(axis: axis, keepDims: keepDims, largest: false) }

    /// The largest element, as a scalar.
    public func max() -> Tensor { reshaped([-1]).max(axis: 0) }
    /// The smallest element, as a scalar.
    public func min() -> Tensor { reshaped([-1]).min(axis: 0) }

    /// Max or min along `axis` with the position of each (the gradient's destination). A
    /// loop of its own beside the runtime's ReduceMax and ArgMax (`D2LRuntime/Ops/Reduce.swift`,
    /// `ArgMax.swift`): the backward needs value and position from one pass, which neither
    /// runtime kernel gives, and `min` has no runtime counterpart.
    private func extreme(axis: Int, keepDims: Bool, largest: Bool) -> Tensor {
        let a = normalizedAxis(axis, largest ? "max" : "min")
        let split = AxisSplit(shape, a)
        precondition(split.length > 0, "\(largest ? "max" : "min"): empty axis \(a) of shape \(shape)")
        var positions = [Int](repeating: 0, count: split.outer * split.inner)
        let value = Tensor.make(shape: reducedShape(a, keepDims: keepDims)) { out in
            withUnsafeValues { x in
                for o in 0..<split.outer {
                    for i in 0..<split.inner {
                        var bestIndex = 0
                        var best = x[o * split.length * split.inner + i]
                        for l in 1..<Swift.max(split.length, 1) {
                            let v = x[(o * split.length + l) * split.inner + i]
                            if largest ? v > best : v < best { best = v; bestIndex = l }
                        }
                        out[o * split.inner + i] = best
                        positions[o * split.inner + i] = bestIndex
                    }
                }
            }
        }
        let inputShape = shape
        return Tensor.record(largest ? "max" : "min", value, inputs: [self]) { g in
            let grad = Tensor.make(shape: inputShape) { out in
                for i in 0..<inputShape.reduce(1, *) { out[i] = 0 }
                g.withUnsafeValues { gv in
                    for o in 0..<split.outer {
                        for i in 0..<split.inner {
                            out[(o * split.length + positions[o * split.inner + i]) * split.inner + i] = gv[o * split.inner + i]
                        }
                    }
                }
            }
            return [grad]
        }
    }

    // MARK: Cumulative sum, log-sum-exp, softmax

    /// Running sums along `axis` (`torch.cumsum`).
    public func cumsum(axis: Int) -> Tensor {
        let a = normalizedAxis(axis, "cumsum")
        let split = AxisSplit(shape, a)
        func scan(_ t: Tensor, reverse: Bool) -> Tensor {
            Tensor.make(shape: t.shape) { out in
                t.withUnsafeValues { x in
                    for o in 0..<split.outer {
                        for i in 0..<split.inner {
                            var s: Float = 0
                            for step in 0..<split.length {
                                let l = reverse ? split.length - 1 - step : step
                                let k = (o * split.length + l) * split.inner + i
                                s += x[k]
                                out[k] = s
                            }
                        }
                    }
                }
            }
        }
        return Tensor.record("cumsum", scan(self, reverse: false), inputs: [self]) { g in [scan(g, reverse: true)] }
    }

    /// log Σ exp along `axis`, computed stably (max subtracted first).
    public func logSumExp(axis: Int, keepDims: Bool = false) -> Tensor {
        let a = normalizedAxis(axis, "logSumExp")
        let m = withNoGrad { max(axis: a, keepDims: true) }
        let result = (self - m).exp().sum(axis: a, keepDims: true).log() + m
        return keepDims ? result : result.squeezed(axis: a)
    }

    /// Softmax along `axis` (stable: max subtracted first).
    public func softmax(axis: Int) -> Tensor {
        let a = normalizedAxis(axis, "softmax")
        let split = AxisSplit(shape, a)
        // The runtime's Softmax kernel, so that training and the exported model agree.
        let y = Tensor.make(shape: shape) { out in
            withUnsafeValues { x in
                guard let xp = x.baseAddress else { return }  // no elements
                softmaxVector(xp, out, outer: split.outer, length: split.length, inner: split.inner)
            }
        }
        return Tensor.record("softmax", y, inputs: [self]) { g in
            // dx = y * (g - Σ g·y)
            [y * (g - (g * y).sum(axis: a, keepDims: true))]
        }
    }

    /// log(softmax) along `axis`, computed stably.
    public func logSoftmax(axis: Int) -> Tensor {
        let a = normalizedAxis(axis, "logSoftmax")
        let lse = withNoGrad { logSumExp(axis: a, keepDims: true) }
        let y = withNoGrad { self - lse }
        return Tensor.record("logSoftmax", y, inputs: [self]) { g in
            [g - y.exp() * g.sum(axis: a, keepDims: true)]
        }
    }

    // MARK: Norms

    /// The L2 norm of all elements (Frobenius norm for a matrix), as a scalar.
    public func norm() -> Tensor { squared().sum().sqrt() }
    /// The L1 norm (sum of absolute values), as a scalar.
    public func l1Norm() -> Tensor { abs().sum() }
}
