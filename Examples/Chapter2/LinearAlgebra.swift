import D2L

/// 2.3 Linear Algebra: scalars, vectors, matrices and tensors; the Hadamard product;
/// reductions (sum and mean along axes, keeping dimensions), cumulative sums; dot
/// products, matrix–vector and matrix–matrix products; norms.
enum LinearAlgebra {
    static let section = BookSection(name: "linear-algebra", number: "2.3", title: "Linear Algebra", run: run)

    static func run(_ book: BookContext) throws {
        // Scalars.
        let xs = Tensor(3.0), ys = Tensor(2.0)
        print("x + y, x * y, x / y, x ** y = \(bookFormat(xs + ys)), \(bookFormat(xs * ys)), \(bookFormat(xs / ys)), \(bookFormat(xs.pow(ys.item)))")

        // Vectors: elements, length, shape.
        let x = Tensor.arange(4)
        book.show("x", x, decimals: 0)
        book.show("x[3]", x[3], decimals: 0)
        print("len(x) = \(x.shape[0]), x.shape = \(x.shape)")

        // Matrices: the transpose; a symmetric matrix equals its transpose.
        let A = Tensor.arange(20).reshaped([5, 4])
        book.show("A", A, decimals: 0)
        book.show("A.T", A.T, decimals: 0)
        book.check(A.T.shape == [4, 5] && A.T[.at(3), .at(1)].item == A[.at(1), .at(3)].item, "(Aᵀ)ᵢⱼ = Aⱼᵢ")
        let B = Tensor([[1, 2, 3], [2, 0, 4], [3, 4, 5]])
        let symmetric = B .== B.T
        book.show("B == B.T", symmetric, decimals: 0)
        book.check(symmetric.min().item == 1, "B is symmetric")
        let square = A[0..<4]  // the first four rows: a 4 × 4 matrix that is not symmetric
        book.check((square .== square.T).min().item == 0, "a non-symmetric matrix is told apart")

        // Tensors with more axes.
        book.show("X = arange(24).reshaped([2, 3, 4])", Tensor.arange(24).reshaped([2, 3, 4]), decimals: 0)

        // Basic properties of tensor arithmetic: A + B, the Hadamard product A ⊙ B, a scalar with a tensor.
        let Af = Tensor.arange(20).reshaped([5, 4]), Bf = Af  // B = A.clone(): a Swift value is already a copy
        book.show("A + B", Af + Bf, decimals: 1)
        book.show("A * B", Af * Bf, decimals: 1)
        let X3 = Tensor.arange(24).reshaped([2, 3, 4])
        book.show("a + X", 2 + X3, decimals: 0)
        print("(a * X).shape = \((2 * X3).shape)")

        // Reduction: sums over all elements and along axes.
        let xf = Tensor.arange(4)
        book.show("x.sum()", xf.sum(), decimals: 1)
        print("A.shape = \(Af.shape), A.sum() = \(bookFormat(Af.sum(), decimals: 1))")
        let sumAxis0 = Af.sum(axis: 0), sumAxis1 = Af.sum(axis: 1)
        book.show("A.sum(axis: 0)", sumAxis0, decimals: 1)
        print("A.sum(axis: 0).shape = \(sumAxis0.shape)")
        book.show("A.sum(axis: 1)", sumAxis1, decimals: 1)
        print("A.sum(axis: 1).shape = \(sumAxis1.shape)")
        book.show("A.sum(alongAxes: [0, 1])", Af.sum(alongAxes: [0, 1]), decimals: 1)
        book.check(Af.sum(alongAxes: [0, 1]).item == Af.sum().item && sumAxis0.sum().item == 190, "summing both axes is the sum of all, 190")
        book.show("A.mean()", Af.mean())
        book.show("A.sum() / A.count", Af.sum() / Float(Af.count))
        book.show("A.mean(axis: 0)", Af.mean(axis: 0))
        book.show("A.sum(axis: 0) / A.shape[0]", Af.sum(axis: 0) / Float(Af.shape[0]))

        // Non-reduction sum: keepDims, so that A / sum_A broadcasts row by row.
        let sumA = Af.sum(axis: 1, keepDims: true)
        book.show("sum_A = A.sum(axis: 1, keepDims: true)", sumA, decimals: 1)
        let normalised = Af / sumA
        book.show("A / sum_A", normalised)
        book.check((normalised.sum(axis: 1) - 1).abs().max().item < 1e-6, "each row of A / sum_A sums to 1")
        let cumsum = Af.cumsum(axis: 0)
        book.show("A.cumsum(axis: 0)", cumsum, decimals: 1)
        book.check(cumsum[-1].scalars == sumAxis0.scalars, "the last row of the cumulative sum is the column sums")

        // Dot products.
        let y = Tensor.ones([4])
        book.show("dot(x, y)", xf.dot(y), decimals: 1)
        book.show("sum(x * y)", (xf * y).sum(), decimals: 1)
        book.check(xf.dot(y).item == (xf * y).sum().item, "the dot product is the sum of the elementwise product")

        // Matrix–vector products.
        print("A.shape, x.shape = \(Af.shape), \(xf.shape)")
        let mv = Af.mv(xf)
        book.show("mv(A, x)", mv, decimals: 1)
        let rowDots: [Float] = (0..<5).map { (r: Int) -> Float in
            var total: Float = 0
            for c in 0..<4 { total += Float(r * 4 + c) * Float(c) }
            return total
        }
        book.check(mv.scalars == rowDots, "each entry of A·x is a row of A dotted with x")

        // Matrix–matrix multiplication.
        let Bm = Tensor.ones([4, 3])
        let mm = Af.mm(Bm)
        book.show("mm(A, B)", mm, decimals: 1)
        book.check(mm.shape == [5, 3] && mm[.all, .at(0)].scalars == sumAxis1.scalars, "A·ones([4, 3]) repeats the row sums")

        // Norms.
        let u = Tensor([3.0, -4.0])
        book.show("norm(u)", u.norm())
        book.show("abs(u).sum()", u.abs().sum())
        let frobenius = Tensor.ones([4, 9]).norm()
        book.show("norm(ones([4, 9]))", frobenius)
        book.check(u.norm().item == 5, "the L2 norm of [3, −4] is 5")
        book.check(u.l1Norm().item == 7, "the L1 norm of [3, −4] is 7")
        book.check(frobenius.item == 6, "the Frobenius norm of ones(4, 9) is 6")
    }
}
