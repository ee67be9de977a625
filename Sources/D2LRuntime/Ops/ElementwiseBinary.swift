import _D2LSystem
import _D2LKernels

/// `Add`, `Sub`, `Mul`, `Div` (13/14) on float32, int64 and int32; `Pow` (13/15: float32,
/// int64 or int32 base, any of those exponents); `Equal` (13/19: any dtype, bool output).
/// Multidirectional (numpy) broadcasting. Integer Add/Sub/Mul wrap, Div truncates toward
/// zero, and an integer division by zero gives 0 instead of trapping.
struct ElementwiseBinary: OperatorKernel {
    enum Kind { case add, sub, mul, div, pow, equal }
    let kind: Kind
    /// Planned: how A and B broadcast to the output.
    private(set) var broadcast = BroadcastPlan(output: [], [], [])
    private(set) var typeA: DType = .float32
    private(set) var typeB: DType = .float32

    init(_ kind: Kind) { self.kind = kind }

    mutating func plan(_ inputs: [PlanInput?], _ label: String) throws(D2LError) -> [TensorType] {
        let a = try required(inputs, 0, label), b = try required(inputs, 1, label)
        var outType: DType
        switch kind {
        case .add, .sub, .mul, .div:
            try requireDType(a, [.float32, .int64, .int32], label, "A")
            guard a.type.dtype == b.type.dtype else {
                throw .invalidModel("\(label): inputs are \(a.type.dtype.name) and \(b.type.dtype.name); they must have the same type")
            }
            outType = a.type.dtype
        case .pow:
            try requireDType(a, [.float32, .int64, .int32], label, "X")
            try requireDType(b, [.float32, .int64, .int32], label, "Y")
            outType = a.type.dtype
        case .equal:
            guard a.type.dtype == b.type.dtype else {
                throw .invalidModel("\(label): inputs are \(a.type.dtype.name) and \(b.type.dtype.name); they must have the same type")
            }
            outType = .bool
        }
        typeA = a.type.dtype
        typeB = b.type.dtype
        let shape = try broadcastShapes(a.type.shape, b.type.shape, label)
        broadcast = BroadcastPlan(output: shape, a.type.shape, b.type.shape)
        return [TensorType(outType, shape)]
    }

    func run(_ io: KernelIO, pool _: ThreadPool?) {
        guard let y = io.outputs[0] else { return }
        let a = io.input(0).pointer, b = io.input(1).pointer
        switch kind {
        case .add, .sub, .mul, .div:
            switch typeA {
            case .float32: arithmetic(a, b, y.pointer, Float.self)
            case .int64: integer(a, b, y.pointer, Int64.self)
            case .int32: integer(a, b, y.pointer, Int32.self)
            default: break
            }
        case .pow:
            switch typeA {
            case .float32: powBase(a, b, y.pointer, Float.self)
            case .int64: powBase(a, b, y.pointer, Int64.self)
            case .int32: powBase(a, b, y.pointer, Int32.self)
            default: break
            }
        case .equal:
            switch typeA {
            case .float32: walk(a, b, y.pointer, Float.self, Float.self, UInt8.self) { $0 == $1 ? 1 : 0 }
            case .int64: walk(a, b, y.pointer, Int64.self, Int64.self, UInt8.self) { $0 == $1 ? 1 : 0 }
            case .int32: walk(a, b, y.pointer, Int32.self, Int32.self, UInt8.self) { $0 == $1 ? 1 : 0 }
            case .uint8, .bool: walk(a, b, y.pointer, UInt8.self, UInt8.self, UInt8.self) { $0 == $1 ? 1 : 0 }
            }
        }
    }

    /// Float Add/Sub/Mul/Div: each row of the planned broadcast through the kernel
    /// variant's `binary`.
    private func arithmetic(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer, _ y: UnsafeMutableRawPointer, _: Float.Type) {
        let op: BinaryArithmetic
        switch kind {
        case .add: op = .add
        case .sub: op = .sub
        case .mul: op = .mul
        default: op = .div
        }
        broadcastArithmetic(op, UnsafePointer(a.assumingMemoryBound(to: Float.self)),
                            UnsafePointer(b.assumingMemoryBound(to: Float.self)),
                            y.assumingMemoryBound(to: Float.self), broadcast)
    }

    private func integer<T: FixedWidthInteger>(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer,
                                               _ y: UnsafeMutableRawPointer, _: T.Type) {
        switch kind {
        case .add: walk(a, b, y, T.self, T.self, T.self) { $0 &+ $1 }
        case .sub: walk(a, b, y, T.self, T.self, T.self) { $0 &- $1 }
        case .mul: walk(a, b, y, T.self, T.self, T.self) { $0 &* $1 }
        default:
            walk(a, b, y, T.self, T.self, T.self) { x, z in
                if z == 0 { return 0 }
                let (q, o) = x.dividedReportingOverflow(by: z)
                return o ? x : q // only T.min / -1 overflows; its wrapped quotient is T.min
            }
        }
    }

    private func powBase<X: D2LNumber>(_ a: UnsafeMutableRawPointer, _ b: UnsafeMutableRawPointer,
                                       _ y: UnsafeMutableRawPointer, _: X.Type) {
        switch typeB {
        case .float32: walk(a, b, y, X.self, Float.self, X.self) { X.fromDouble(_D2LSystem.pow($0.asDouble, $1.asDouble)) }
        case .int64: walk(a, b, y, X.self, Int64.self, X.self) { X.fromDouble(_D2LSystem.pow($0.asDouble, $1.asDouble)) }
        case .int32: walk(a, b, y, X.self, Int32.self, X.self) { X.fromDouble(_D2LSystem.pow($0.asDouble, $1.asDouble)) }
        default: break
        }
    }

    /// y = f(a, b) over the planned broadcast, row by row.
    @inline(__always)
    private func walk<A, B, Y>(_ ar: UnsafeMutableRawPointer, _ br: UnsafeMutableRawPointer, _ yr: UnsafeMutableRawPointer,
                               _: A.Type, _: B.Type, _: Y.Type, _ f: (A, B) -> Y) {
        broadcast.map(UnsafePointer(ar.assumingMemoryBound(to: A.self)), UnsafePointer(br.assumingMemoryBound(to: B.self)),
                      yr.assumingMemoryBound(to: Y.self), f)
    }
}

extension ElementwiseBinary {
    /// Add, Sub, Mul, Div, Pow and Equal: one kernel family, no attributes.
    static let schemas: [OperatorSchema] = [
        binary("Add", [1, 6, 7, 13, 14], .add), binary("Sub", [1, 6, 7, 13, 14], .sub),
        binary("Mul", [1, 6, 7, 13, 14], .mul), binary("Div", [1, 6, 7, 13, 14], .div),
        binary("Pow", [1, 7, 12, 13, 15], .pow), binary("Equal", [1, 7, 11, 13, 19], .equal),
    ]

    private static func binary(_ name: String, _ versions: [Int], _ kind: Kind) -> OperatorSchema {
        .noAttributes(name, versions: versions, inputs: (2, 2), .binary(ElementwiseBinary(kind)))
    }
}
