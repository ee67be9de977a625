// The book's models up to chapter 7.3 (softmax regression, MLP, LeNet, AlexNet, VGG,
// NiN), as `nn.Sequential`s with the book's layer order, hence its state-dict keys.

extension Models {
    /// Softmax regression, concise (ch. 3.7): `Sequential(Flatten, Linear(inputs, classes))`.
    /// Keys `1.weight`, `1.bias`.
    public static func softmaxRegression(inputs: Int = 784, classes: Int = 10) -> Sequential {
        Sequential(Flatten(), Linear(inputs, classes))
    }

    /// The multilayer perceptron, concise (ch. 4.3):
    /// `Sequential(Flatten, Linear(inputs, hidden), ReLU, Linear(hidden, classes))`.
    public static func mlp(inputs: Int = 784, hidden: Int = 256, classes: Int = 10) -> Sequential {
        Sequential(Flatten(), Linear(inputs, hidden), ReLU(), Linear(hidden, classes))
    }

    /// LeNet-5 (ch. 6.6): sigmoid activations and average pooling, the first
    /// convolution padded by 2. `imageSize` 28 gives the book's `Linear(16 * 5 * 5, 120)`.
    public static func lenet(inChannels: Int = 1, imageSize: Int = 28, classes: Int = 10) throws -> Sequential {
        var s = try windowOutput(imageSize, kernel: 5, padding: 2, "lenet", imageSize: imageSize)
        s = try windowOutput(s, kernel: 2, stride: 2, "lenet", imageSize: imageSize)
        s = try windowOutput(s, kernel: 5, "lenet", imageSize: imageSize)
        s = try windowOutput(s, kernel: 2, stride: 2, "lenet", imageSize: imageSize)
        return Sequential(
            Conv2d(inputChannels: inChannels, outputChannels: 6, kernelSize: 5, padding: 2), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2),
            Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2),
            Flatten(),
            Linear(16 * s * s, 120), Sigmoid(),
            Linear(120, 84), Sigmoid(),
            Linear(84, classes))
    }

    /// LeNet with batch normalisation, concise (ch. 7.5): BatchNorm after every
    /// convolution and hidden linear layer, before the sigmoid. `imageSize` 28 gives the
    /// book's `Linear(256, 120)`.
    public static func lenetBN(inChannels: Int = 1, imageSize: Int = 28, classes: Int = 10) throws -> Sequential {
        var s = try windowOutput(imageSize, kernel: 5, "lenet-bn", imageSize: imageSize)
        s = try windowOutput(s, kernel: 2, stride: 2, "lenet-bn", imageSize: imageSize)
        s = try windowOutput(s, kernel: 5, "lenet-bn", imageSize: imageSize)
        s = try windowOutput(s, kernel: 2, stride: 2, "lenet-bn", imageSize: imageSize)
        return Sequential(
            Conv2d(inputChannels: inChannels, outputChannels: 6, kernelSize: 5), BatchNorm2d(6), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2),
            Conv2d(inputChannels: 6, outputChannels: 16, kernelSize: 5), BatchNorm2d(16), Sigmoid(),
            AvgPool2d(kernelSize: 2, stride: 2), Flatten(),
            Linear(16 * s * s, 120), BatchNorm1d(120), Sigmoid(),
            Linear(120, 84), BatchNorm1d(84), Sigmoid(),
            Linear(84, classes))
    }

    /// AlexNet (ch. 7.1) for one-channel 224×224 Fashion-MNIST images. The flatten size is
    /// computed for `imageSize` (the book's 6400 at 224).
    public static func alexnet(inChannels: Int = 1, classes: Int = 10, imageSize: Int = 224,
                               widthDivisor: Int = 1) throws -> Sequential {
        let m = "alexnet"
        func c(_ n: Int) throws -> Int { try divided(n, widthDivisor, m) }
        var s = try windowOutput(imageSize, kernel: 11, stride: 4, padding: 1, m, imageSize: imageSize)
        s = try windowOutput(s, kernel: 3, stride: 2, m, imageSize: imageSize)
        s = try windowOutput(s, kernel: 5, padding: 2, m, imageSize: imageSize)
        s = try windowOutput(s, kernel: 3, stride: 2, m, imageSize: imageSize)
        s = try windowOutput(s, kernel: 3, padding: 1, m, imageSize: imageSize)
        s = try windowOutput(s, kernel: 3, stride: 2, m, imageSize: imageSize)
        let flat = try c(256) * s * s
        return Sequential(
            Conv2d(inputChannels: inChannels, outputChannels: try c(96), kernelSize: 11, stride: 4, padding: 1), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(inputChannels: try c(96), outputChannels: try c(256), kernelSize: 5, padding: 2), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Conv2d(inputChannels: try c(256), outputChannels: try c(384), kernelSize: 3, padding: 1), ReLU(),
            Conv2d(inputChannels: try c(384), outputChannels: try c(384), kernelSize: 3, padding: 1), ReLU(),
            Conv2d(inputChannels: try c(384), outputChannels: try c(256), kernelSize: 3, padding: 1), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2),
            Flatten(),
            Linear(flat, try c(4096)), ReLU(), Dropout(0.5),
            Linear(try c(4096), try c(4096)), ReLU(), Dropout(0.5),
            Linear(try c(4096), classes))
    }

    /// One VGG block (ch. 7.2): `numConvs` 3×3 convolutions (padding 1) with ReLU, then a
    /// 2×2 max pool.
    public static func vggBlock(numConvs: Int, inChannels: Int, outChannels: Int) -> Sequential {
        let block = Sequential()
        var channels = inChannels
        for _ in 0..<numConvs {
            block.append(Conv2d(inputChannels: channels, outputChannels: outChannels, kernelSize: 3, padding: 1))
            block.append(ReLU())
            channels = outChannels
        }
        block.append(MaxPool2d(kernelSize: 2, stride: 2))
        return block
    }

    /// VGG-11's `conv_arch` (ch. 7.2): (number of convolutions, output channels) per block.
    public static let vgg11ConvArch: [(Int, Int)] = [(1, 64), (1, 128), (2, 256), (2, 512), (2, 512)]

    /// VGG (ch. 7.2) over `convArch`: the blocks, Flatten, then two `fc`-wide ReLU +
    /// Dropout layers and the classifier. The flatten size is computed for `imageSize`
    /// (`out_channels * 7 * 7` at 224: one halving per block).
    public static func vgg(convArch: [(Int, Int)], fc: Int = 4096, inChannels: Int = 1, classes: Int = 10,
                           imageSize: Int = 224) throws -> Sequential {
        guard !convArch.isEmpty, convArch.allSatisfy({ $0.0 >= 1 && $0.1 >= 1 }) else {
            throw ToolkitError(.invalidArgument, "vgg: every block needs at least one convolution and one channel, got \(convArch)")
        }
        var spatial = imageSize
        for _ in convArch { spatial = try windowOutput(spatial, kernel: 2, stride: 2, "vgg", imageSize: imageSize) }
        let net = Sequential()
        var channels = inChannels
        for (numConvs, outChannels) in convArch {
            net.append(vggBlock(numConvs: numConvs, inChannels: channels, outChannels: outChannels))
            channels = outChannels
        }
        net.append(Flatten())
        net.append(Linear(channels * spatial * spatial, fc))
        net.append(ReLU())
        net.append(Dropout(0.5))
        net.append(Linear(fc, fc))
        net.append(ReLU())
        net.append(Dropout(0.5))
        net.append(Linear(fc, classes))
        return net
    }

    /// VGG-11 (ch. 7.2's `vgg(conv_arch)`) with every block's channels divided by `ratio`:
    /// 1 is VGG-11 itself, 4 the book's `small_conv_arch`, the network it trains.
    public static func vgg11(ratio: Int = 1, fc: Int = 4096, inChannels: Int = 1, classes: Int = 10,
                             imageSize: Int = 224) throws -> Sequential {
        let arch = try vgg11ConvArch.map { ($0.0, try divided($0.1, ratio, "vgg11")) }
        return try vgg(convArch: arch, fc: fc, inChannels: inChannels, classes: classes, imageSize: imageSize)
    }

    /// One NiN block (ch. 7.3): a convolution and two 1×1 convolutions, each with ReLU.
    public static func ninBlock(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int,
                                padding: Int) -> Sequential {
        Sequential(
            Conv2d(inputChannels: inChannels, outputChannels: outChannels, kernelSize: kernelSize,
                   stride: stride, padding: padding),
            ReLU(),
            Conv2d(inputChannels: outChannels, outputChannels: outChannels, kernelSize: 1), ReLU(),
            Conv2d(inputChannels: outChannels, outputChannels: outChannels, kernelSize: 1), ReLU())
    }

    /// Network in Network (ch. 7.3): four NiN blocks (the last one with `classes`
    /// channels), max pools, dropout, global average pooling and Flatten.
    public static func nin(inChannels: Int = 1, classes: Int = 10, widthDivisor: Int = 1) throws -> Sequential {
        func c(_ n: Int) throws -> Int { try divided(n, widthDivisor, "nin") }
        return Sequential(
            ninBlock(inChannels: inChannels, outChannels: try c(96), kernelSize: 11, stride: 4, padding: 0),
            MaxPool2d(kernelSize: 3, stride: 2),
            ninBlock(inChannels: try c(96), outChannels: try c(256), kernelSize: 5, stride: 1, padding: 2),
            MaxPool2d(kernelSize: 3, stride: 2),
            ninBlock(inChannels: try c(256), outChannels: try c(384), kernelSize: 3, stride: 1, padding: 1),
            MaxPool2d(kernelSize: 3, stride: 2),
            Dropout(0.5),
            ninBlock(inChannels: try c(384), outChannels: classes, kernelSize: 3, stride: 1, padding: 1),
            AdaptiveAvgPool2d(outputSize: (1, 1)),
            Flatten())
    }
}

/// Chapter 5.1's custom block `MLP`: `hidden = Linear(inputs, hidden)`,
/// `output = Linear(hidden, outputs)`, `forward(X) = output(relu(hidden(X)))`.
/// Keys `hidden.weight`, `hidden.bias`, `output.weight`, `output.bias`.
public final class MLPBlock: Module {
    /// The layers, read from the registry (each replaceable by another `Linear`).
    public var hidden: Linear { registered("hidden") }
    public var output: Linear { registered("output") }

    public init(inputs: Int = 20, hidden: Int = 256, outputs: Int = 10) {
        super.init()
        childReplacement = .sameType
        registerModule("hidden", Linear(inputs, hidden))
        registerModule("output", Linear(hidden, outputs))
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try output(try hidden(input).relu())
    }
}
