/// The sizes of one 2-D convolution (1-D convolutions use `inputHeight = kernelHeight = 1`).
/// Layouts are row-major: input `[batch, inputChannels, inputHeight, inputWidth]`,
/// weight `[outputChannels, inputChannels / groups, kernelHeight, kernelWidth]`, bias
/// `[outputChannels]`, output `[batch, outputChannels, outputHeight, outputWidth]`.
/// Padding is zero padding; `padTop`/`padLeft` are the leading pads (the trailing pads
/// only enter through `outputHeight`/`outputWidth`).
package struct ConvGeometry: Equatable, Sendable {
    package var batch: Int
    package var inputChannels: Int
    package var inputHeight: Int
    package var inputWidth: Int
    package var outputChannels: Int
    package var outputHeight: Int
    package var outputWidth: Int
    package var kernelHeight: Int
    package var kernelWidth: Int
    package var strideHeight: Int = 1
    package var strideWidth: Int = 1
    package var padTop: Int = 0
    package var padLeft: Int = 0
    package var dilationHeight: Int = 1
    package var dilationWidth: Int = 1
    package var groups: Int = 1

    package init(batch: Int, inputChannels: Int, inputHeight: Int, inputWidth: Int,
                outputChannels: Int, outputHeight: Int, outputWidth: Int,
                kernelHeight: Int, kernelWidth: Int,
                strideHeight: Int = 1, strideWidth: Int = 1, padTop: Int = 0, padLeft: Int = 0,
                dilationHeight: Int = 1, dilationWidth: Int = 1, groups: Int = 1) {
        self.batch = batch
        self.inputChannels = inputChannels
        self.inputHeight = inputHeight
        self.inputWidth = inputWidth
        self.outputChannels = outputChannels
        self.outputHeight = outputHeight
        self.outputWidth = outputWidth
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.strideHeight = strideHeight
        self.strideWidth = strideWidth
        self.padTop = padTop
        self.padLeft = padLeft
        self.dilationHeight = dilationHeight
        self.dilationWidth = dilationWidth
        self.groups = groups
    }

    /// Input channels seen by one group.
    package var inputChannelsPerGroup: Int { inputChannels / groups }
    /// Output channels produced by one group.
    package var outputChannelsPerGroup: Int { outputChannels / groups }
}
