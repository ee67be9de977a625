import D2L
import Foundation

/// 2.1 Data Manipulation: creating tensors, arithmetic, concatenation, comparison,
/// broadcasting, indexing and slicing, writing into a tensor, and conversion.
enum Ndarray {
    static let section = BookSection(name: "ndarray", number: "2.1", title: "Data Manipulation", run: run)

    static func run(_ book: BookContext) throws {
        // Getting started: a row vector of the first 12 integers, its shape and size.
        let x = Tensor.arange(12)
        book.show("x", x, decimals: 0)
        print("x.shape = \(x.shape)")
        print("x.count = \(x.count)")
        let X = x.reshaped([3, 4])  // or x.reshaped([-1, 4]), x.reshaped([3, -1])
        book.show("X = x.reshaped([3, 4])", X, decimals: 0)
        book.check(X.shape == [3, 4] && X[.at(2), .at(1)].item == 9, "reshaping keeps the values in row-major order")
        book.check(x.reshaped([-1, 4]).shape == [3, 4] && x.reshaped([3, -1]).shape == [3, 4], "-1 infers a dimension")
        book.show("Tensor.zeros([2, 3, 4])", Tensor.zeros([2, 3, 4]), decimals: 0)
        book.show("Tensor.ones([2, 3, 4])", Tensor.ones([2, 3, 4]), decimals: 0)
        var generator = SeededGenerator(seed: 42)
        book.show("Tensor.randn([3, 4])", Tensor.randn([3, 4], using: &generator))
        book.show("Tensor([[2, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])", Tensor([[2, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]]), decimals: 0)

        // Operations: elementwise arithmetic and exp.
        let a = Tensor([1.0, 2, 4, 8]), b = Tensor([2, 2, 2, 2])
        book.show("x + y", a + b)
        book.show("x - y", a - b)
        book.show("x * y", a * b)
        book.show("x / y", a / b)
        // x ** y elementwise (the toolkit's pow takes one exponent: here each element its own).
        book.show("x ** y", Tensor(zip(a.scalars, b.scalars).map { Foundation.pow($0, $1) }))
        book.show("exp(x)", a.exp())

        // Concatenation along rows (axis 0) and columns (axis 1).
        let X2 = Tensor.arange(12).reshaped([3, 4])
        let Y = Tensor([[2.0, 1, 4, 3], [1, 2, 3, 4], [4, 3, 2, 1]])
        let rows = Tensor.concat([X2, Y], axis: 0), columns = Tensor.concat([X2, Y], axis: 1)
        book.show("concat([X, Y], axis: 0)", rows, decimals: 1)
        book.show("concat([X, Y], axis: 1)", columns, decimals: 1)
        book.check(rows.shape == [6, 4] && columns.shape == [3, 8], "concatenation gives [6, 4] and [3, 8]")
        let equal = X2 .== Y
        book.show("X == Y", equal, decimals: 0)
        book.check(equal.sum().item == 2, "X and Y agree in two places")
        book.show("X.sum()", X2.sum(), decimals: 1)
        book.check(X2.sum().item == 66, "0 + 1 + … + 11 = 66")

        // Broadcasting: [3, 1] + [1, 2] copies both to [3, 2].
        let a31 = Tensor.arange(3).reshaped([3, 1]), b12 = Tensor.arange(2).reshaped([1, 2])
        book.show("a", a31, decimals: 0)
        book.show("b", b12, decimals: 0)
        let sum = a31 + b12
        book.show("a + b", sum, decimals: 0)
        book.check(sum.shape == [3, 2] && sum.scalars == [0, 1, 1, 2, 2, 3], "broadcasting [3, 1] + [1, 2] gives [[0, 1], [1, 2], [2, 3]]")

        // Indexing and slicing: the last row, rows 1 and 2.
        book.show("X[-1]", X2[-1], decimals: 1)
        book.show("X[1..<3]", X2[1..<3], decimals: 1)
        var Xw = X2
        Xw[.at(1), .at(2)] = Tensor(9)       // X[1, 2] = 9
        book.show("X after X[1, 2] = 9", Xw, decimals: 1)
        Xw[.range(0..<2), .all] = Tensor(12) // X[0:2, :] = 12
        book.show("X after X[0:2, :] = 12", Xw, decimals: 1)
        book.check(Xw[.at(1), .at(2)].item == 12 && Xw[.at(2), .at(0)].item == 8, "writing a region changes only that region")

        // Saving memory: Swift tensors are values; writing into a region of Z
        // (Z[:] = X + Y) fills Z's storage, and X += Y replaces X with the sum.
        var Z = Tensor.zeros(like: Y)
        Z[.all] = X2 + Y
        var Xs = X2
        Xs += Y
        book.check(Z.scalars == Xs.scalars, "Z[:] = X + Y and X += Y give the same values")
        book.check(X2[.at(0), .at(0)].item == 0, "a copy taken before an update keeps the old values")

        // Conversion to other objects: a Swift array and back, a scalar.
        let array: [Float] = Xs.scalars
        let back = Tensor(array, shape: [3, 4])
        print("type(A), type(B) = \(type(of: array)), \(type(of: back))")
        let scalar = Tensor([3.5])
        print("a, a.item, Float(a), Int(a) = \(bookFormat(scalar)), \(scalar.item), \(Float(scalar.item)), \(Int(scalar.item))")
    }
}
