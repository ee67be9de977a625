import D2L

/// 5.2 Parameter Management: reading parameters (`state_dict`, `named_parameters`, nested
/// blocks), built-in and custom initialisation, and parameters shared between layers.
enum Parameters {
    static let section = BookSection(name: "parameters", number: "5.2", title: "Parameter Management", run: run)

    /// `name [shape]` items on one line, comma-separated.
    static func listing(_ entries: [(name: String, shape: [Int])]) -> String {
        entries.map { "\($0.name) \(shapeText($0.shape))" }.joined(separator: ", ")
    }

    /// The book's `block2`: four `block1`s registered as `block 0` … `block 3`.
    final class Block2: Module {
        override init() {
            super.init()
            for i in 0..<4 { registerModule("block \(i)", block1()) }
        }
        override func forward(_ input: Tensor) throws -> Tensor {
            var x = input
            for (_, block) in children { x = try block(x) }
            return x
        }
    }

    /// The book's `block1`.
    static func block1() -> Sequential { Sequential(Linear(4, 8), ReLU(), Linear(8, 4), ReLU()) }

    static func run(_ book: BookContext) throws {
        Random.seed(42)
        let net = Sequential(Linear(4, 8), ReLU(), Linear(8, 1))
        let X = Tensor.rand([2, 4])
        print("net(X).shape = \(shapeText(try net(X).shape))")

        // Parameter access: one layer's state dictionary, its bias, its (absent) gradient.
        let layer2 = linearLayer(net, 2)
        print("net[2].stateDict() keys: " + layer2.stateDict().map(\.name).joined(separator: ", "))
        book.show("net[2].bias", layer2.bias!.value)
        print("net[2].weight.grad == nil: \(layer2.weight.grad == nil)")
        book.check(layer2.weight.grad == nil, "no gradient before backpropagation")

        // All parameters at once.
        print("net[0].namedParameters(): " + listing(net[0].namedParameters().map { ($0.name, $0.parameter.shape) }))
        print("net.namedParameters(): " + listing(net.namedParameters().map { ($0.name, $0.parameter.shape) }))
        let bias2 = net.stateDict().first { $0.name == "2.bias" }!.value
        book.show("net.stateDict()[\"2.bias\"]", bias2)
        book.check(bias2.scalars == layer2.bias!.value.scalars, "the state dictionary's 2.bias is net[2].bias")

        // Collecting parameters from nested blocks.
        let rgnet = Sequential(Block2(), Linear(4, 1))
        print("rgnet(X).shape = \(shapeText(try rgnet(X).shape))")
        print(moduleDescription(rgnet))
        let nested = ((rgnet[0].children[1].module as! Sequential)[0] as! Linear).bias!.value
        book.show("rgnet[0][1][0].bias", nested)
        let nestedKey = rgnet.namedParameters().first { $0.name == "0.block 1.0.bias" }
        book.check(nestedKey.map { $0.parameter.value.scalars == nested.scalars } ?? false,
                   "rgnet's parameter \"0.block 1.0.bias\" is rgnet[0][1][0].bias")

        // Built-in initialisation: N(0, 0.01²) weights and zero biases.
        net.apply { m in
            if let linear = m as? Linear {
                Initializer.normal(mean: 0, std: 0.01).apply(to: linear.weight)
                Initializer.zeros.apply(to: linear.bias!)
            }
        }
        let layer0 = linearLayer(net, 0)
        book.show("net[0].weight.data[0]", layer0.weight.value[0])
        book.show("net[0].bias.data[0]", layer0.bias!.value[0])
        book.check(layer0.weight.value.abs().max().item < 0.06 && layer0.bias!.value.abs().max().item == 0,
                   "init_normal: weights within 6 standard deviations of 0 (σ = 0.01), biases 0")

        // Constant initialisation.
        net.apply { m in
            if let linear = m as? Linear {
                Initializer.constant(1).apply(to: linear.weight)
                Initializer.zeros.apply(to: linear.bias!)
            }
        }
        book.show("net[0].weight.data[0] (constant)", layer0.weight.value[0])
        book.show("net[0].bias.data[0] (constant)", layer0.bias!.value[0])
        book.check(layer0.weight.value.scalars.allSatisfy { $0 == 1 }, "init_constant: every weight is 1")

        // Different initialisers for different blocks: Xavier for the first layer, 42 for the last.
        net[0].apply { m in if let linear = m as? Linear { Initializer.xavierUniform().apply(to: linear.weight) } }
        net[2].apply { m in if let linear = m as? Linear { Initializer.constant(42).apply(to: linear.weight) } }
        book.show("net[0].weight.data[0] (xavier)", layer0.weight.value[0])
        book.show("net[2].weight.data", layer2.weight.value)
        let xavierBound = (6.0 / Float(4 + 8)).squareRoot()
        book.check(layer0.weight.value.abs().max().item <= xavierBound && layer0.weight.value.abs().max().item > xavierBound / 4,
                   "xavier_uniform: the weights lie in ±√(6 / (4 + 8))")
        book.check(layer2.weight.value.scalars.allSatisfy { $0 == 42 }, "init_42: every weight of net[2] is 42")

        // Custom initialisation: U(−10, 10), then zero where |w| < 5.
        func myInit(_ m: Module) {
            guard let linear = m as? Linear else { return }
            let first = linear.namedParameters()[0]
            print("Init \(first.name) \(shapeText(first.parameter.shape))")
            Initializer.uniform(low: -10, high: 10).apply(to: linear.weight)
            let w = linear.weight.value.detached()
            linear.weight.assign(w * (w.abs() .>= Tensor(5)))
        }
        net.apply(myInit)
        book.show("net[0].weight[:2]", layer0.weight.value[0..<2])
        let allWeights = layer0.weight.value.scalars + layer2.weight.value.scalars
        book.check(allWeights.allSatisfy { $0 == 0 || Swift.abs($0) >= 5 }, "my_init: every weight is 0 or |w| ≥ 5")
        book.check(allWeights.contains { $0 != 0 } && allWeights.contains { $0 == 0 }, "my_init: some weights are kept, some zeroed")

        // Setting parameters directly.
        let before = layer0.weight.value.detached()
        layer0.weight.update { w in
            for i in w.indices { w[i] += 1 }
            w[0] = 42
        }
        book.show("net[0].weight.data[0] (+1, then [0, 0] = 42)", layer0.weight.value[0])
        let after = layer0.weight.value.scalars
        book.check(after[0] == 42 && zip(after.dropFirst(), before.scalars.dropFirst()).allSatisfy { $0 == $1 + 1 },
                   "weight[0, 0] is 42 and every other weight grew by 1")

        // Tied parameters: the same layer twice.
        let shared = Linear(8, 8)
        let tied = Sequential(Linear(4, 8), ReLU(), shared, ReLU(), shared, ReLU(), Linear(8, 1))
        _ = try tied(X)
        let tied2 = linearLayer(tied, 2), tied4 = linearLayer(tied, 4)
        book.show("net[2].weight.data[0] == net[4].weight.data[0]", tied2.weight.value[0] .== tied4.weight.value[0])
        tied2.weight.update { $0[0] = 100 }
        book.show("after net[2].weight.data[0, 0] = 100: net[2].weight.data[0] == net[4].weight.data[0]",
                  tied2.weight.value[0] .== tied4.weight.value[0])
        book.check(tied2.weight === tied4.weight, "net[2].weight and net[4].weight are the same parameter object")
        book.check(tied4.weight.value.scalars[0] == 100, "setting net[2].weight[0, 0] = 100 changes net[4].weight")

        // One parameter for the optimizer, two keys in the state dictionary (as PyTorch).
        print("net.namedParameters(): " + listing(tied.namedParameters().map { ($0.name, $0.parameter.shape) }))
        print("net.stateDict() keys: " + tied.stateDict().map(\.name).joined(separator: ", "))
        book.check(tied.parameters().count == 6 && tied.stateDict().count == 8,
                   "the shared layer is listed once by namedParameters() (6 parameters) and twice by stateDict() (8 keys)")

        // Backpropagation adds the gradients of both uses: compare with two separate copies.
        let first = Linear(8, 8), second = Linear(8, 8)
        try first.loadStateDict(shared.stateDict())
        try second.loadStateDict(shared.stateDict())
        let untied = Sequential(tied[0], ReLU(), first, ReLU(), second, ReLU(), tied[6])
        try untied(X).sum().backward()
        let sumOfUses = first.weight.grad! + second.weight.grad!
        tied.zeroGrad()
        try tied(X).sum().backward()
        let sharedGrad = shared.weight.grad!
        book.check((sharedGrad - sumOfUses).abs().max().item < 1e-5,
                   "the shared weight's gradient is the sum of its two uses' gradients")
        let weightBefore = shared.weight.value.detached()
        let lr: Float = 0.1
        SGD(tied.parameters(), learningRate: lr).step()
        let change = shared.weight.value.detached() - weightBefore
        book.check((change + lr * sharedGrad).abs().max().item < 1e-6 && sharedGrad.abs().max().item > 0,
                   "one SGD step moves the shared weight once, by −lr · its gradient")
    }
}
