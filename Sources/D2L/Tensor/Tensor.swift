/// The shared float32 buffer behind one or more tensors. Tensors copy it before they
/// write to it unless they are its only owner (copy-on-write).
final class TensorStorage {
    var values: [Float]
    init(_ values: [Float]) { self.values = values }
}

/// An n-dimensional array of float32 values in row-major (C) order, with value semantics
/// (copies share storage until one of them is written), optionally tracked by autograd.
///
/// Shapes are `[Int]` with every dimension ≥ 0; a scalar has shape `[]`. Arithmetic
/// broadcasts like NumPy and PyTorch. Operations whose inputs require gradients record
/// how to compute their backward; `backward()` on a result accumulates into the `grad`
/// of every leaf that requires gradients.
///
/// Operators trap, with a message naming both shapes, when shapes cannot broadcast:
/// layers and losses check their inputs first and throw `ToolkitError(.shape)` instead.
public struct Tensor {
    var storage: TensorStorage
    /// The dimensions, outermost first.
    public private(set) var shape: [Int]
    /// The autograd node: a leaf for tensors created with `requiresGrad`, an operation's
    /// node for results computed from them, nil when untracked.
    var node: GradNode?

    /// A tensor over `values` with `shape` (their counts must agree).
    public init(_ values: [Float], shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in shape \(shape)")
        precondition(shape.reduce(1, *) == values.count,
                     "Tensor: \(values.count) values do not fill shape \(shape) (\(shape.reduce(1, *)) elements)")
        storage = TensorStorage(values)
        self.shape = shape
    }

    /// A 1-D tensor of `values`.
    public init(_ values: [Float]) { self.init(values, shape: [values.count]) }

    /// A 2-D tensor from rows of equal length.
    public init(_ rows: [[Float]]) {
        let columns = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == columns }, "Tensor: rows of different lengths")
        self.init(rows.flatMap { $0 }, shape: [rows.count, columns])
    }

    /// A scalar (shape `[]`).
    public init(_ scalar: Float) { self.init([scalar], shape: []) }

    init(storage: TensorStorage, shape: [Int], node: GradNode? = nil) {
        self.storage = storage
        self.shape = shape
        self.node = node
    }

    /// The number of dimensions.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { storage.values.count }
    /// The values in row-major order.
    public var scalars: [Float] { storage.values }
    /// The single value of a one-element tensor (`item()` in PyTorch).
    public var item: Float {
        precondition(count == 1, "Tensor.item: tensor of shape \(shape) has \(count) elements, not 1")
        return storage.values[0]
    }

    /// Values as rows of a 2-D tensor.
    public var rows: [[Float]] {
        precondition(rank == 2, "Tensor.rows: needs a 2-D tensor, got shape \(shape)")
        let columns = shape[1]
        return (0..<shape[0]).map { Array(storage.values[$0 * columns ..< ($0 + 1) * columns]) }
    }

    /// Makes the storage this tensor's own before a write.
    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = TensorStorage(storage.values) }
    }

    /// Reads the values in row-major order.
    public func withUnsafeValues<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try storage.values.withUnsafeBufferPointer(body)
    }

    /// Writes the values in place (copying the storage first if it is shared). Not
    /// recorded by autograd: use it under `withNoGrad` or on untracked tensors.
    public mutating func withUnsafeMutableValues<R>(_ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        makeUnique()
        return try storage.values.withUnsafeMutableBufferPointer(body)
    }

    /// A new tensor of `shape` whose values `fill` writes (all `count` of them).
    static func make(shape: [Int], _ fill: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        // Inside a ConstructionBudget scope, a tensor past the limit is created empty.
        guard let n = ConstructionBudget.admit(shape) else { return Tensor([Float](), shape: [0]) }
        let values = [Float](unsafeUninitializedCapacity: n) { buffer, initialized in
            if let base = buffer.baseAddress { fill(base) }
            initialized = n
        }
        return Tensor(storage: TensorStorage(values), shape: shape)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        func format(_ v: Float) -> String {
            let text = "\(v)"
            return text.hasSuffix(".0") ? String(text.dropLast()) + "." : text
        }
        func render(_ dim: Int, _ offset: Int) -> String {
            if dim == rank { return format(storage.values[offset]) }
            let stride = shape[(dim + 1)...].reduce(1, *)
            let items = (0..<shape[dim]).map { render(dim + 1, offset + $0 * stride) }
            return "[" + items.joined(separator: dim == rank - 1 ? ", " : ",\n") + "]"
        }
        var text = "tensor(" + render(0, 0)
        if let node, node.isLeaf { text += ", requiresGrad: true" } else if node != nil { text += ", gradFn" }
        return text + ")"
    }
}
