import D2LRuntime

/// Resizes CHW images as PIL's `Image.resize(size, BILINEAR)` does — what torchvision's
/// `Resize`, `RandomResizedCrop` and `F.resize` do to PIL images (and what
/// `F.interpolate(mode="bilinear", antialias=True)` does to tensors) — but on floats.
///
/// PIL's separable resampling: each axis is filtered on its own, columns first, then rows
/// (an axis whose size does not change is skipped). With `scale = in / out` and
/// `filterScale = max(1, scale)`, output index `i` has its centre at `(i + 0.5) · scale`
/// in input coordinates; it takes the inputs `j` in
/// `[Int(centre − filterScale + 0.5), Int(centre + filterScale + 0.5))` (clipped to the
/// image) with weights `triangle((j − centre + 0.5) / filterScale)`, `triangle(t) = max(0, 1 − |t|)`,
/// divided by their sum. When downsampling the triangle widens by the scale factor, so
/// every input pixel contributes (antialiasing); when upsampling it is plain half-pixel
/// bilinear interpolation with the border pixel repeated.
///
/// This equals PIL on `"F"` (float) images up to float rounding. On 8-bit images PIL
/// also rounds each pass to 8 bits (with 22-bit fixed-point weights), so for an 8-bit
/// image converted to floats the result, × 255, is within 1 level of PIL's output.
///
/// - Parameters:
///   - pixels: `planes × height × width` floats, row-major; every plane is resized on its own.
///   - planes: the number of planes (channels, or N·C).
///   - height: the input's rows per plane (positive).
///   - width: the input's columns per plane (positive).
///   - outputHeight: the output's rows per plane (positive).
///   - outputWidth: the output's columns per plane (positive).
/// - Returns: `planes × outputHeight × outputWidth` floats, row-major.
/// - Throws: `ToolkitError(.invalidArgument)` when a size is not positive, and
///   `ToolkitError(.shape)` when `pixels.count != planes · height · width`.
public func resizeAntialiased(
    _ pixels: [Float], planes: Int, height: Int, width: Int, outputHeight: Int, outputWidth: Int
) throws -> [Float] {
    try checkResizeArguments("resizeAntialiased", pixels.count, planes: planes, height: height, width: width,
                             outputHeight: outputHeight, outputWidth: outputWidth)
    var current = pixels
    if width != outputWidth {
        let taps = ResampleTaps(inSize: width, outSize: outputWidth)
        let tapWeights = taps.weights.map { Float($0) }
        var result = [Float](repeating: 0, count: planes * height * outputWidth)
        current.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                tapWeights.withUnsafeBufferPointer { weights in
                    for row in 0..<(planes * height) {
                        let line = source.baseAddress! + row * width
                        for i in 0..<outputWidth {
                            let first = taps.first[i], offset = taps.offset[i]
                            var sum: Float = 0
                            for k in 0..<taps.count[i] { sum += weights[offset + k] * line[first + k] }
                            target[row * outputWidth + i] = sum
                        }
                    }
                }
            }
        }
        current = result
    }
    if height != outputHeight {
        let taps = ResampleTaps(inSize: height, outSize: outputHeight)
        let tapWeights = taps.weights.map { Float($0) }
        var result = [Float](repeating: 0, count: planes * outputHeight * outputWidth)
        current.withUnsafeBufferPointer { source in
            result.withUnsafeMutableBufferPointer { target in
                for plane in 0..<planes {
                    let input = source.baseAddress! + plane * height * outputWidth
                    for y in 0..<outputHeight {
                        // Each output row is a weighted sum of whole input rows.
                        let out = target.baseAddress! + (plane * outputHeight + y) * outputWidth
                        for k in 0..<taps.count[y] {
                            let weight = tapWeights[taps.offset[y] + k]
                            let row = input + (taps.first[y] + k) * outputWidth
                            for x in 0..<outputWidth { out[x] += weight * row[x] }
                        }
                    }
                }
            }
        }
        current = result
    }
    return current
}

extension Image {
    /// The image resized as PIL's bilinear `resize` (`resizeAntialiased`). Sizes must be positive.
    func resampled(height newHeight: Int, width newWidth: Int) -> Image {
        // Sizes are positive and pixels.count matches, so resizeAntialiased cannot throw.
        let result = (try? resizeAntialiased(
            pixels, planes: channels, height: height, width: width,
            outputHeight: newHeight, outputWidth: newWidth)) ?? []
        return Image(unchecked: channels, newHeight, newWidth, result)
    }
}
