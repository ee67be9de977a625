/// 2-D max pooling (`nn.MaxPool2d`): input `[N, C, H, W]`; padding counts as -∞.
/// `stride` nil means the kernel size.
public final class MaxPool2d: Module {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(kernelSize >= 1 && (stride ?? 1) >= 1 && padding >= 0 && padding * 2 <= kernelSize,
                     "MaxPool2d: invalid kernel \(kernelSize), stride \(String(describing: stride)) or padding \(padding)")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkPoolInput(input, name: "MaxPool2d(kernelSize: \(kernelSize), stride: \(stride), padding: \(padding))",
                           kernel: kernelSize, padding: padding)
        return Tensor.maxPool2d(input, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                                padding: (padding, padding))
    }
}

/// 2-D average pooling (`nn.AvgPool2d`, `count_include_pad=True`): input `[N, C, H, W]`;
/// every window divides by kernelSize², padding included. `stride` nil means the kernel size.
public final class AvgPool2d: Module {
    public let kernelSize: Int
    public let stride: Int
    public let padding: Int

    public init(kernelSize: Int, stride: Int? = nil, padding: Int = 0) {
        precondition(kernelSize >= 1 && (stride ?? 1) >= 1 && padding >= 0 && padding * 2 <= kernelSize,
                     "AvgPool2d: invalid kernel \(kernelSize), stride \(String(describing: stride)) or padding \(padding)")
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        super.init()
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        try checkPoolInput(input, name: "AvgPool2d(kernelSize: \(kernelSize), stride: \(stride), padding: \(padding))",
                           kernel: kernelSize, padding: padding)
        return Tensor.avgPool2d(input, kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                                padding: (padding, padding))
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

func checkPoolInput(_ input: Tensor, name: String, kernel: Int, padding: Int) throws {
    guard input.rank == 4 else {
        throw ToolkitError(.shape, "\(name): expected input [N, C, H, W], got shape \(input.shape)")
    }
    guard input.shape[2] + 2 * padding >= kernel, input.shape[3] + 2 * padding >= kernel else {
        throw ToolkitError(.shape, "\(name): input of shape \(input.shape) is smaller than the \(kernel)×\(kernel) window after padding")
    }
}
