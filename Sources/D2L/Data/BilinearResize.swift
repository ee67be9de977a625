/// Resizes CHW images with bilinear interpolation, like PyTorch's
/// `F.interpolate(x, size, mode="bilinear", align_corners=False)` (no antialiasing).
///
/// Output pixel `(y, x)` samples the input at `((y + 0.5) · inH / outH − 0.5,
/// (x + 0.5) · inW / outW − 0.5)` (half-pixel centres), clamped below at 0 and
/// blending the two nearest rows and columns (the last row or column repeats at the
/// border). Equal sizes copy the input.
///
/// When upsampling this is what PIL's bilinear `resize` (and so torchvision's `Resize` on
/// PIL images) computes, before PIL's rounding to 8 bits; when downsampling PIL
/// antialiases: use `resizeAntialiased` for torchvision's `Resize`.
///
/// - Parameters:
///   - pixels: `channels × height × width` floats, row-major (CHW). Several images may
///     be stacked (`N·C` planes): every `height × width` plane is resized on its own.
///   - planes: the number of `height × width` planes in `pixels` (channels, or N·C).
///   - height: the input's rows per plane (positive).
///   - width: the input's columns per plane (positive).
///   - outputHeight: the output's rows per plane (positive).
///   - outputWidth: the output's columns per plane (positive).
/// - Returns: `planes × outputHeight × outputWidth` floats, row-major.
/// - Throws: `ToolkitError(.invalidArgument)` when a size is not positive, and
///   `ToolkitError(.shape)` when `pixels.count != planes · height · width`.
public func resizeBilinear(
    _ pixels: [Float], planes: Int, height: Int, width: Int, outputHeight: Int, outputWidth: Int
) throws -> [Float] {
    try checkResizeArguments("resizeBilinear", pixels.count, planes: planes, height: height, width: width,
                             outputHeight: outputHeight, outputWidth: outputWidth)
    if height == outputHeight && width == outputWidth { return pixels }
    let rows = bilinearTaps(input: height, output: outputHeight)
    let cols = bilinearTaps(input: width, output: outputWidth)
    var result = [Float](repeating: 0, count: planes * outputHeight * outputWidth)
    pixels.withUnsafeBufferPointer { source in
        result.withUnsafeMutableBufferPointer { target in
            for plane in 0..<planes {
                let inBase = plane * height * width
                let outBase = plane * outputHeight * outputWidth
                for y in 0..<outputHeight {
                    let r = rows[y]
                    let row0 = inBase + r.low * width
                    let row1 = inBase + r.high * width
                    for x in 0..<outputWidth {
                        let c = cols[x]
                        let top = (1 - c.weight) * source[row0 + c.low] + c.weight * source[row0 + c.high]
                        let bottom = (1 - c.weight) * source[row1 + c.low] + c.weight * source[row1 + c.high]
                        target[outBase + y * outputWidth + x] = (1 - r.weight) * top + r.weight * bottom
                    }
                }
            }
        }
    }
    return result
}

/// For each output index: the two input indices it blends and the weight of the second.
private func bilinearTaps(input: Int, output: Int) -> [(low: Int, high: Int, weight: Float)] {
    let scale = Float(input) / Float(output)
    return (0..<output).map { index in
        let source = max(0, (Float(index) + 0.5) * scale - 0.5)
        let low = min(Int(source), input - 1)
        let high = low < input - 1 ? low + 1 : low
        return (low, high, source - Float(low))
    }
}

/// The checks both resizes make (`resizeBilinear`, `resizeAntialiased`): positive sizes
/// and `count == planes · height · width`; errors name `function`.
func checkResizeArguments(_ function: String, _ count: Int, planes: Int, height: Int, width: Int,
                          outputHeight: Int, outputWidth: Int) throws {
    guard planes >= 0, height > 0, width > 0, outputHeight > 0, outputWidth > 0 else {
        throw ToolkitError(
            .invalidArgument,
            "\(function): sizes must be positive, got \(planes) planes of \(height)×\(width) to \(outputHeight)×\(outputWidth)")
    }
    guard count == planes * height * width else {
        throw ToolkitError(.shape, "\(function): \(count) values do not make \(planes) planes of \(height)×\(width)")
    }
}
