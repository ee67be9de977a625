/// The book's model zoo (*Dive into Deep Learning*, PyTorch edition, d2l 0.17), built
/// with exactly PyTorch's module structure so that `stateDict()` keys and shapes are the
/// book's (`0.weight`, `b2.0.conv1.weight`, `hidden.bias`, …) and a PyTorch
/// `state_dict` loads with `loadStateDict`.
///
/// Every builder takes the options the book's code hard-codes (input channels, classes,
/// image size where a flatten size depends on it) and a `widthDivisor`: every channel
/// count and hidden width divided by it (the reduced-width variants of
/// `tools/d2lref/fixture_models.py`, same ops and structure). `widthDivisor: 1` with the book's
/// input size is the book's model.
///
///     let net = try Models.make(arch: "resnet18")          // 1×96×96 inputs, 10 classes
///     let small = try Models.make(arch: "resnet18", options: .init(widthDivisor: 32, imageSize: 64))
public enum Models {}

/// Options of `Models.make(arch:options:)`; nil means the architecture's default.
public struct ModelOptions: Sendable, Equatable {
    /// Output classes (default 10; 1000 for `torchvision-resnet18`).
    public var classes: Int?
    /// Input channels (default 1; 3 for `torchvision-resnet18`).
    public var inChannels: Int?
    /// Input height and width (default: the book's, see `Models.defaultImageSize(arch:)`).
    public var imageSize: Int?
    /// The hidden width: the MLP's (256), the `mlp-block`'s (256) or VGG's fully
    /// connected layers' (4096).
    public var hidden: Int?
    /// The input features of `softmax`, `mlp` (default inChannels·imageSize²) and
    /// `mlp-block` (default 20).
    public var inFeatures: Int?
    /// Every channel count and hidden width divided by this (default 1). For `vgg11` it is
    /// the book's `ratio`: 4 gives `small_conv_arch`, the VGG-11 the book trains.
    public var widthDivisor: Int?

    public init(classes: Int? = nil, inChannels: Int? = nil, imageSize: Int? = nil, hidden: Int? = nil,
                inFeatures: Int? = nil, widthDivisor: Int? = nil) {
        self.classes = classes
        self.inChannels = inChannels
        self.imageSize = imageSize
        self.hidden = hidden
        self.inFeatures = inFeatures
        self.widthDivisor = widthDivisor
    }
}

extension Models {
    /// The architecture names of `make(arch:options:)`: docs/FORMAT.md's `d2l-export --arch`
    /// names of the image models, plus `torchvision-resnet18`.
    public static let architectures: [String] = [
        "softmax", "mlp", "mlp-block", "lenet", "lenet-bn", "alexnet", "vgg11", "nin",
        "googlenet", "resnet18", "densenet", "torchvision-resnet18",
    ]

    /// Builds the architecture `arch` (one of `architectures`) with `options`. Throws
    /// `ToolkitError(.invalidArgument)` for an unknown name (listing the valid ones) or
    /// options that give an empty layer or an image too small for the network.
    ///
    /// The sizes are checked before anything is allocated (see `limits`), and the model's
    /// parameters and buffers may hold at most `maxValues` float32 values (default: a
    /// quarter of physical memory, see `ConstructionBudget.memoryElements(share:)`), so
    /// that `imageSize: 20000` is an error rather than an abort in the allocator.
    public static func make(arch: String, options: ModelOptions = ModelOptions(), maxValues: Int? = nil) throws -> Module {
        let o = try resolved(arch: arch, options)
        let limit = maxValues ?? ConstructionBudget.memoryElements(share: 4)
        return try ConstructionBudget.withLimit(limit, what: "--arch \(arch) \(describe(arch, options))") {
            try build(arch, o)
        }
    }

    /// The model of `arch` with resolved options `o`.
    static func build(_ arch: String, _ o: Resolved) throws -> Module {
        switch arch {
        case "softmax":
            return softmaxRegression(inputs: o.inFeatures, classes: o.classes)
        case "mlp":
            return mlp(inputs: o.inFeatures, hidden: o.hidden, classes: o.classes)
        case "mlp-block":
            return MLPBlock(inputs: o.inFeatures, hidden: o.hidden, outputs: o.classes)
        case "lenet":
            return try lenet(inChannels: o.inChannels, imageSize: o.imageSize, classes: o.classes)
        case "lenet-bn":
            return try lenetBN(inChannels: o.inChannels, imageSize: o.imageSize, classes: o.classes)
        case "alexnet":
            return try alexnet(inChannels: o.inChannels, classes: o.classes, imageSize: o.imageSize,
                               widthDivisor: o.widthDivisor)
        case "vgg11":
            return try vgg11(ratio: o.widthDivisor, fc: o.hidden, inChannels: o.inChannels,
                             classes: o.classes, imageSize: o.imageSize)
        case "nin":
            return try nin(inChannels: o.inChannels, classes: o.classes, widthDivisor: o.widthDivisor)
        case "googlenet":
            return try googlenet(inChannels: o.inChannels, classes: o.classes, widthDivisor: o.widthDivisor)
        case "resnet18":
            return try resnet18(inChannels: o.inChannels, classes: o.classes, widthDivisor: o.widthDivisor)
        case "densenet":
            return try densenet(inChannels: o.inChannels, classes: o.classes, widthDivisor: o.widthDivisor)
        case "torchvision-resnet18":
            return try torchvisionResNet18(classes: o.classes, inChannels: o.inChannels,
                                           width: 64 / o.widthDivisor)
        default:
            throw unknownArchitecture(arch)
        }
    }

    /// The shape of one input example (no batch dimension) of `arch` with `options`:
    /// `[C, H, W]` for the image models (1×28×28 for softmax, mlp, lenet and lenet-bn;
    /// 1×224×224 for AlexNet, VGG-11, NiN; 1×96×96 for GoogLeNet, ResNet-18, DenseNet;
    /// 3×224×224 for torchvision's resnet18) and `[20]` for `mlp-block` (`[inFeatures]` for
    /// `softmax` and `mlp` given `inFeatures` and no image size).
    public static func inputShape(arch: String, options: ModelOptions = ModelOptions()) throws -> [Int] {
        let o = try resolved(arch: arch, options)
        if arch == "mlp-block" || (["softmax", "mlp"].contains(arch) && options.inFeatures != nil && options.imageSize == nil) {
            return [o.inFeatures]
        }
        return [o.inChannels, o.imageSize, o.imageSize]
    }

    /// The book's input height and width of `arch` (nil for `mlp-block`).
    public static func defaultImageSize(arch: String) throws -> Int? {
        switch arch {
        case "softmax", "mlp", "lenet", "lenet-bn": return 28
        case "mlp-block": return nil
        case "alexnet", "vgg11", "nin", "torchvision-resnet18": return 224
        case "googlenet", "resnet18", "densenet": return 96
        default: throw unknownArchitecture(arch)
        }
    }

    /// `(1×28×28, 10 classes)`: the options that shape the model, for mismatch messages.
    static func describe(_ arch: String, _ options: ModelOptions) -> String {
        guard let o = try? Models.resolved(arch: arch, options) else { return "" }
        var parts: [String] = []
        if arch == "mlp-block" {
            parts.append("\(o.inFeatures) inputs")
        } else {
            parts.append("\(o.inChannels)×\(o.imageSize)×\(o.imageSize) input")
        }
        parts.append("\(o.classes) classes")
        if ["mlp", "mlp-block", "vgg11"].contains(arch) { parts.append("hidden \(o.hidden)") }
        if o.widthDivisor != 1 { parts.append("width divisor \(o.widthDivisor)") }
        return "(" + parts.joined(separator: ", ") + ")"
    }

    static func unknownArchitecture(_ arch: String) -> ToolkitError {
        ToolkitError(.invalidArgument,
                     "unknown architecture '\(arch)'; valid names: " + architectures.joined(separator: ", "))
    }

    /// The largest value of each option that `make` accepts: far above any model of the
    /// book, low enough that no size computed from them overflows `Int` (the memory a model
    /// may take is checked separately, as it is built).
    public static let limits = (classes: 1 << 24, inChannels: 1 << 16, imageSize: 1 << 16, hidden: 1 << 24,
                                inFeatures: 1 << 40, widthDivisor: 1 << 16)

    /// Options with every default filled in and checked.
    struct Resolved {
        var classes: Int, inChannels: Int, imageSize: Int, hidden: Int, inFeatures: Int, widthDivisor: Int
    }

    static func resolved(arch: String, _ options: ModelOptions) throws -> Resolved {
        guard architectures.contains(arch) else { throw unknownArchitecture(arch) }
        let torchvision = arch == "torchvision-resnet18"
        let classes = options.classes ?? (torchvision ? 1000 : 10)
        let inChannels = options.inChannels ?? (torchvision ? 3 : 1)
        let imageSize = try options.imageSize ?? defaultImageSize(arch: arch) ?? 0
        let hidden = options.hidden ?? (arch == "vgg11" ? 4096 : 256)
        let widthDivisor = options.widthDivisor ?? 1
        func check(_ value: Int, _ what: String, max: Int) throws {
            guard value >= 1 else {
                throw ToolkitError(.invalidArgument, "\(arch): \(what) must be positive, got \(value)")
            }
            guard value <= max else {
                throw ToolkitError(.invalidArgument, "\(arch): \(what) must be at most \(max), got \(value)")
            }
        }
        try check(classes, "the number of classes", max: limits.classes)
        try check(inChannels, "the number of input channels", max: limits.inChannels)
        if arch != "mlp-block" { try check(imageSize, "the image size", max: limits.imageSize) }
        try check(hidden, "the hidden width", max: limits.hidden)
        try check(widthDivisor, "the width divisor", max: limits.widthDivisor)
        // At most 2^16 · 2^32: no overflow in 64-bit Int.
        let inFeatures = options.inFeatures ?? (arch == "mlp-block" ? 20 : inChannels * imageSize * imageSize)
        try check(inFeatures, "the number of input features", max: limits.inFeatures)
        return Resolved(classes: classes, inChannels: inChannels, imageSize: imageSize, hidden: hidden,
                        inFeatures: inFeatures, widthDivisor: widthDivisor)
    }

    /// `n / divisor`, or an error naming the layer when that leaves no channels.
    static func divided(_ n: Int, _ divisor: Int, _ model: String) throws -> Int {
        guard divisor >= 1 else {
            throw ToolkitError(.invalidArgument, "\(model): the width divisor must be positive, got \(divisor)")
        }
        guard n / divisor >= 1 else {
            throw ToolkitError(.invalidArgument, "\(model): width divisor \(divisor) leaves no channels of \(n)")
        }
        return n / divisor
    }

    /// The output size of a convolution or pooling window along one axis, or an error when
    /// the input is too small.
    static func windowOutput(_ size: Int, kernel: Int, stride: Int = 1, padding: Int = 0, _ model: String,
                             imageSize: Int) throws -> Int {
        let padded = size + 2 * padding
        guard padded >= kernel else {
            throw ToolkitError(.invalidArgument,
                               "\(model): image size \(imageSize) is too small (a \(kernel)×\(kernel) window meets a \(size)×\(size) map)")
        }
        return (padded - kernel) / stride + 1
    }
}
