import D2L

/// 6.2 Convolutions for Images: the cross-correlation operation from scratch, a
/// convolutional layer built on it, detecting the edges of an image, and learning the
/// edge-detecting kernel from the input and output.
enum ConvLayer {
    static let section = BookSection(name: "conv-layer", number: "6.2",
                                     title: "Convolutions for Images", run: run)

    /// The book's `Conv2D`: a kernel `weight` (uniform in [0, 1)) and a scalar `bias`;
    /// forward = corr2d(x, weight) + bias.
    final class Conv2D: Module {
        let weight: Parameter
        let bias: Parameter

        init(kernelSize: (Int, Int)) {
            weight = Parameter(Tensor.rand([kernelSize.0, kernelSize.1]))
            bias = Parameter(Tensor.zeros([1]))
            super.init()
            registerExisting("weight", weight)
            registerExisting("bias", bias)
        }

        override func forward(_ x: Tensor) throws -> Tensor {
            corr2d(x, weight.value) + bias.value
        }
    }

    static func run(_ book: BookContext) throws {
        Random.seed(42)

        // The cross-correlation operation.
        var X = Tensor([[0, 1, 2], [3, 4, 5], [6, 7, 8]])
        var K = Tensor([[0, 1], [2, 3]])
        let product = corr2d(X, K)
        book.show("corr2d(X, K)", product)
        book.check(product.scalars == [19, 25, 37, 43], "corr2d(X, K) is [[19, 25], [37, 43]]")

        // Object edge detection in images: a 6×8 image, black (0) in columns 2 to 5.
        X = Tensor.ones([6, 8])
        X[.all, .range(2..<6)] = Tensor(0)
        book.show("X", X)
        K = Tensor([[1, -1]])
        let Y = corr2d(X, K)
        book.show("Y", Y)  // 1 for the edge from white to black, −1 from black to white
        book.check(Y.shape == [6, 7] && Y[.all, .at(1)].scalars.allSatisfy { $0 == 1 }
                   && Y[.all, .at(5)].scalars.allSatisfy { $0 == -1 } && Y.abs().sum().item == 12,
                   "Y is 1 in column 1, −1 in column 5 and 0 elsewhere")
        let transposed = corr2d(X.T, K)
        book.show("corr2d(X.T, K)", transposed)  // the kernel only detects vertical edges
        book.check(transposed.abs().max().item == 0, "corr2d(X.T, K) is all zeros")

        // The convolutional layer from scratch, with the edge detector as its kernel.
        let scratch = Conv2D(kernelSize: (1, 2))
        scratch.weight.assign(K)
        let scratchY = try scratch(X)
        book.check(scratchY.scalars == Y.scalars, "Conv2D with kernel [[1, −1]] and bias 0 gives Y")

        // Learning a kernel: a 1-channel convolution (PyTorch's initialisation) learned from X and Y
        // by gradient descent on the squared error.
        let conv2d = Conv2d(inputChannels: 1, outputChannels: 1, kernelSize: (1, 2), bias: false)
        X = X.reshaped([1, 1, 6, 8])
        let target = Y.reshaped([1, 1, 6, 7])
        let lr: Float = 3e-2
        var losses: [Float] = []
        for i in 0..<10 {
            let YHat = try conv2d(X)
            let l = (YHat - target).squared()
            conv2d.zeroGrad()
            l.sum().backward()
            // The update: weight −= lr · grad.
            let grad = conv2d.weight.grad!.scalars
            conv2d.weight.update { w in for k in w.indices { w[k] -= lr * grad[k] } }
            losses.append(l.sum().item)
            if (i + 1) % 2 == 0 { print("epoch \(i + 1), loss \(formatNumber(l.sum().item, decimals: 3))") }
        }
        let learned = conv2d.weight.value.detached().reshaped([1, 2])
        book.show("conv2d.weight", learned)
        book.check(losses.last! < losses.first!, "the loss falls")
        book.check((learned - K).abs().max().item < 0.05, "the learned kernel is within 0.05 of [[1, −1]]")
    }
}
