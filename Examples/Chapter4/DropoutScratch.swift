import D2L

/// 4.6 Dropout (from scratch): `dropout_layer` by hand, and the book's `Net` with two
/// hidden layers of 256 units, dropout 0.2 after the first and 0.5 after the second,
/// applied in training mode only.
enum DropoutScratch {
    static let section = BookSection(name: "dropout-scratch", number: "4.6", title: "Dropout (from scratch)", run: run)

    /// Zeroes each element with probability `dropout` and scales the survivors by
    /// 1 / (1 − dropout), so that the expectation is unchanged.
    static func dropoutLayer(_ X: Tensor, _ dropout: Float) throws -> Tensor {
        guard dropout >= 0 && dropout <= 1 else {
            throw ToolkitError(.invalidArgument, "dropout_layer: dropout must be in [0, 1], got \(dropout)")
        }
        if dropout == 1 { return Tensor.zeros(like: X) }  // every element is dropped
        if dropout == 0 { return X }                        // every element is kept
        let mask = Tensor.rand(X.shape) .> Tensor(dropout)
        return mask * X / (1 - dropout)
    }

    static let numInputs = 784, numOutputs = 10, numHiddens1 = 256, numHiddens2 = 256
    static let dropout1: Float = 0.2, dropout2: Float = 0.5

    /// The book's `Net`: dropout after each hidden layer, only while training.
    final class Net: Module {
        let lin1: Linear, lin2: Linear, lin3: Linear
        let relu = ReLU()
        init(_ numInputs: Int, _ numOutputs: Int, _ numHiddens1: Int, _ numHiddens2: Int) {
            lin1 = Linear(numInputs, numHiddens1)
            lin2 = Linear(numHiddens1, numHiddens2)
            lin3 = Linear(numHiddens2, numOutputs)
            super.init()
            registerModule("lin1", lin1)
            registerModule("lin2", lin2)
            registerModule("lin3", lin3)
            registerModule("relu", relu)
        }
        override func forward(_ X: Tensor) throws -> Tensor {
            var H1 = try relu(try lin1(X.reshaped([-1, lin1.inFeatures])))
            if isTraining { H1 = try dropoutLayer(H1, dropout1) }  // dropout only when training
            var H2 = try relu(try lin2(H1))
            if isTraining { H2 = try dropoutLayer(H2, dropout2) }
            return try lin3(H2)
        }
    }

    static func run(_ book: BookContext) throws {
        Random.seed(42)
        // dropout_layer on X = arange(16) as [2, 8] with p = 0, 0.5 and 1.
        let X = Tensor.arange(16).reshaped([2, 8])
        let (d0, dHalf, d1) = (try dropoutLayer(X, 0), try dropoutLayer(X, 0.5), try dropoutLayer(X, 1))
        book.show("dropout_layer(X, 0.0)", d0)
        book.show("dropout_layer(X, 0.5)", dHalf)
        book.show("dropout_layer(X, 1.0)", d1)
        book.check(d0.scalars == X.scalars, "p = 0 returns X")
        book.check(d1.scalars.allSatisfy { $0 == 0 }, "p = 1 returns zeros")
        book.check(zip(dHalf.scalars, X.scalars).allSatisfy { $0 == 0 || $0 == 2 * $1 }, "p = 0.5: every entry is 0 or 2·X")
        let kept = try dropoutLayer(Tensor.ones([10_000]), 0.5).scalars.filter { $0 != 0 }.count
        print("p = 0.5 keeps \(kept) of 10000 ones")
        book.check(kept > 4_700 && kept < 5_300, "p = 0.5 keeps about half the entries (4700 < kept < 5300)")

        // The model, and its modes: training drops at random, evaluation is deterministic.
        let net = Net(numInputs, numOutputs, numHiddens1, numHiddens2)
        let batch = try FashionMNIST.load(train: false, directory: book.dataDirectory).prefix(8)
        let (images, _) = try ImageBatches(batch, batchSize: 8, shuffle: false).makeIterator().next()!
        try checkModes(net, images, book)

        // Training: SGD with lr 0.5 (the toolkit's Trainer measures the test accuracy in evaluation mode).
        try DropoutConcise.trainAndCheck(net, book)
    }

    /// Two forward passes agree in evaluation mode and differ in training mode.
    static func checkModes(_ net: Module, _ images: Tensor, _ book: BookContext) throws {
        net.eval()
        let (e1, e2) = try withNoGrad { (try net(images), try net(images)) }
        net.train()
        let (t1, t2) = try withNoGrad { (try net(images), try net(images)) }
        book.check(e1.scalars == e2.scalars, "evaluation mode is deterministic: two forward passes are equal")
        book.check(t1.scalars != t2.scalars, "training mode is not: two forward passes differ (dropout)")
        book.check(e1.scalars != t1.scalars, "training mode's output differs from evaluation mode's")
    }
}
