/// An element type and a concrete shape.
public struct TensorType: Equatable, Sendable {
    public var dtype: DType
    public var shape: [Int]

    public init(_ dtype: DType, _ shape: [Int]) {
        self.dtype = dtype
        self.shape = shape
    }

    public var rank: Int { shape.count }
    /// Number of elements (shapes are validated against overflow when they are made).
    public var count: Int { shape.reduce(1, *) }
    public var byteCount: Int { count * dtype.size }

    /// `float32[1, 3, 28, 28]`.
    public var text: String { dtype.name + shapeText(shape) }
}

/// What an operator sees of one input while planning: its type and, when the input is
/// a constant (an initializer, a Constant node, or folded), its data.
struct PlanInput {
    var type: TensorType
    var constant: ConstantTensor?
}

/// A tensor in memory during a run: a pointer and its type. Borrowed; valid during the
/// run that holds it.
public struct TensorView {
    public var pointer: UnsafeMutableRawPointer
    public var type: TensorType

    public var floats: UnsafeMutablePointer<Float> { pointer.assumingMemoryBound(to: Float.self) }
}

/// The tensors one kernel call reads and writes. Optional inputs/outputs that the node
/// omits are nil.
struct KernelIO {
    var inputs: [TensorView?]
    var outputs: [TensorView?]
    /// Float scratch of at least the operator's `scratchElements` (never nil-sized: at
    /// least one aligned block).
    var scratch: UnsafeMutablePointer<Float>

    /// Input `i` (present by validation).
    @inline(__always) func input(_ i: Int) -> TensorView {
        // Planning guarantees required inputs are present; the fallback keeps this total.
        inputs[i] ?? TensorView(pointer: UnsafeMutableRawPointer(scratch), type: TensorType(.float32, [0]))
    }
}
