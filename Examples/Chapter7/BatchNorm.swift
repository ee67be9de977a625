import D2L

/// 7.5 Batch Normalization: the book's `batch_norm` function and `BatchNorm` layer
/// from scratch (moving mean and variance), LeNet with batch normalisation trained with
/// it, and the same network with the framework's BatchNorm layers.
enum BatchNormalization {
    static let section = BookSection(name: "batch-norm", number: "7.5", title: "Batch Normalization", run: run)

    /// The book's `batch_norm`: in training, X̂ = (X − μ) / √(σ² + ε) with the minibatch
    /// mean μ and (biased) variance σ² (per feature of `[N, C]`, per channel of
    /// `[N, C, H, W]`), and the moving statistics move towards them by 1 − `momentum`; in
    /// prediction the moving statistics normalise. Returns γ·X̂ + β and the new moving
    /// statistics. (The book tests `torch.is_grad_enabled()` for the mode; here the
    /// caller passes it.)
    static func batchNorm(_ X: Tensor, gamma: Tensor, beta: Tensor, movingMean: Tensor, movingVar: Tensor,
                          eps: Float, momentum: Float, training: Bool) -> (Y: Tensor, movingMean: Tensor, movingVar: Tensor) {
        precondition(X.rank == 2 || X.rank == 4, "batchNorm: X must be [N, C] or [N, C, H, W], got \(X.shape)")
        guard training else {
            // Prediction mode: the moving mean and variance.
            let XHat = (X - movingMean) / (movingVar + eps).sqrt()
            return (gamma * XHat + beta, movingMean, movingVar)
        }
        // Fully connected: the mean and variance of each feature (axis 0); convolutional:
        // of each channel (axes 0, 2, 3), kept as [1, C, 1, 1] to broadcast.
        let axes = X.rank == 2 ? [0] : [0, 2, 3]
        let mean = X.mean(alongAxes: axes, keepDims: true)
        let variance = (X - mean).squared().mean(alongAxes: axes, keepDims: true)
        let XHat = (X - mean) / (variance + eps).sqrt()
        // Update the moving mean and variance (no gradients flow into them).
        let newMean = momentum * movingMean + (1 - momentum) * mean.detached()
        let newVar = momentum * movingVar + (1 - momentum) * variance.detached()
        return (gamma * XHat + beta, newMean, newVar)
    }

    /// The book's `BatchNorm` layer: `numFeatures` outputs of a fully connected layer
    /// (`numDims` 2) or channels of a convolutional one (4); scale γ (1) and shift β (0)
    /// are trained, the moving mean (0) and variance (1) are not.
    final class BatchNorm: Module {
        let gamma: Parameter
        let beta: Parameter
        var movingMean: Tensor
        var movingVar: Tensor

        init(_ numFeatures: Int, numDims: Int) {
            let shape = numDims == 2 ? [1, numFeatures] : [1, numFeatures, 1, 1]
            gamma = Parameter(Tensor.ones(shape))
            beta = Parameter(Tensor.zeros(shape))
            movingMean = Tensor.zeros(shape)
            movingVar = Tensor.ones(shape)
            super.init()
            registerExisting("gamma", gamma)
            registerExisting("beta", beta)
        }

        override func forward(_ X: Tensor) throws -> Tensor {
            let (Y, mean, variance) = BatchNormalization.batchNorm(
                X, gamma: gamma.value, beta: beta.value, movingMean: movingMean, movingVar: movingVar,
                eps: 1e-5, momentum: 0.9, training: isTraining)
            movingMean = mean
            movingVar = variance
            return Y
        }
    }

    static func run(_ book: BookContext) throws {
        Random.seed(75)
        // batch_norm on a fixed minibatch of two 3-channel 2×2 images, in training mode.
        let X = Tensor.arange(24).reshaped([2, 3, 2, 2]).sqrt()
        let (Y, movingMean, movingVar) = batchNorm(
            X, gamma: Tensor.ones([1, 3, 1, 1]), beta: Tensor.zeros([1, 3, 1, 1]),
            movingMean: Tensor.zeros([1, 3, 1, 1]), movingVar: Tensor.ones([1, 3, 1, 1]),
            eps: 1e-5, momentum: 0.9, training: true)
        book.show("batch_norm(X).Y", Y)
        book.show("moving_mean", movingMean.reshaped([-1]))
        book.show("moving_var", movingVar.reshaped([-1]))
        let channelMeans = Y.mean(alongAxes: [0, 2, 3]), channelVars = Y.squared().mean(alongAxes: [0, 2, 3])
        book.check(channelMeans.abs().max().item < 1e-5 && (channelVars - 1).abs().max().item < 1e-3,
                   "every channel of Y has mean 0 and variance 1")
        // The framework's BatchNorm2d normalises the same way (its running variance is the unbiased one).
        let framework = try BatchNorm2d(3)(X)
        book.check((framework - Y).abs().max().item < 1e-5, "nn.BatchNorm2d gives the same Y in training mode")

        // LeNet with the from-scratch BatchNorm after each convolution and fully connected layer.
        var net = Sequential(
            Conv2d(inputChannels: 1, outputChannels: 6, kernelSize: 5), BatchNorm(6, numDims: 4), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2),
            Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5), BatchNorm(16, numDims: 4), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2), Flatten(),
            Linear(16 * 4 * 4, 120), BatchNorm(120, numDims: 2), Sigmoid(),
            Linear(120, 84), BatchNorm(84, numDims: 2), Sigmoid(),
            Linear(84, 10))
        let lr: Float = 1.0, numEpochs = 10, batchSize = 256
        let quick = (train: 2000, test: 500, epochs: 1, batchSize: 64)
        var trainer = try trainCh6(book, net, numEpochs: numEpochs, lr: lr, batchSize: batchSize,
                                   figure: "curves-scratch", quick: quick)
        book.check(trainer.lossFell, "from scratch: the minibatch loss falls (last quarter below the first)")
        // The scale and shift learned by the first batch normalisation layer.
        let bn = net[1] as! BatchNorm
        book.show("net[1].gamma", bn.gamma.value.detached().reshaped([-1]))
        book.show("net[1].beta", bn.beta.value.detached().reshaped([-1]))
        book.check(bn.gamma.value.scalars != [Float](repeating: 1, count: 6) && bn.movingMean.abs().sum().item > 0,
                   "training moved γ away from 1 and the moving mean away from 0")

        // Concise implementation: the framework's BatchNorm2d and BatchNorm1d.
        net = Sequential(
            Conv2d(inputChannels: 1, outputChannels: 6, kernelSize: 5), BatchNorm2d(6), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2),
            Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5), BatchNorm2d(16), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2), Flatten(),
            Linear(256, 120), BatchNorm1d(120), Sigmoid(),
            Linear(120, 84), BatchNorm1d(84), Sigmoid(),
            Linear(84, 10))
        book.check(net.namedParameters().map(\.parameter.shape) == (try Models.lenetBN()).namedParameters().map(\.parameter.shape),
                   "the concise network is the toolkit's Models.lenetBN()")
        trainer = try trainCh6(book, net, numEpochs: numEpochs, lr: lr, batchSize: batchSize,
                               figure: "curves-concise", quick: quick)
        book.check(trainer.lossFell, "concise: the minibatch loss falls (last quarter below the first)")
        if !book.quick {  // with batch normalisation at lr 1.0 the test accuracy jumps between epochs
            book.check(trainer.history.map(\.testAccuracy).max()! > 0.8,
                       "the best epoch's test accuracy is above 0.8 (the book's last epochs: 0.79 to 0.85)")
        }
    }
}
