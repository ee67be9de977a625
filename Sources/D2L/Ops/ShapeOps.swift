// Reshaping, transposition, concatenation, slicing and gathering, with backward.

/// One dimension's index in `tensor[...]`: a single position (the dimension is
/// removed), a range with a step, or everything. Negative positions count from the end.
public enum TensorIndex {
    case at(Int)
    case range(Range<Int>, step: Int = 1)
    case from(Int)
    case all
}

extension Tensor {
    /// The same values with a new shape; one dimension may be -1 (inferred). Shares storage.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var target = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.reduce(1) { $0 * $1.element }
            precondition(known > 0 && count % known == 0,
                         "reshaped: cannot reshape \(shape) (\(count) elements) to \(newShape)")
            target[inferred] = count / known
        }
        precondition(target.allSatisfy { $0 >= 0 } && target.reduce(1, *) == count,
                     "reshaped: cannot reshape \(shape) (\(count) elements) to \(newShape)")
        let inputShape = shape
        let value = Tensor(storage: storage, shape: target)
        return Tensor.record("reshape", value, inputs: [self]) { g in [g.reshaped(inputShape)] }
    }

    /// Dimensions `startAxis...` merged into one (`torch.flatten(x, start_dim)`).
    public func flattened(startAxis: Int = 0) -> Tensor {
        let a = startAxis < 0 ? startAxis + rank : startAxis
        if rank == 0 { return reshaped([1]) }
        return reshaped(Array(shape[..<a]) + [shape[a...].reduce(1, *)])
    }

    /// A new axis of size 1 at `axis`.
    public func unsqueezed(axis: Int) -> Tensor {
        let a = axis < 0 ? axis + rank + 1 : axis
        var s = shape
        s.insert(1, at: a)
        return reshaped(s)
    }

    /// Removes `axis`, which must have size 1.
    public func squeezed(axis: Int) -> Tensor {
        let a = normalizedAxis(axis, "squeezed")
        precondition(shape[a] == 1, "squeezed: axis \(a) of shape \(shape) has size \(shape[a]), not 1")
        var s = shape
        s.remove(at: a)
        return reshaped(s)
    }

    /// Dimensions reordered: result dimension i is this tensor's dimension `axes[i]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permuted: \(axes) is not a permutation of the axes of \(shape)")
        let outShape = axes.map { shape[$0] }
        let inStrides = Broadcast.strides(shape)
        let readStrides = axes.map { inStrides[$0] }
        let value = Tensor.make(shape: outShape) { out in
            withUnsafeValues { x in
                Broadcast.forEach(outShape, readStrides, readStrides) { i, _, o in out[o] = x[i] }
            }
        }
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, a) in axes.enumerated() { inverse[a] = i }
        return Tensor.record("permute", value, inputs: [self]) { g in [g.permuted(inverse)] }
    }

    /// Two axes swapped (`torch.transpose`).
    public func transposed(_ a: Int, _ b: Int) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(normalizedAxis(a, "transposed"), normalizedAxis(b, "transposed"))
        return permuted(axes)
    }

    /// The matrix transpose (a 1-D tensor is returned as is), like `.T`.
    public var T: Tensor { rank < 2 ? self : transposed(rank - 2, rank - 1) }

    /// Tensors joined along `axis` (`torch.cat`); all other dimensions must agree.
    public static func concat(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "concat: no tensors")
        let first = tensors[0]
        let a = first.normalizedAxis(axis, "concat")
        for t in tensors {
            precondition(t.rank == first.rank && (0..<t.rank).allSatisfy { $0 == a || t.shape[$0] == first.shape[$0] },
                         "concat: shape \(t.shape) does not fit \(first.shape) along axis \(a)")
        }
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let outer = first.shape[..<a].reduce(1, *)
        let inner = first.shape[(a + 1)...].reduce(1, *)
        let rowLength = outShape[a] * inner
        let value = make(shape: outShape) { out in
            var offset = 0
            for t in tensors {
                let chunk = t.shape[a] * inner
                t.withUnsafeValues { x in
                    for o in 0..<outer {
                        (out + o * rowLength + offset).update(from: x.baseAddress! + o * chunk, count: chunk)
                    }
                }
                offset += chunk
            }
        }
        let sizes = tensors.map { $0.shape[a] }
        return record("concat", value, inputs: tensors) { g in
            var start = 0
            return sizes.map { size in
                defer { start += size }
                return g.slice(axis: a, start: start, end: start + size)
            }
        }
    }

    /// Tensors of one shape stacked along a new axis.
    public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
        concat(tensors.map { $0.unsqueezed(axis: axis) }, axis: axis)
    }

    /// Elements `start, start + step, …` below `end` along `axis` (a strided view, copied).
    public func slice(axis: Int, start: Int, end: Int, step: Int = 1) -> Tensor {
        let a = normalizedAxis(axis, "slice")
        precondition(step > 0, "slice: step must be positive, got \(step)")
        let lo = Swift.max(0, Swift.min(start, shape[a])), hi = Swift.max(lo, Swift.min(end, shape[a]))
        let length = (hi - lo + step - 1) / step
        var outShape = shape
        outShape[a] = length
        let split = AxisSplit(shape, a)
        let value = Tensor.make(shape: outShape) { out in
            withUnsafeValues { x in
                for o in 0..<split.outer {
                    for l in 0..<length {
                        let src = x.baseAddress! + (o * split.length + lo + l * step) * split.inner
                        (out + (o * length + l) * split.inner).update(from: src, count: split.inner)
                    }
                }
            }
        }
        let inputShape = shape
        return Tensor.record("slice", value, inputs: [self]) { g in
            let grad = Tensor.make(shape: inputShape) { out in
                out.initialize(repeating: 0, count: inputShape.reduce(1, *))
                g.withUnsafeValues { gv in
                    for o in 0..<split.outer {
                        for l in 0..<length {
                            (out + (o * split.length + lo + l * step) * split.inner)
                                .update(from: gv.baseAddress! + (o * length + l) * split.inner, count: split.inner)
                        }
                    }
                }
            }
            return [grad]
        }
    }

    /// Rows `indices` of axis 0, in that order, repeats allowed (`x[[2, 0, 2]]`,
    /// `index_select`); the backward adds into repeated rows.
    public func indexSelect(_ indices: [Int]) -> Tensor {
        precondition(rank >= 1, "indexSelect: needs at least one dimension, got a scalar")
        let rows = shape[0]
        let inner = shape[1...].reduce(1, *)
        for i in indices { precondition(i >= -rows && i < rows, "indexSelect: index \(i) out of range for \(rows) rows") }
        let fixed = indices.map { $0 < 0 ? $0 + rows : $0 }
        let value = Tensor.make(shape: [fixed.count] + shape[1...]) { out in
            withUnsafeValues { x in
                for (r, i) in fixed.enumerated() { (out + r * inner).update(from: x.baseAddress! + i * inner, count: inner) }
            }
        }
        let inputShape = shape
        return Tensor.record("indexSelect", value, inputs: [self]) { g in
            let grad = Tensor.make(shape: inputShape) { out in
                out.initialize(repeating: 0, count: inputShape.reduce(1, *))
                g.withUnsafeValues { gv in
                    for (r, i) in fixed.enumerated() {
                        for k in 0..<inner { out[i * inner + k] += gv[r * inner + k] }
                    }
                }
            }
            return [grad]
        }
    }

    /// For a matrix [n, c]: element `[i, indices[i]]` of each row i, as [n]
    /// (`y_hat[range(n), y]` in the book).
    public func picking(_ indices: [Int]) -> Tensor {
        precondition(rank == 2 && indices.count == shape[0],
                     "picking: needs a matrix with one index per row, got shape \(shape) and \(indices.count) indices")
        let columns = shape[1]
        for i in indices { precondition(i >= 0 && i < columns, "picking: index \(i) outside 0..<\(columns)") }
        let value = Tensor.make(shape: [indices.count]) { out in
            withUnsafeValues { x in for (r, i) in indices.enumerated() { out[r] = x[r * columns + i] } }
        }
        let inputShape = shape
        return Tensor.record("picking", value, inputs: [self]) { g in
            let grad = Tensor.make(shape: inputShape) { out in
                out.initialize(repeating: 0, count: inputShape.reduce(1, *))
                g.withUnsafeValues { gv in for (r, i) in indices.enumerated() { out[r * columns + i] = gv[r] } }
            }
            return [grad]
        }
    }

    // MARK: Subscripts

    /// Resolves `indices` into per-axis (start, step, length, keep) and the result shape.
    private func resolve(_ indices: [TensorIndex]) -> (specs: [(start: Int, step: Int, length: Int)], keep: [Bool]) {
        precondition(indices.count <= rank, "subscript: \(indices.count) indices for shape \(shape)")
        var specs: [(Int, Int, Int)] = []
        var keep: [Bool] = []
        for axis in 0..<rank {
            let size = shape[axis]
            let index = axis < indices.count ? indices[axis] : .all
            switch index {
            case .at(let i):
                let p = i < 0 ? i + size : i
                precondition(p >= 0 && p < size, "subscript: index \(i) out of range for axis \(axis) of shape \(shape)")
                specs.append((p, 1, 1)); keep.append(false)
            case .range(let r, let step):
                precondition(step > 0, "subscript: step must be positive")
                let lo = Swift.max(0, Swift.min(r.lowerBound < 0 ? r.lowerBound + size : r.lowerBound, size))
                let hi = Swift.max(lo, Swift.min(r.upperBound < 0 ? r.upperBound + size : r.upperBound, size))
                specs.append((lo, step, (hi - lo + step - 1) / step)); keep.append(true)
            case .from(let i):
                let lo = Swift.max(0, Swift.min(i < 0 ? i + size : i, size))
                specs.append((lo, 1, size - lo)); keep.append(true)
            case .all:
                specs.append((0, 1, size)); keep.append(true)
            }
        }
        return (specs.map { (start: $0.0, step: $0.1, length: $0.2) }, keep)
    }

    /// Calls body(sourceOffset, resultOffset) for each selected element.
    private func forEachSelected(_ specs: [(start: Int, step: Int, length: Int)], _ body: (Int, Int) -> Void) {
        let strides = Broadcast.strides(shape)
        let lengths = specs.map(\.length)
        let base = zip(specs, strides).reduce(0) { $0 + $1.0.start * $1.1 }
        let steps = zip(specs, strides).map { $0.step * $1 }
        Broadcast.forEach(lengths, steps, steps) { i, _, o in body(base + i, o) }
    }

    /// Reads or writes a region: `x[.at(1)]`, `x[.all, .range(1..<3)]`, `x[.range(0..<4, step: 2)]`.
    /// Writing copies `newValue` (broadcast to the region) into it; not recorded by autograd.
    public subscript(_ indices: TensorIndex...) -> Tensor {
        get { select(indices) }
        set { assign(indices, newValue) }
    }

    /// Row `i` of axis 0 (negative counts from the end).
    public subscript(_ i: Int) -> Tensor {
        get { select([.at(i)]) }
        set { assign([.at(i)], newValue) }
    }

    /// Rows `r` of axis 0.
    public subscript(_ r: Range<Int>) -> Tensor {
        get { select([.range(r)]) }
        set { assign([.range(r)], newValue) }
    }

    func select(_ indices: [TensorIndex]) -> Tensor {
        let (specs, keep) = resolve(indices)
        let regionShape = specs.map(\.length)
        let outShape = zip(regionShape, keep).filter { $0.1 }.map { $0.0 }
        var sourceOffsets: [Int] = []
        sourceOffsets.reserveCapacity(regionShape.reduce(1, *))
        forEachSelected(specs) { s, _ in sourceOffsets.append(s) }
        let value = Tensor.make(shape: outShape) { out in
            withUnsafeValues { x in for (o, s) in sourceOffsets.enumerated() { out[o] = x[s] } }
        }
        let inputShape = shape
        return Tensor.record("select", value, inputs: [self]) { g in
            let grad = Tensor.make(shape: inputShape) { out in
                out.initialize(repeating: 0, count: inputShape.reduce(1, *))
                g.withUnsafeValues { gv in for (o, s) in sourceOffsets.enumerated() { out[s] += gv[o] } }
            }
            return [grad]
        }
    }

    mutating func assign(_ indices: [TensorIndex], _ newValue: Tensor) {
        let (specs, keep) = resolve(indices)
        let regionShape = specs.map(\.length)
        let outShape = zip(regionShape, keep).filter { $0.1 }.map { $0.0 }
        let source = newValue.shape == outShape ? newValue : newValue.detached().broadcast(to: outShape)
        var offsets: [Int] = []
        forEachSelected(specs) { s, _ in offsets.append(s) }
        let src = source.scalars
        withUnsafeMutableValues { x in for (o, s) in offsets.enumerated() { x[s] = src[o] } }
    }
}
