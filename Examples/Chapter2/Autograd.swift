import D2L

/// 2.5 Automatic Differentiation: the gradient of y = 2xᵀx, of a sum, of a non-scalar
/// (through its sum), detaching part of a computation, and the gradient of a function
/// with Swift control flow.
enum Autograd {
    static let section = BookSection(name: "autograd", number: "2.5", title: "Automatic Differentiation", run: run)

    /// The book's `f(a)`: doubles until the norm reaches 1000, then keeps or scales by 100.
    static func f(_ a: Tensor) -> Tensor {
        var b = a * 2
        while b.norm().item < 1000 { b = b * 2 }
        let c = b.sum().item > 0 ? b : 100 * b
        return c
    }

    static func run(_ book: BookContext) throws {
        // A simple example: y = 2 xᵀx for x = [0, 1, 2, 3]; its gradient is 4x.
        let x = Tensor.arange(4).requiringGrad()
        print("x.grad = \(x.grad.map { bookFormat($0) } ?? "nil")")
        let y = 2 * x.dot(x)
        book.show("y", y, decimals: 1)
        y.backward()
        book.show("x.grad", x.grad!, decimals: 1)
        let matches = x.grad! .== 4 * x.detached()
        book.show("x.grad == 4 * x", matches, decimals: 0)
        book.check(matches.min().item == 1, "the gradient of 2xᵀx is 4x")

        // Another function of x: the sum, whose gradient is all ones (clear the old gradient first).
        x.zeroGrad()
        x.sum().backward()
        book.show("x.grad", x.grad!, decimals: 1)
        book.check(x.grad!.scalars == [1, 1, 1, 1], "the gradient of x.sum() is ones")

        // Backward for non-scalar variables: y = x * x, backward of y.sum().
        x.zeroGrad()
        let ySquare = x * x
        ySquare.sum().backward()
        book.show("x.grad", x.grad!, decimals: 1)
        book.check(x.grad!.scalars == [0, 2, 4, 6], "the gradient of Σ xᵢ² is 2x")

        // Detaching computation: u = y.detach() is a constant, so z = u * x has gradient u.
        x.zeroGrad()
        let yAgain = x * x
        let u = yAgain.detached()
        let z = u * x
        z.sum().backward()
        let gradIsU = x.grad! .== u
        book.show("x.grad == u", gradIsU, decimals: 0)
        book.check(gradIsU.min().item == 1, "with u detached, the gradient of Σ u·x is u")
        x.zeroGrad()
        yAgain.sum().backward()
        let gradIsTwoX = x.grad! .== 2 * x.detached()
        book.show("x.grad == 2 * x", gradIsTwoX, decimals: 0)
        book.check(gradIsTwoX.min().item == 1, "y itself still carries its graph: its gradient is 2x")

        // Computing the gradient of Swift control flow: f is linear in a piecewise, so f(a) = k·a and grad = d / a.
        var generator = SeededGenerator(seed: 42)
        let a = Tensor.randn([], using: &generator).requiringGrad()
        let d = f(a)
        d.backward()
        print("a = \(bookFormat(a.detached())), d = f(a) = \(bookFormat(d.detached())), a.grad = \(bookFormat(a.grad!))")
        let expected = d.detached() / a.detached()
        book.show("a.grad == d / a", a.grad! .== expected, decimals: 0)
        book.check(abs(a.grad!.item - expected.item) <= 1e-6 * abs(expected.item), "the gradient of f at a is d / a")
    }
}
