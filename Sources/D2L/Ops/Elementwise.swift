import Foundation
import D2LRuntime

// Elementwise arithmetic with broadcasting, each backward beside its forward.

extension Tensor {
    /// A new tensor of `a` and `b`'s broadcast shape whose values `fill(plan, a, b, out)`
    /// writes over the runtime's broadcast plan (values only, untracked). Traps naming both
    /// shapes when they do not broadcast (a programming error in the toolkit, like a bad
    /// index); `fill` is not called when either operand has no elements.
    @inline(__always)
    static func broadcasting(_ name: String, _ a: Tensor, _ b: Tensor,
                             _ fill: (BroadcastPlan, UnsafePointer<Float>, UnsafePointer<Float>,
                                      UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        guard let plan = BroadcastPlan(a.shape, b.shape) else {
            preconditionFailure("\(name): shapes \(a.shape) and \(b.shape) do not broadcast")
        }
        return make(shape: plan.shape) { out in
            a.withUnsafeValues { x in
                b.withUnsafeValues { y in
                    guard let xp = x.baseAddress, let yp = y.baseAddress else { return }
                    fill(plan, xp, yp, out)
                }
            }
        }
    }

    /// `op` applied to broadcast pairs of `a` and `b` (values only, untracked).
    @inline(__always)
    static func broadcastValues(_ name: String, _ a: Tensor, _ b: Tensor,
                                _ op: (Float, Float) -> Float) -> Tensor {
        broadcasting(name, a, b) { plan, x, y, out in plan.map(x, y, out, op) }
    }

    /// a `op` b for the four arithmetic operators: the runtime's Add/Sub/Mul/Div kernel
    /// (values only, untracked), so that training and the exported model agree.
    static func broadcastArithmetic(_ name: String, _ op: BinaryArithmetic, _ a: Tensor, _ b: Tensor) -> Tensor {
        broadcasting(name, a, b) { plan, x, y, out in D2LRuntime.broadcastArithmetic(op, x, y, out, plan) }
    }

    /// `op` applied to every value (untracked).
    @inline(__always)
    func mapValues(_ op: (Float) -> Float) -> Tensor {
        Tensor.make(shape: shape) { out in
            withUnsafeValues { x in for i in 0..<x.count { out[i] = op(x[i]) } }
        }
    }

    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let value = broadcastArithmetic("+", .add, a, b)
        return record("add", value, inputs: [a, b]) { g in [g.sumToShape(a.shape), g.sumToShape(b.shape)] }
    }

    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let value = broadcastArithmetic("-", .sub, a, b)
        return record("sub", value, inputs: [a, b]) { g in [g.sumToShape(a.shape), (-g).sumToShape(b.shape)] }
    }

    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let value = broadcastArithmetic("*", .mul, a, b)
        return record("mul", value, inputs: [a, b]) { g in
            [a.node == nil ? nil : (g * b.detached()).sumToShape(a.shape),
             b.node == nil ? nil : (g * a.detached()).sumToShape(b.shape)]
        }
    }

    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let value = broadcastArithmetic("/", .div, a, b)
        return record("div", value, inputs: [a, b]) { g in
            let bd = b.detached()
            return [a.node == nil ? nil : (g / bd).sumToShape(a.shape),
                    b.node == nil ? nil : (-(g * a.detached()) / (bd * bd)).sumToShape(b.shape)]
        }
    }

    public static prefix func - (a: Tensor) -> Tensor {
        record("neg", a.mapValues { -$0 }, inputs: [a]) { g in [-g] }
    }

    public static func + (a: Tensor, b: Float) -> Tensor { a + Tensor(b) }
    public static func + (a: Float, b: Tensor) -> Tensor { Tensor(a) + b }
    public static func - (a: Tensor, b: Float) -> Tensor { a - Tensor(b) }
    public static func - (a: Float, b: Tensor) -> Tensor { Tensor(a) - b }
    public static func * (a: Tensor, b: Float) -> Tensor { a * Tensor(b) }
    public static func * (a: Float, b: Tensor) -> Tensor { Tensor(a) * b }
    public static func / (a: Tensor, b: Float) -> Tensor { a / Tensor(b) }
    public static func / (a: Float, b: Tensor) -> Tensor { Tensor(a) / b }

    public static func += (a: inout Tensor, b: Tensor) { a = a + b }
    public static func -= (a: inout Tensor, b: Tensor) { a = a - b }
    public static func *= (a: inout Tensor, b: Tensor) { a = a * b }
    public static func /= (a: inout Tensor, b: Tensor) { a = a / b }

    /// Elementwise larger value (`torch.maximum`); the gradient goes to the larger input
    /// (to `a` on ties).
    public static func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let value = broadcastValues("maximum", a, b) { Swift.max($0, $1) }
        return record("maximum", value, inputs: [a, b]) { g in
            let mask = broadcastValues("maximum", a, b) { $0 >= $1 ? 1 : 0 }
            return [(g * mask).sumToShape(a.shape), (g * (1 - mask)).sumToShape(b.shape)]
        }
    }

    /// Elementwise smaller value (`torch.minimum`); the gradient goes to the smaller input
    /// (to `a` on ties).
    public static func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
        let value = broadcastValues("minimum", a, b) { Swift.min($0, $1) }
        return record("minimum", value, inputs: [a, b]) { g in
            let mask = broadcastValues("minimum", a, b) { $0 <= $1 ? 1 : 0 }
            return [(g * mask).sumToShape(a.shape), (g * (1 - mask)).sumToShape(b.shape)]
        }
    }
}

// MARK: - Unary functions

extension Tensor {
    /// e^x.
    public func exp() -> Tensor {
        let y = mapValues { Foundation.exp($0) }
        return Tensor.record("exp", y, inputs: [self]) { g in [g * y] }
    }

    /// Natural logarithm.
    public func log() -> Tensor {
        let x = detached()
        return Tensor.record("log", mapValues { Foundation.log($0) }, inputs: [self]) { g in [g / x] }
    }

    /// Square root.
    public func sqrt() -> Tensor {
        let y = mapValues { $0.squareRoot() }
        return Tensor.record("sqrt", y, inputs: [self]) { g in [g / (2 * y)] }
    }

    /// Absolute value (gradient sign(x), 0 at 0).
    public func abs() -> Tensor {
        let x = detached()
        return Tensor.record("abs", mapValues { Swift.abs($0) }, inputs: [self]) { g in
            [g * x.mapValues { $0 > 0 ? 1 : ($0 < 0 ? -1 : 0) }]
        }
    }

    /// x^p for a constant exponent.
    public func pow(_ p: Float) -> Tensor {
        let x = detached()
        let y: Tensor = p == 2 ? mapValues { $0 * $0 } : mapValues { Foundation.pow($0, p) }
        return Tensor.record("pow", y, inputs: [self]) { g in
            [g * (p == 2 ? 2 * x : p * x.mapValues { Foundation.pow($0, p - 1) })]
        }
    }

    /// Squares (x²).
    public func squared() -> Tensor { pow(2) }

    /// Values clamped to [min, max] (gradient 1 inside, 0 where clamped).
    public func clamped(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        let x = detached()
        let y = mapValues { Swift.min(Swift.max($0, low), high) }
        return Tensor.record("clamp", y, inputs: [self]) { g in
            [g * x.mapValues { $0 >= low && $0 <= high ? 1 : 0 }]
        }
    }

    /// max(x, 0) (gradient 0 at 0, as in PyTorch). Uses the runtime's Relu kernel.
    public func relu() -> Tensor { activation(.relu, "relu") }

    /// 1 / (1 + e^-x). Uses the runtime's Sigmoid kernel.
    public func sigmoid() -> Tensor { activation(.sigmoid, "sigmoid") }

    /// Hyperbolic tangent. Uses the runtime's Tanh kernel.
    public func tanh() -> Tensor { activation(.tanh, "tanh") }

    /// An activation forward and backward through the runtime's kernels (the active kernel
    /// variant; large tensors over the compute threads): the backward reads the output y
    /// (ReLU: g·[y > 0], sigmoid: g·y·(1 − y), tanh: g·(1 − y²)).
    private func activation(_ kind: VectorActivation, _ name: String) -> Tensor {
        let pool = ComputeThreads.pool
        let y = Tensor.make(shape: shape) { out in
            withUnsafeValues { x in if let base = x.baseAddress { activationVector(kind, base, out, x.count, pool: pool) } }
        }
        return Tensor.record(name, y, inputs: [self]) { g in
            guard g.shape == y.shape else {
                // A broadcast gradient: the same derivative, elementwise after broadcasting.
                switch kind {
                case .relu: return [Tensor.broadcastValues(name, g, y) { $1 > 0 ? $0 : 0 }]
                case .sigmoid: return [Tensor.broadcastValues(name, g, y) { $0 * $1 * (1 - $1) }]
                case .tanh: return [Tensor.broadcastValues(name, g, y) { $0 * (1 - $1 * $1) }]
                }
            }
            let dx = Tensor.make(shape: y.shape) { out in
                g.withUnsafeValues { gb in
                    y.withUnsafeValues { yb in
                        if let gp = gb.baseAddress, let yp = yb.baseAddress {
                            activationBackwardVector(kind, dy: gp, y: yp, dx: out, gb.count, pool: pool)
                        }
                    }
                }
            }
            return [dx]
        }
    }
}

// MARK: - Comparisons (untracked; 1 where true, 0 where false)

extension Tensor {
    public static func .== (a: Tensor, b: Tensor) -> Tensor { broadcastValues(".==", a, b) { $0 == $1 ? 1 : 0 } }
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { broadcastValues(".!=", a, b) { $0 != $1 ? 1 : 0 } }
    public static func .< (a: Tensor, b: Tensor) -> Tensor { broadcastValues(".<", a, b) { $0 < $1 ? 1 : 0 } }
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { broadcastValues(".<=", a, b) { $0 <= $1 ? 1 : 0 } }
    public static func .> (a: Tensor, b: Tensor) -> Tensor { broadcastValues(".>", a, b) { $0 > $1 ? 1 : 0 } }
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { broadcastValues(".>=", a, b) { $0 >= $1 ? 1 : 0 } }
    public static func .== (a: Tensor, b: Float) -> Tensor { a .== Tensor(b) }
    public static func .< (a: Tensor, b: Float) -> Tensor { a .< Tensor(b) }
    public static func .> (a: Tensor, b: Float) -> Tensor { a .> Tensor(b) }

    /// `condition ? a : b` elementwise (condition nonzero = true), broadcasting all three.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = Broadcast.shape(Broadcast.shape(condition.shape, a.shape) ?? [], b.shape)
        precondition(shape != nil && Broadcast.shape(condition.shape, a.shape) != nil,
                     "where: shapes \(condition.shape), \(a.shape) and \(b.shape) do not broadcast")
        let mask = condition.detached().broadcast(to: shape!).mapValues { $0 != 0 ? 1 : 0 }
        return mask * a + (1 - mask) * b
    }
}
