import D2L

/// 5.1 Layers and Blocks: a `Sequential` MLP, the same MLP as a `Module` subclass, a
/// hand-written `MySequential`, a block with a constant (untrained) weight and control
/// flow in `forward`, and blocks nested in blocks.
enum LayersAndBlocks {
    static let section = BookSection(name: "layers-and-blocks", number: "5.1", title: "Layers and Blocks", run: run)

    /// The book's `MLP`: the layers are registered in the initialiser, `forward` uses them.
    final class MLP: Module {
        let hidden: Linear, out: Linear
        override init() {
            hidden = Linear(20, 256)  // the hidden layer
            out = Linear(256, 10)     // the output layer
            super.init()
            registerModule("hidden", hidden)
            registerModule("out", out)
        }
        override func forward(_ x: Tensor) throws -> Tensor { try out(try hidden(x).relu()) }
    }

    /// The book's `MySequential`: each block registered under its position, run in order.
    final class MySequential: Module {
        init(_ blocks: Module...) {
            super.init()
            for (idx, block) in blocks.enumerated() { registerModule(String(idx), block) }
        }
        override func forward(_ x: Tensor) throws -> Tensor {
            var x = x
            for (_, block) in children { x = try block(x) }  // in the order they were added
            return x
        }
    }

    /// The book's `FixedHiddenMLP`: a constant random weight (not a parameter, never
    /// trained), the same linear layer used twice, and a while loop in `forward`.
    final class FixedHiddenMLP: Module {
        let randWeight: Tensor
        let linear = Linear(20, 20)
        override init() {
            randWeight = Tensor.rand([20, 20])  // no gradient: a constant
            super.init()
            registerModule("linear", linear)
        }
        override func forward(_ input: Tensor) throws -> Tensor {
            var x = try linear(input)
            x = (x.matmul(randWeight) + 1).relu()  // the constant weight
            x = try linear(x)                       // the same layer again: shared parameters
            while x.abs().sum().item > 1 { x = x / 2 }  // control flow
            return x.sum()
        }
    }

    /// The book's `NestMLP`: a `Sequential` and a `Linear` inside one block.
    final class NestMLP: Module {
        let net = Sequential(Linear(20, 64), ReLU(), Linear(64, 32), ReLU())
        let linear = Linear(32, 16)
        override init() {
            super.init()
            registerModule("net", net)
            registerModule("linear", linear)
        }
        override func forward(_ x: Tensor) throws -> Tensor { try linear(try net(x)) }
    }

    static func listing(_ module: Module) -> String {
        module.namedParameters().map { "\($0.name) \(shapeText($0.parameter.shape))" }.joined(separator: ", ")
    }

    static func run(_ book: BookContext) throws {
        Random.seed(42)
        let X = Tensor.rand([2, 20])

        // A Sequential MLP: 20 inputs, 256 hidden units with ReLU, 10 outputs.
        let net = Sequential(Linear(20, 256), ReLU(), Linear(256, 10))
        let y = try net(X)
        print("net(X).shape = \(shapeText(y.shape))")
        book.check(y.shape == [2, 10], "the Sequential MLP maps [2, 20] to [2, 10]")

        // A custom block.
        let mlp = MLP()
        print("MLP parameters: \(listing(mlp))")
        let yMLP = try mlp(X)
        print("MLP()(X).shape = \(shapeText(yMLP.shape))")
        book.check(yMLP.shape == [2, 10] && mlp.parameters().count == 4, "MLP: output [2, 10], 4 parameters")

        // The Sequential block, by hand.
        let mySeq = MySequential(Linear(20, 256), ReLU(), Linear(256, 10))
        print("MySequential parameters: \(listing(mySeq))")
        let ySeq = try mySeq(X)
        print("MySequential(...)(X).shape = \(shapeText(ySeq.shape))")
        // The same layers in the toolkit's Sequential compute the same function.
        let sameLayers = Sequential(mySeq.children.map(\.module))
        book.check(try sameLayers(X).scalars == ySeq.scalars, "MySequential computes what Sequential computes with its layers")

        // Executing code in forward: a constant weight and a while loop.
        let fixed = FixedHiddenMLP()
        print("FixedHiddenMLP parameters: \(listing(fixed))")
        let yFixed = try fixed(X)
        print("FixedHiddenMLP()(X).shape = \(shapeText(yFixed.shape))")
        book.show("FixedHiddenMLP()(X)", yFixed)
        book.check(fixed.namedParameters().map(\.name) == ["linear.weight", "linear.bias"],
                   "FixedHiddenMLP's parameters are the linear layer's only (the constant weight is not one)")
        book.check(yFixed.shape == [] && Swift.abs(yFixed.item) <= 1, "FixedHiddenMLP's output is a scalar with |x| ≤ 1 (the while loop)")
        let constantBefore = fixed.randWeight.scalars
        let sgd = SGD(fixed.parameters(), learningRate: 0.1)
        try fixed(X).backward()
        sgd.step()
        book.check(fixed.randWeight.scalars == constantBefore && fixed.linear.weight.grad != nil,
                   "a training step changes the linear layer, not the constant weight")

        // Mixing and nesting blocks.
        let chimera = Sequential(NestMLP(), Linear(16, 20), FixedHiddenMLP())
        print("chimera parameters: \(listing(chimera))")
        let yChimera = try chimera(X)
        print("chimera(X).shape = \(shapeText(yChimera.shape))")
        book.show("chimera(X)", yChimera)
        book.check(yChimera.shape == [] && chimera.parameters().count == 10, "chimera: a scalar output, 10 parameters")
    }
}
