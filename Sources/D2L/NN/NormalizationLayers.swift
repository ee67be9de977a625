/// Batch normalisation (`nn.BatchNorm1d`/`nn.BatchNorm2d`) over the channel axis 1.
/// Training mode normalises with the batch mean and biased variance and updates the
/// running statistics with `momentum` (running_var from the unbiased variance);
/// evaluation mode uses the running statistics. Parameters `weight` (γ, 1) and `bias`
/// (β, 0); buffers `running_mean` (0), `running_var` (1), `num_batches_tracked` (0).
public class BatchNormBase: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Parameter
    public let runningVar: Parameter
    public let numBatchesTracked: Parameter
    public let eps: Float
    public let momentum: Float
    public let numFeatures: Int

    public init(_ numFeatures: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        precondition(numFeatures >= 1, "BatchNorm: numFeatures must be positive, got \(numFeatures)")
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        weight = Parameter(Tensor.ones([numFeatures]))
        bias = Parameter(Tensor.zeros([numFeatures]))
        runningMean = Parameter(Tensor.zeros([numFeatures]), trainable: false)
        runningVar = Parameter(Tensor.ones([numFeatures]), trainable: false)
        numBatchesTracked = Parameter(Tensor.zeros([]), trainable: false, integral: true)
        super.init()
        registerExisting("weight", weight)
        registerExisting("bias", bias)
        registerExisting("running_mean", runningMean)
        registerExisting("running_var", runningVar)
        registerExisting("num_batches_tracked", numBatchesTracked)
    }

    /// The layer's name in error messages.
    var layerName: String { "\(type(of: self))(\(numFeatures))" }
    /// The input ranks this layer accepts.
    var acceptedRanks: [Int] { [2, 3, 4] }
    var expectedShapeDescription: String { "[N, \(numFeatures), …]" }

    public override func forward(_ input: Tensor) throws -> Tensor {
        guard acceptedRanks.contains(input.rank), input.shape[1] == numFeatures else {
            throw ToolkitError(.shape, "\(layerName): expected input \(expectedShapeDescription), got shape \(input.shape)")
        }
        return try Tensor.batchNorm(input, weight: weight.value, bias: bias.value,
                                    runningMean: runningMean, runningVar: runningVar,
                                    numBatchesTracked: numBatchesTracked,
                                    training: isTraining, momentum: momentum, eps: eps)
    }
}

/// Batch normalisation of `[N, C]` (or `[N, C, L]`) inputs (`nn.BatchNorm1d`).
public final class BatchNorm1d: BatchNormBase {
    public override init(_ numFeatures: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        super.init(numFeatures, eps: eps, momentum: momentum)
    }
    override var acceptedRanks: [Int] { [2, 3] }
    override var expectedShapeDescription: String { "[N, \(numFeatures)] or [N, \(numFeatures), L]" }
}

/// Batch normalisation of `[N, C, H, W]` inputs (`nn.BatchNorm2d`).
public final class BatchNorm2d: BatchNormBase {
    public override init(_ numFeatures: Int, eps: Float = 1e-5, momentum: Float = 0.1) {
        super.init(numFeatures, eps: eps, momentum: momentum)
    }
    override var acceptedRanks: [Int] { [4] }
    override var expectedShapeDescription: String { "[N, \(numFeatures), H, W]" }
}
