import Foundation

/// 2-D convolution (`nn.Conv2d`): input `[N, inputChannels, H, W]`, output
/// `[N, outputChannels, H', W']`; weight `[outputChannels, inputChannels/groups, kh, kw]`
/// and bias `[outputChannels]`, initialised like PyTorch (U(±1/√fanIn),
/// fanIn = inputChannels/groups · kh · kw).
public final class Conv2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let inputChannels: Int
    public let outputChannels: Int
    public let groups: Int
    public let kernelSize: (Int, Int)
    public let stride: (Int, Int)
    public let padding: (Int, Int)

    public init(inputChannels: Int, outputChannels: Int, kernelSize: (Int, Int),
                stride: (Int, Int) = (1, 1), padding: (Int, Int) = (0, 0),
                groups: Int = 1, bias: Bool = true) {
        precondition(groups >= 1 && inputChannels % groups == 0 && outputChannels % groups == 0,
                     "Conv2d: channels \(inputChannels)→\(outputChannels) are not divisible by groups \(groups)")
        precondition(kernelSize.0 >= 1 && kernelSize.1 >= 1 && stride.0 >= 1 && stride.1 >= 1
                     && padding.0 >= 0 && padding.1 >= 0,
                     "Conv2d: invalid kernel \(kernelSize), stride \(stride) or padding \(padding)")
        self.inputChannels = inputChannels
        self.outputChannels = outputChannels
        self.groups = groups
        self.kernelSize = kernelSize
        self.stride = stride
        self.padding = padding
        let fanIn = inputChannels / groups * kernelSize.0 * kernelSize.1
        let bound = 1 / Float(Foundation.sqrt(Double(Swift.max(fanIn, 1))))
        weight = Parameter(Tensor.rand([outputChannels, inputChannels / groups, kernelSize.0, kernelSize.1],
                                       low: -bound, high: bound))
        self.bias = bias ? Parameter(Tensor.rand([outputChannels], low: -bound, high: bound)) : nil
        super.init()
        registerExisting("weight", weight)
        if let b = self.bias { registerExisting("bias", b) }
    }

    public convenience init(inputChannels: Int, outputChannels: Int, kernelSize: Int,
                            stride: Int = 1, padding: Int = 0, groups: Int = 1, bias: Bool = true) {
        self.init(inputChannels: inputChannels, outputChannels: outputChannels,
                  kernelSize: (kernelSize, kernelSize), stride: (stride, stride),
                  padding: (padding, padding), groups: groups, bias: bias)
    }

    var layerDescription: String {
        "Conv2d(\(inputChannels), \(outputChannels), kernelSize: \(kernelSize), stride: \(stride), padding: \(padding)"
            + (groups == 1 ? ")" : ", groups: \(groups))")
    }

    public override func forward(_ input: Tensor) throws -> Tensor {
        guard input.rank == 4, input.shape[1] == inputChannels else {
            throw ToolkitError(.shape, "\(layerDescription): expected input [N, \(inputChannels), H, W], got shape \(input.shape)")
        }
        let h = input.shape[2] + 2 * padding.0, w = input.shape[3] + 2 * padding.1
        guard h >= kernelSize.0, w >= kernelSize.1 else {
            throw ToolkitError(.shape, "\(layerDescription): input of shape \(input.shape) is smaller than the kernel \(kernelSize) after padding")
        }
        return Tensor.conv2d(input, weight: weight.value, bias: bias?.value,
                             stride: stride, padding: padding, groups: groups)
    }
}
