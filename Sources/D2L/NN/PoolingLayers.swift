/// 2-D max pooling (`nn.MaxPool2d`): input `[N, C, H, W]`, output `[N, C, H', W']` with
/// H' = ⌊(H + 2·padding.0 − kernelSize.0) / stride.0⌋ + 1 (W' likewise); padding counts
/// as −∞. `stride` nil means the kernel size. Kernel, stride and padding are
/// (height, width) pairs; the `Int` initialisers use one value for both.
public final class MaxPool2d: Module {
    public let kernelSize: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    /// A rectangular window: `MaxPool2d(kernelSize: (2, 3), stride: (2, 3), padding: (0, 1))`.
    /// Each size must be ≥ 1 and each padding at most half its kernel (checked here, as PyTorch does).
    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) {
        checkPoolArguments("MaxPool2d", kernelSize, stride, padding)
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        super.init()
    }

    /// A square window: `MaxPool2d(kernelSize: 3, stride: 2, padding: 1)`.
    public convenience init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    /// The book's spelling, `nn.MaxPool2d(3, padding=1, stride=2)`.
    public convenience init(_ kernelSize: Int, padding: Int = 0, stride: Int? = nil) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding)
    }

    var layerDescription: String {
        "MaxPool2d(kernelSize: \(kernelSize), stride: \(stride), padding: \(padding))"
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkPoolInput(input, name: layerDescription, kernel: kernelSize, padding: padding)
        return Tensor.maxPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// 2-D average pooling (`nn.AvgPool2d`, `count_include_pad=True`): input `[N, C, H, W]`;
/// every window divides by kernelSize.0 · kernelSize.1, padding included. `stride` nil
/// means the kernel size. Kernel, stride and padding are (height, width) pairs; the
/// `Int` initialisers use one value for both.
public final class AvgPool2d: Module {
    public let kernelSize: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    /// A rectangular window; each size ≥ 1, each padding at most half its kernel.
    public init(kernelSize: (Int, Int), stride: (Int, Int)? = nil, padding: (Int, Int) = (0, 0)) {
        checkPoolArguments("AvgPool2d", kernelSize, stride, padding)
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        super.init()
    }

    /// A square window: `AvgPool2d(kernelSize: 2, stride: 2)`.
    public convenience init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        self.init(kernelSize: (kernelSize, kernelSize), stride: stride.map { ($0, $0) }, padding: (padding, padding))
    }

    /// The book's spelling, `nn.AvgPool2d(3, padding=1, stride=2)`.
    public convenience init(_ kernelSize: Int, padding: Int = 0, stride: Int? = nil) {
        self.init(kernelSize: kernelSize, stride: stride, padding: padding)
    }

    var layerDescription: String {
        "AvgPool2d(kernelSize: \(kernelSize), stride: \(stride), padding: \(padding))"
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkPoolInput(input, name: layerDescription, kernel: kernelSize, padding: padding)
        return Tensor.avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding)
    }
}

/// Adaptive average pooling to a fixed `[oh, ow]` (`nn.AdaptiveAvgPool2d`): output cell
/// (i, j) averages rows ⌊i·H/oh⌋ ..< ⌈(i+1)·H/oh⌉ and the same for columns.
public final class AdaptiveAvgPool2d: Module {
    public let outputSize: (Int, Int)

    public init(outputSize: (Int, Int)) {
        precondition(outputSize.0 >= 1 && outputSize.1 >= 1, "AdaptiveAvgPool2d: invalid output size \(outputSize)")
        self.outputSize = outputSize
        super.init()
    }

    public convenience init(_ size: Int) { self.init(outputSize: (size, size)) }

    public override func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[2] >= 1, input.shape[3] >= 1 else {
            throw ToolkitError(.shape, "AdaptiveAvgPool2d(outputSize: \(outputSize)): expected input [N, C, H, W] with H, W ≥ 1, got shape \(input.shape)")
        }
        return Tensor.adaptiveAvgPool2d(input, outputSize: outputSize)
    }
}

/// The pooling layers' argument rule (PyTorch's): kernel and stride ≥ 1, padding ≥ 0 and
/// at most half the kernel, per dimension. A layer built in code with other values is a
/// programming error (as for Conv2d), not bad input.
func checkPoolArguments(_ name: String, _ kernel: (Int, Int), _ stride: (Int, Int)?, _ padding: (Int, Int)) {
    precondition(kernel.0 >= 1 && kernel.1 >= 1 && (stride?.0 ?? 1) >= 1 && (stride?.1 ?? 1) >= 1
                 && padding.0 >= 0 && padding.1 >= 0 && 2 * padding.0 <= kernel.0 && 2 * padding.1 <= kernel.1,
                 "\(name): invalid kernel \(kernel), stride \(stride.map { "\($0)" } ?? "nil") or padding \(padding) (padding at most half the kernel)")
}

func checkPoolInput(_ input: Tensor, name: String, kernel: (Int, Int), padding: (Int, Int)) throws {
    guard input.rank == 4 else {
        throw ToolkitError(.shape, "\(name): expected input [N, C, H, W], got shape \(input.shape)")
    }
    guard input.shape[2] + 2 * padding.0 >= kernel.0, input.shape[3] + 2 * padding.1 >= kernel.1 else {
        throw ToolkitError(.shape, "\(name): input of shape \(input.shape) is smaller than the \(kernel.0)×\(kernel.1) window after padding")
    }
}
