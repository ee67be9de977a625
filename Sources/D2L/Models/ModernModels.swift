// The book's chapter 7.4–7.7 models (GoogLeNet, ResNet-18, DenseNet) with their custom
// blocks, and torchvision's resnet18, each with PyTorch's module names.

/// Adds `b` to `a` when their shapes agree (no broadcasting), else a shape error.
func addSameShape(_ a: Tensor, _ b: Tensor, _ what: String) throws -> Tensor {
    guard a.shape == b.shape else {
        throw ToolkitError(.shape, "\(what): cannot add shapes \(a.shape) and \(b.shape)")
    }
    return a + b
}

/// Concatenates along the channel axis when every other dimension agrees, else a shape error.
func concatChannels(_ parts: [Tensor], _ what: String) throws -> Tensor {
    let first = parts[0]
    for p in parts where p.rank != first.rank || p.rank < 2
        || p.shape[0] != first.shape[0] || p.shape[2...] != first.shape[2...] {
        throw ToolkitError(.shape, "\(what): cannot concatenate shapes \(parts.map(\.shape)) along the channels")
    }
    return Tensor.concat(parts, axis: 1)
}

// MARK: - GoogLeNet (ch. 7.4)

/// The Inception block (ch. 7.4): four parallel paths concatenated on the channels —
/// `p1_1` (1×1 conv), `p2_1`→`p2_2` (1×1, 3×3), `p3_1`→`p3_2` (1×1, 5×5) and
/// `p4_1`→`p4_2` (3×3 max pool, 1×1 conv), each convolution followed by ReLU.
public final class Inception: Module {
    public let p1_1: Conv2d
    public let p2_1: Conv2d, p2_2: Conv2d
    public let p3_1: Conv2d, p3_2: Conv2d
    public let p4_1: MaxPool2d
    public let p4_2: Conv2d

    /// `c1`…`c4`: each path's output channels.
    public init(inChannels: Int, c1: Int, c2: (Int, Int), c3: (Int, Int), c4: Int) {
        p1_1 = Conv2d(inputChannels: inChannels, outputChannels: c1, kernelSize: 1)
        p2_1 = Conv2d(inputChannels: inChannels, outputChannels: c2.0, kernelSize: 1)
        p2_2 = Conv2d(inputChannels: c2.0, outputChannels: c2.1, kernelSize: 3, padding: 1)
        p3_1 = Conv2d(inputChannels: inChannels, outputChannels: c3.0, kernelSize: 1)
        p3_2 = Conv2d(inputChannels: c3.0, outputChannels: c3.1, kernelSize: 5, padding: 2)
        p4_1 = MaxPool2d(kernelSize: 3, stride: 1, padding: 1)
        p4_2 = Conv2d(inputChannels: inChannels, outputChannels: c4, kernelSize: 1)
        super.init()
        registerModule("p1_1", p1_1)
        registerModule("p2_1", p2_1)
        registerModule("p2_2", p2_2)
        registerModule("p3_1", p3_1)
        registerModule("p3_2", p3_2)
        registerModule("p4_1", p4_1)
        registerModule("p4_2", p4_2)
    }

    /// The number of output channels (c1 + c2.1 + c3.1 + c4).
    public var outputChannels: Int {
        p1_1.outputChannels + p2_2.outputChannels + p3_2.outputChannels + p4_2.outputChannels
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        let p1 = try p1_1(x).relu()
        let p2 = try p2_2(try p2_1(x).relu()).relu()
        let p3 = try p3_2(try p3_1(x).relu()).relu()
        let p4 = try p4_2(try p4_1(x)).relu()
        return try concatChannels([p1, p2, p3, p4], "Inception")
    }
}

extension Models {
    /// GoogLeNet (ch. 7.4): `Sequential(b1, b2, b3, b4, b5, Linear(1024, classes))` with
    /// the book's Inception channel counts. With `widthDivisor`, every count becomes
    /// max(1, n / widthDivisor) (the fixtures' reduced variant).
    public static func googlenet(inChannels: Int = 1, classes: Int = 10, widthDivisor: Int = 1) throws -> Sequential {
        guard widthDivisor >= 1 else {
            throw ToolkitError(.invalidArgument, "googlenet: the width divisor must be positive, got \(widthDivisor)")
        }
        func c(_ n: Int) -> Int { Swift.max(1, n / widthDivisor) }
        var n = 0
        func inception(_ inChannels: Int, _ c1: Int, _ c2: (Int, Int), _ c3: (Int, Int), _ c4: Int) -> Inception {
            let block = Inception(inChannels: inChannels, c1: c(c1), c2: (c(c2.0), c(c2.1)),
                                  c3: (c(c3.0), c(c3.1)), c4: c(c4))
            n = block.outputChannels
            return block
        }
        let b1 = Sequential(Conv2d(inputChannels: inChannels, outputChannels: c(64), kernelSize: 7, stride: 2, padding: 3),
                            ReLU(),
                            MaxPool2d(kernelSize: 3, stride: 2, padding: 1))
        let b2 = Sequential(Conv2d(inputChannels: c(64), outputChannels: c(64), kernelSize: 1),
                            ReLU(),
                            Conv2d(inputChannels: c(64), outputChannels: c(192), kernelSize: 3, padding: 1),
                            ReLU(),
                            MaxPool2d(kernelSize: 3, stride: 2, padding: 1))
        let i3a = inception(c(192), 64, (96, 128), (16, 32), 32)
        let i3b = inception(n, 128, (128, 192), (32, 96), 64)
        let b3 = Sequential(i3a, i3b, MaxPool2d(kernelSize: 3, stride: 2, padding: 1))
        let i4a = inception(n, 192, (96, 208), (16, 48), 64)
        let i4b = inception(n, 160, (112, 224), (24, 64), 64)
        let i4c = inception(n, 128, (128, 256), (24, 64), 64)
        let i4d = inception(n, 112, (144, 288), (32, 64), 64)
        let i4e = inception(n, 256, (160, 320), (32, 128), 128)
        let b4 = Sequential(i4a, i4b, i4c, i4d, i4e, MaxPool2d(kernelSize: 3, stride: 2, padding: 1))
        let i5a = inception(n, 256, (160, 320), (32, 128), 128)
        let i5b = inception(n, 384, (192, 384), (48, 128), 128)
        let b5 = Sequential(i5a, i5b, AdaptiveAvgPool2d(outputSize: (1, 1)), Flatten())
        return Sequential(b1, b2, b3, b4, b5, Linear(n, classes))
    }
}

// MARK: - ResNet-18 (ch. 7.6)

/// The book's residual block (ch. 7.6): `conv1` (3×3, stride `strides`) → `bn1` → ReLU →
/// `conv2` (3×3) → `bn2`, plus the input (through `conv3`, a strided 1×1 convolution,
/// when `use1x1Conv`), then ReLU. State-dict order: conv1, conv2, conv3, bn1, bn2.
public final class Residual: Module {
    public let conv1: Conv2d
    public let conv2: Conv2d
    public let conv3: Conv2d?
    public let bn1: BatchNorm2d
    public let bn2: BatchNorm2d

    public init(inputChannels: Int, numChannels: Int, use1x1Conv: Bool = false, strides: Int = 1) {
        conv1 = Conv2d(inputChannels: inputChannels, outputChannels: numChannels, kernelSize: 3, stride: strides,
                       padding: 1)
        conv2 = Conv2d(inputChannels: numChannels, outputChannels: numChannels, kernelSize: 3, padding: 1)
        conv3 = use1x1Conv
            ? Conv2d(inputChannels: inputChannels, outputChannels: numChannels, kernelSize: 1, stride: strides)
            : nil
        bn1 = BatchNorm2d(numChannels)
        bn2 = BatchNorm2d(numChannels)
        super.init()
        registerModule("conv1", conv1)
        registerModule("conv2", conv2)
        if let conv3 { registerModule("conv3", conv3) }
        registerModule("bn1", bn1)
        registerModule("bn2", bn2)
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        var y = try bn1(try conv1(x)).relu()
        y = try bn2(try conv2(y))
        let shortcut = try conv3.map { try $0(x) } ?? x
        return try addSameShape(y, shortcut, "Residual").relu()
    }
}

extension Models {
    /// `numResiduals` residual blocks; the first one halves the size and changes the
    /// channels with a 1×1 convolution unless `firstBlock` (ch. 7.6's `resnet_block`).
    public static func resnetBlock(inputChannels: Int, numChannels: Int, numResiduals: Int,
                                   firstBlock: Bool = false) -> [Module] {
        (0..<numResiduals).map { i in
            if i == 0 && !firstBlock {
                return Residual(inputChannels: inputChannels, numChannels: numChannels, use1x1Conv: true, strides: 2)
            }
            return Residual(inputChannels: numChannels, numChannels: numChannels)
        }
    }

    /// ResNet-18 (ch. 7.6): `Sequential(b1, b2, b3, b4, b5, AdaptiveAvgPool2d((1, 1)),
    /// Flatten, Linear(512, classes))`.
    public static func resnet18(inChannels: Int = 1, classes: Int = 10, widthDivisor: Int = 1) throws -> Sequential {
        func c(_ n: Int) throws -> Int { try divided(n, widthDivisor, "resnet18") }
        let b1 = Sequential(Conv2d(inputChannels: inChannels, outputChannels: try c(64), kernelSize: 7, stride: 2, padding: 3),
                            BatchNorm2d(try c(64)), ReLU(),
                            MaxPool2d(kernelSize: 3, stride: 2, padding: 1))
        let b2 = Sequential(resnetBlock(inputChannels: try c(64), numChannels: try c(64), numResiduals: 2, firstBlock: true))
        let b3 = Sequential(resnetBlock(inputChannels: try c(64), numChannels: try c(128), numResiduals: 2))
        let b4 = Sequential(resnetBlock(inputChannels: try c(128), numChannels: try c(256), numResiduals: 2))
        let b5 = Sequential(resnetBlock(inputChannels: try c(256), numChannels: try c(512), numResiduals: 2))
        return Sequential(b1, b2, b3, b4, b5, AdaptiveAvgPool2d(outputSize: (1, 1)), Flatten(),
                          Linear(try c(512), classes))
    }
}

// MARK: - DenseNet (ch. 7.7)

/// The book's dense block (ch. 7.7): `net` holds `numConvs` conv blocks (BatchNorm, ReLU,
/// 3×3 convolution); each one's output is concatenated to its input on the channels.
public final class DenseBlock: Module {
    public let net: Sequential
    /// inputChannels + numConvs · numChannels.
    public let outputChannels: Int

    public init(numConvs: Int, inputChannels: Int, numChannels: Int) {
        outputChannels = inputChannels + numConvs * numChannels
        net = Sequential((0..<numConvs).map { i in
            Models.denseConvBlock(inputChannels: numChannels * i + inputChannels, numChannels: numChannels)
        })
        super.init()
        registerModule("net", net)
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        var x = input
        for block in net.layers {
            let y = try block(x)
            x = try concatChannels([x, y], "DenseBlock")
        }
        return x
    }
}

extension Models {
    /// DenseNet's `conv_block` (ch. 7.7): `Sequential(BatchNorm2d, ReLU, Conv2d 3×3 padding 1)`.
    public static func denseConvBlock(inputChannels: Int, numChannels: Int) -> Sequential {
        Sequential(BatchNorm2d(inputChannels), ReLU(),
                   Conv2d(inputChannels: inputChannels, outputChannels: numChannels, kernelSize: 3, padding: 1))
    }

    /// DenseNet's `transition_block` (ch. 7.7): BatchNorm, ReLU, 1×1 convolution, 2×2
    /// average pool.
    public static func transitionBlock(inputChannels: Int, numChannels: Int) -> Sequential {
        Sequential(BatchNorm2d(inputChannels), ReLU(),
                   Conv2d(inputChannels: inputChannels, outputChannels: numChannels, kernelSize: 1),
                   AvgPool2d(kernelSize: 2, stride: 2))
    }

    /// DenseNet (ch. 7.7): b1, four dense blocks of 4 convolutions (growth rate 32) with
    /// transition blocks between them, BatchNorm, ReLU, global average pool, Flatten,
    /// Linear. Keys `0.…` (b1), `1.net.0.0.weight`, `2.0.weight` (transition), ….
    public static func densenet(inChannels: Int = 1, classes: Int = 10, widthDivisor: Int = 1) throws -> Sequential {
        let b1 = Sequential(
            Conv2d(inputChannels: inChannels, outputChannels: try divided(64, widthDivisor, "densenet"),
                   kernelSize: 7, stride: 2, padding: 3),
            BatchNorm2d(try divided(64, widthDivisor, "densenet")), ReLU(),
            MaxPool2d(kernelSize: 3, stride: 2, padding: 1))
        var numChannels = try divided(64, widthDivisor, "densenet")
        let growthRate = try divided(32, widthDivisor, "densenet")
        let numConvsInDenseBlocks = [4, 4, 4, 4]
        let net = Sequential(b1)
        for (i, numConvs) in numConvsInDenseBlocks.enumerated() {
            net.append(DenseBlock(numConvs: numConvs, inputChannels: numChannels, numChannels: growthRate))
            numChannels += numConvs * growthRate
            if i != numConvsInDenseBlocks.count - 1 {
                net.append(transitionBlock(inputChannels: numChannels, numChannels: numChannels / 2))
                numChannels /= 2
            }
        }
        net.append(BatchNorm2d(numChannels))
        net.append(ReLU())
        net.append(AdaptiveAvgPool2d(outputSize: (1, 1)))
        net.append(Flatten())
        net.append(Linear(numChannels, classes))
        return net
    }
}

// MARK: - torchvision resnet18

/// torchvision's `BasicBlock`: `conv1` (3×3, stride, no bias) → `bn1` → `relu` →
/// `conv2` (3×3, no bias) → `bn2`, plus the input (through `downsample` =
/// `Sequential(Conv2d 1×1 strided no bias, BatchNorm2d)` when given), then ReLU.
public final class BasicBlock: Module {
    public let conv1: Conv2d
    public let bn1: BatchNorm2d
    public let relu: ReLU
    public let conv2: Conv2d
    public let bn2: BatchNorm2d
    public let downsample: Sequential?
    public let stride: Int

    public init(inplanes: Int, planes: Int, stride: Int = 1, downsample: Sequential? = nil) {
        conv1 = Conv2d(inputChannels: inplanes, outputChannels: planes, kernelSize: 3, stride: stride, padding: 1,
                       bias: false)
        bn1 = BatchNorm2d(planes)
        relu = ReLU()
        conv2 = Conv2d(inputChannels: planes, outputChannels: planes, kernelSize: 3, padding: 1, bias: false)
        bn2 = BatchNorm2d(planes)
        self.downsample = downsample
        self.stride = stride
        super.init()
        registerModule("conv1", conv1)
        registerModule("bn1", bn1)
        registerModule("relu", relu)
        registerModule("conv2", conv2)
        registerModule("bn2", bn2)
        if let downsample { registerModule("downsample", downsample) }
    }

    public override func forward(_ x: Tensor) throws -> Tensor {
        var out = try relu(try bn1(try conv1(x)))
        out = try bn2(try conv2(out))
        let identity = try downsample.map { try $0(x) } ?? x
        return try relu(try addSameShape(out, identity, "BasicBlock"))
    }
}

/// torchvision's `ResNet` with `BasicBlock`s (resnet18: two per layer): `conv1` (7×7 stride
/// 2, no bias), `bn1`, `relu`, `maxpool`, `layer1`…`layer4`, `avgpool`, flatten, `fc`.
/// Keys `conv1.weight`, `bn1.running_mean`, `layer2.0.downsample.0.weight`, `fc.bias`, ….
/// Initialised like torchvision (Kaiming-normal fan-out convolutions, BatchNorm γ 1, β 0).
///
/// The children are read from the registry, so each may be replaced by a module of the
/// same type: `net.fc = Linear(512, 2)` (the book's fine-tuning, ch. 13.2) or
/// `try net.replaceChild(named: "layer4", with: …)`.
public final class TorchvisionResNet: Module {
    public var conv1: Conv2d { registered("conv1") }
    public var bn1: BatchNorm2d { registered("bn1") }
    public var relu: ReLU { registered("relu") }
    public var maxpool: MaxPool2d { registered("maxpool") }
    public var layer1: Sequential { registered("layer1") }
    public var layer2: Sequential { registered("layer2") }
    public var layer3: Sequential { registered("layer3") }
    public var layer4: Sequential { registered("layer4") }
    public var avgpool: AdaptiveAvgPool2d { registered("avgpool") }
    /// The classifier, `Linear(8·width, classes)`; assigning replaces the registered child.
    public var fc: Linear {
        get { registered("fc") }
        // Cannot fail: "fc" is registered and Linear is final, so the type is the same.
        set { try! replaceChild(named: "fc", with: newValue) }
    }

    public init(layers: [Int] = [2, 2, 2, 2], classes: Int = 1000, inChannels: Int = 3, width: Int = 64) {
        precondition(layers.count == 4 && layers.allSatisfy { $0 >= 1 } && width >= 1,
                     "TorchvisionResNet: four layers of at least one block and a positive width, got \(layers), \(width)")
        var inplanes = width
        func makeLayer(_ planes: Int, _ blocks: Int, stride: Int = 1) -> Sequential {
            var downsample: Sequential?
            if stride != 1 || inplanes != planes {
                downsample = Sequential(
                    Conv2d(inputChannels: inplanes, outputChannels: planes, kernelSize: 1, stride: stride, bias: false),
                    BatchNorm2d(planes))
            }
            let layer = Sequential(BasicBlock(inplanes: inplanes, planes: planes, stride: stride, downsample: downsample))
            inplanes = planes
            for _ in 1..<blocks { layer.append(BasicBlock(inplanes: inplanes, planes: planes)) }
            return layer
        }
        super.init()
        childReplacement = .sameType
        registerModule("conv1", Conv2d(inputChannels: inChannels, outputChannels: width, kernelSize: 7, stride: 2,
                                       padding: 3, bias: false))
        registerModule("bn1", BatchNorm2d(width))
        registerModule("relu", ReLU())
        registerModule("maxpool", MaxPool2d(kernelSize: 3, stride: 2, padding: 1))
        registerModule("layer1", makeLayer(width, layers[0]))
        registerModule("layer2", makeLayer(width * 2, layers[1], stride: 2))
        registerModule("layer3", makeLayer(width * 4, layers[2], stride: 2))
        registerModule("layer4", makeLayer(width * 8, layers[3], stride: 2))
        registerModule("avgpool", AdaptiveAvgPool2d(outputSize: (1, 1)))
        registerModule("fc", Linear(width * 8, classes))
        apply { m in
            if let conv = m as? Conv2d {
                // kaiming_normal_(mode="fan_out", nonlinearity="relu"): std = √(2 / fanOut).
                let fanOut = Initializer.fans(conv.weight.shape).fanOut
                Initializer.normal(mean: 0, std: Float((2.0 / Double(fanOut)).squareRoot())).apply(to: conv.weight)
            }
        }
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        var x = try maxpool(try relu(try bn1(try conv1(input))))
        x = try layer4(try layer3(try layer2(try layer1(x))))
        return try fc(try avgpool(x).flattened(startAxis: 1))
    }
}

extension Models {
    /// torchvision's `resnet18` (3×224×224 ImageNet inputs, 1000 classes); `width` 64 is
    /// torchvision's (the fixtures' reduced variant uses 2).
    public static func torchvisionResNet18(classes: Int = 1000, inChannels: Int = 3, width: Int = 64) throws -> TorchvisionResNet {
        guard width >= 1 else {
            throw ToolkitError(.invalidArgument, "torchvision-resnet18: width \(width) leaves no channels")
        }
        return TorchvisionResNet(layers: [2, 2, 2, 2], classes: classes, inChannels: inChannels, width: width)
    }
}
