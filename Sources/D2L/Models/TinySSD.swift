/// The book's single-shot multibox detector (13.7, `TinySSD`): a base network of three
/// down-sampling blocks (3 → 16 → 32 → 64 channels), a block to 128 channels, two more of 128 and a
/// global max pool: five scales; at each scale a 3×3 convolution predicts every
/// anchor's class scores and another its four offsets. Anchors come from
/// ``multiboxPrior(height:width:sizes:ratios:)`` with the book's sizes and ratios (4 per
/// pixel). For a 256 × 256 input the scales are 32², 16², 8², 4² and 1² pixels: 5444 anchors.
///
/// State-dict keys are the book's: `blk_0.0.0.weight` (base net, block 0, first conv) …
/// `blk_3.*`, `cls_0.weight` … `cls_4.*`, `bbox_0.*` … `bbox_4.*`.
///
/// `forward` is not the detector's output (it has three); call ``detect(_:)``.
public final class TinySSD: Module {
    /// The book's anchor sizes per scale.
    public static let sizes: [[Float]] = [[0.2, 0.272], [0.37, 0.447], [0.54, 0.619], [0.71, 0.79], [0.88, 0.961]]
    /// The book's anchor ratios per scale.
    public static let ratios: [[Float]] = Array(repeating: [1, 2, 0.5], count: 5)
    /// Anchors per pixel: sizes + ratios − 1.
    public static let anchorsPerPixel = 4
    /// The input channels of each scale's predictors.
    static let scaleChannels = [64, 128, 128, 128, 128]

    /// Object classes (without the background).
    public let classes: Int

    /// The three outputs: anchors `[1, A, 4]` (corner boxes, fractions of the image), class
    /// scores `[N, A, classes + 1]` (index 0 background; logits) and offsets `[N, A · 4]`.
    public struct Outputs {
        public var anchors: Tensor
        public var classPredictions: Tensor
        public var boxPredictions: Tensor

        /// The softmax of each anchor's class scores, `[N, classes + 1, A]`: the book's
        /// `F.softmax(cls_preds, dim=2).permute(0, 2, 1)`, the layout that
        /// ``multiboxDetection(classProbabilities:offsets:anchors:nmsThreshold:positiveThreshold:)``
        /// takes and the exported model's `class_probs` has.
        public var classProbabilities: Tensor { classPredictions.softmax(axis: 2).permuted([0, 2, 1]) }
    }

    /// The book's `down_sample_blk`: two (3×3 conv, BatchNorm, ReLU), then 2×2 max pooling.
    public static func downSampleBlock(_ inChannels: Int, _ outChannels: Int) -> Sequential {
        Sequential(
            Conv2d(inputChannels: inChannels, outputChannels: outChannels, kernelSize: 3, padding: 1), BatchNorm2d(outChannels), ReLU(),
            Conv2d(inputChannels: outChannels, outputChannels: outChannels, kernelSize: 3, padding: 1), BatchNorm2d(outChannels), ReLU(),
            MaxPool2d(kernelSize: 2))
    }

    /// The book's `base_net`: down-sampling blocks 3 → 16 → 32 → 64 channels, so
    /// `[N, 3, H, W]` → `[N, 64, H/8, W/8]`.
    public static func baseNet() -> Sequential {
        Sequential(downSampleBlock(3, 16), downSampleBlock(16, 32), downSampleBlock(32, 64))
    }

    public init(classes: Int) {
        precondition(classes >= 1, "TinySSD: at least one class, got \(classes)")
        self.classes = classes
        super.init()
        let blocks: [Module] = [Self.baseNet(), Self.downSampleBlock(64, 128), Self.downSampleBlock(128, 128),
                                Self.downSampleBlock(128, 128), GlobalMaxPool2d()]
        for i in 0..<5 {
            registerModule("blk_\(i)", blocks[i])
            registerModule("cls_\(i)", Conv2d(inputChannels: Self.scaleChannels[i], outputChannels: Self.anchorsPerPixel * (classes + 1),
                                              kernelSize: 3, padding: 1))
            registerModule("bbox_\(i)", Conv2d(inputChannels: Self.scaleChannels[i], outputChannels: Self.anchorsPerPixel * 4,
                                               kernelSize: 3, padding: 1))
        }
    }

    private func part(_ name: String) throws -> Module {
        guard let module = child(named: name) else { throw ToolkitError(.invalidArgument, "TinySSD: no \(name)") }
        return module
    }

    /// The book's `flatten_pred`: `[N, C, H, W]` → `[N, H·W·C]` (channels last).
    public static func flattenPrediction(_ p: Tensor) -> Tensor {
        p.permuted([0, 2, 3, 1]).reshaped([p.shape[0], -1])
    }

    /// The book's `concat_preds`: each prediction flattened (``flattenPrediction(_:)``),
    /// then concatenated along axis 1; `[N, Σ H·W·C]`. The predictions share N.
    public static func concatPredictions(_ predictions: [Tensor]) -> Tensor {
        Tensor.concat(predictions.map(flattenPrediction), axis: 1)
    }

    /// The three outputs for images `[N, 3, H, W]` (H and W at least 64, so that each scale
    /// has a pixel).
    /// - Throws: `ToolkitError(.shape)` for another input shape.
    public func detect(_ x: Tensor) throws -> Outputs {
        guard x.rank == 4, x.shape[1] == 3, x.shape[2] >= 64, x.shape[3] >= 64 else {
            throw ToolkitError(.shape, "TinySSD: input must be [N, 3, H, W] with H, W ≥ 64, got \(x.shape)")
        }
        var y = x
        var anchors: [Tensor] = [], cls: [Tensor] = [], bbox: [Tensor] = []
        for i in 0..<5 {
            y = try part("blk_\(i)")(y)
            anchors.append(try multiboxPrior(y, sizes: Self.sizes[i], ratios: Self.ratios[i]))
            cls.append(try part("cls_\(i)")(y))
            bbox.append(try part("bbox_\(i)")(y))
        }
        let n = x.shape[0]
        let classPredictions = Self.concatPredictions(cls).reshaped([n, -1, classes + 1])
        return Outputs(anchors: Tensor.concat(anchors, axis: 1), classPredictions: classPredictions,
                       boxPredictions: Self.concatPredictions(bbox))
    }

    /// Not the detector's output: throws, pointing at ``detect(_:)``.
    public override func forward(_ input: Tensor) throws -> Tensor {
        throw ToolkitError(.unsupported, "TinySSD has three outputs (anchors, class scores, offsets): call detect(_:)")
    }
}

/// The maximum over each channel's whole plane (`nn.AdaptiveMaxPool2d((1, 1))`):
/// `[N, C, H, W]` → `[N, C, 1, 1]`.
public final class GlobalMaxPool2d: Module {
    public override init() { super.init() }

    public override func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[2] > 0, input.shape[3] > 0 else {
            throw ToolkitError(.shape, "GlobalMaxPool2d: input must be [N, C, H, W] with H, W ≥ 1, got \(input.shape)")
        }
        let (n, c) = (input.shape[0], input.shape[1])
        return input.reshaped([n, c, -1]).max(axis: 2).reshaped([n, c, 1, 1])
    }
}
