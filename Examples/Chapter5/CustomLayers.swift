import D2L

/// 5.4 Custom Layers: a layer without parameters (`CenteredLayer`: X − mean(X)) and one
/// with its own (`MyLinear`: ReLU(X·W + b)), used alone and in a `Sequential`.
enum CustomLayers {
    static let section = BookSection(name: "custom-layers", number: "5.4", title: "Custom Layers", run: run)

    /// Subtracts the mean: no parameters.
    final class CenteredLayer: Module {
        override init() { super.init() }
        override func forward(_ x: Tensor) throws -> Tensor { x - x.mean() }
    }

    /// A fully connected layer with ReLU, its weight [inUnits, units] and bias [units] ~ N(0, 1).
    final class MyLinear: Module {
        let weight: Parameter, bias: Parameter
        init(_ inUnits: Int, _ units: Int) {
            weight = Parameter(Tensor.randn([inUnits, units]))
            bias = Parameter(Tensor.randn([units]))
            super.init()
            registerExisting("weight", weight)
            registerExisting("bias", bias)
        }
        override func forward(_ x: Tensor) throws -> Tensor { (x.matmul(weight.value) + bias.value).relu() }
    }

    static func run(_ book: BookContext) throws {
        Random.seed(42)

        // Layers without parameters.
        let layer = CenteredLayer()
        let centered = try layer(Tensor([1, 2, 3, 4, 5]))
        book.show("layer([1, 2, 3, 4, 5])", centered)
        book.check(centered.scalars == [-2, -1, 0, 1, 2], "CenteredLayer subtracts the mean 3")
        let net = Sequential(Linear(8, 128), CenteredLayer())
        let Y = try net(Tensor.rand([4, 8]))
        print("Sequential(Linear(8, 128), CenteredLayer())(rand(4, 8)).shape = \(shapeText(Y.shape))")
        book.show("Y.mean()", Y.mean(), decimals: 6)
        book.check(Swift.abs(Y.mean().item) < 1e-5 && Y.abs().max().item > 1e-3,
                   "the centred output has mean 0 (|mean| < 1e-5) and is not all zeros")

        // Layers with parameters.
        let linear = MyLinear(5, 3)
        print("MyLinear(5, 3) parameters: " + linear.namedParameters().map { "\($0.name) \(shapeText($0.parameter.shape))" }
            .joined(separator: ", "))
        book.show("linear.weight", linear.weight.value)
        let x = Tensor.rand([2, 5])
        let out = try linear(x)
        print("linear(rand(2, 5)).shape = \(shapeText(out.shape))")
        book.show("linear(rand(2, 5))", out)
        book.check(out.min().item >= 0, "MyLinear's outputs are ReLU outputs (≥ 0)")
        out.sum().backward()
        book.check(linear.weight.grad?.shape == [5, 3] && linear.bias.grad?.shape == [3],
                   "MyLinear's weight and bias get gradients of their shapes")
        let net2 = Sequential(MyLinear(64, 8), MyLinear(8, 1))
        let y2 = try net2(Tensor.rand([2, 64]))
        print("Sequential(MyLinear(64, 8), MyLinear(8, 1))(rand(2, 64)).shape = \(shapeText(y2.shape))")
        book.show("net(rand(2, 64))", y2)
        book.check(y2.shape == [2, 1] && net2.parameters().count == 4, "two MyLinear layers in a Sequential: [2, 1], 4 parameters")
    }
}
