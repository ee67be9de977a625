/// The book's training settings per model (chapter 3–8 `train_ch3`/`train_ch6` calls):
/// epochs, batch size, learning rate, input size and weight initialisation.
public struct TrainingRecipe {
    /// The architecture name (docs/FORMAT.md's `--arch` names).
    public var arch: String
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Float
    /// Per-batch resize (nil: Fashion-MNIST's 28×28).
    public var resize: (height: Int, width: Int)?
    /// Re-initialise Linear and Conv2d weights (the book's `train_ch6` applies Xavier
    /// uniform; chapter 4's MLP uses N(0, 0.01²)); nil keeps PyTorch's default init.
    public var weightInit: Initializer?
    /// Model options of the book's run (VGG-11 trains the book's `small_conv_arch`, ratio 4).
    public var options = ModelOptions()

    /// The model of this recipe, initialised as the book does.
    public func makeModel() throws -> Module {
        let model = try Models.make(arch: arch, options: options)
        initialize(model)
        return model
    }

    /// The book's settings for `arch`.
    public static func book(_ arch: String) throws -> TrainingRecipe {
        switch arch {
        case "softmax": return TrainingRecipe(arch: arch, epochs: 10, batchSize: 256, learningRate: 0.1, resize: nil, weightInit: .normal(std: 0.01))
        case "mlp": return TrainingRecipe(arch: arch, epochs: 10, batchSize: 256, learningRate: 0.1, resize: nil, weightInit: .normal(std: 0.01))
        case "lenet": return TrainingRecipe(arch: arch, epochs: 10, batchSize: 256, learningRate: 0.9, resize: nil, weightInit: .xavierUniform())
        case "lenet-bn": return TrainingRecipe(arch: arch, epochs: 10, batchSize: 256, learningRate: 1.0, resize: nil, weightInit: .xavierUniform())
        case "alexnet": return TrainingRecipe(arch: arch, epochs: 10, batchSize: 128, learningRate: 0.01, resize: (224, 224), weightInit: .xavierUniform())
        case "vgg11":
            var recipe = TrainingRecipe(arch: arch, epochs: 10, batchSize: 128, learningRate: 0.05, resize: (224, 224), weightInit: .xavierUniform())
            recipe.options = ModelOptions(widthDivisor: 4)
            return recipe
        case "nin": return TrainingRecipe(arch: arch, epochs: 10, batchSize: 128, learningRate: 0.1, resize: (224, 224), weightInit: .xavierUniform())
        case "googlenet": return TrainingRecipe(arch: arch, epochs: 10, batchSize: 128, learningRate: 0.1, resize: (96, 96), weightInit: .xavierUniform())
        case "resnet18": return TrainingRecipe(arch: arch, epochs: 10, batchSize: 256, learningRate: 0.05, resize: (96, 96), weightInit: .xavierUniform())
        case "densenet": return TrainingRecipe(arch: arch, epochs: 10, batchSize: 256, learningRate: 0.1, resize: (96, 96), weightInit: .xavierUniform())
        default:
            throw ToolkitError(.invalidArgument, "unknown model '\(arch)'; choose one of: " + TrainingRecipe.classifiers.joined(separator: ", "))
        }
    }

    /// The classifiers `d2l-cli train` knows.
    public static let classifiers = ["softmax", "mlp", "lenet", "lenet-bn", "alexnet", "vgg11", "nin", "googlenet", "resnet18", "densenet"]

    /// Applies `weightInit` to every Linear and Conv2d weight of `model` (biases keep
    /// their values, as in the book's `init_weights`).
    public func initialize(_ model: Module) {
        guard let weightInit else { return }
        model.apply { module in
            if let linear = module as? Linear { weightInit.apply(to: linear.weight) }
            if let conv = module as? Conv2d { weightInit.apply(to: conv.weight) }
        }
    }
}
