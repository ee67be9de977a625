/// An 8-bit image turned into one image of a model's float32 `[N, C, H, W]` input, as the
/// `d2l.input` metadata says (``ImageInputSpec``): the computation behind
/// `d2l_session_set_image_u8`, which the C examples and Python's `Model.classify` use.
///
/// 1. Channels: an RGBA image drops its alpha; an RGB one becomes grayscale for a
///    one-channel input (PIL's `convert("L")`: (19595 R + 38470 G + 7471 B + 2^15) >> 16);
///    a grayscale one is repeated in every channel. An RGB image for an input of other
///    than 1 or 3 channels is refused.
/// 2. Size: resized to H × W with PIL's bilinear filter (``resizeBilinear``) when it differs.
/// 3. Values: pixel p of channel c becomes Float((lo + p · (hi − lo) / 255 − mean[c]) / std[c]),
///    computed in double precision, written channel-major (C × H × W).
package enum ImagePreprocessing {
    /// The channel count the image has once alpha is dropped and grayscale conversion is
    /// done, for an input of `inputChannels` channels: 1 or 3.
    static func workingChannels(image channels: Int, inputChannels: Int) -> Int {
        channels == 1 || inputChannels == 1 ? 1 : 3
    }

    /// Writes `inputChannels × outHeight × outWidth` floats to `output` from the
    /// `height × width × channels` bytes of `pixels` (channels 1, 3 or 4, interleaved).
    /// Sizes ≥ 1 and their products are checked by the caller to fit (no overflow, at most
    /// the tensor limit). Allocates scratch with ``AlignedBuffer``.
    /// - Throws: D2L_ERR_SHAPE when a colour image cannot fill `inputChannels` channels,
    ///   D2L_ERR_INVALID_MODEL when mean or std do not fit the channels,
    ///   D2L_ERR_OUT_OF_MEMORY when scratch cannot be allocated.
    static func prepare(pixels: UnsafePointer<UInt8>, height: Int, width: Int, channels: Int, spec: ImageInputSpec,
                        inputChannels: Int, outHeight: Int, outWidth: Int,
                        into output: UnsafeMutablePointer<Float>) throws(D2LError) {
        let working = workingChannels(image: channels, inputChannels: inputChannels)
        if working == 3 && inputChannels != 3 {
            throw .shape("the model's input has \(inputChannels) channels; a colour image gives 1 (grayscale) or 3 (RGB)")
        }
        var normalization: [(mean: Double, std: Double)] = []
        for c in 0..<inputChannels { normalization.append(try spec.normalization(channel: c, of: inputChannels)) }

        // 1. Channels (no copy when the image already has the working channels).
        var converted: AlignedBuffer?
        var image = pixels
        if working != channels {
            let buffer = try AlignedBuffer(byteCount: height * width * working)
            let out = buffer.pointer.assumingMemoryBound(to: UInt8.self)
            for i in 0..<height * width {
                let p = pixels + i * channels
                if working == 1 {
                    let l = (19595 * UInt32(p[0]) + 38470 * UInt32(p[1]) + 7471 * UInt32(p[2]) + 0x8000) >> 16
                    out[i] = UInt8(truncatingIfNeeded: l)
                } else {
                    for c in 0..<3 { out[i * 3 + c] = p[c] }
                }
            }
            converted = buffer
            image = UnsafePointer(out)
        }

        // 2. Size.
        var resized: AlignedBuffer?
        if outHeight != height || outWidth != width {
            let middle = try AlignedBuffer(byteCount: height * outWidth * working * 8)
            let buffer = try AlignedBuffer(byteCount: outHeight * outWidth * working)
            let out = buffer.pointer.assumingMemoryBound(to: UInt8.self)
            resizeBilinear(image, height: height, width: width, channels: working, outHeight: outHeight,
                           outWidth: outWidth, middle: middle.pointer.assumingMemoryBound(to: Double.self), into: out)
            resized = buffer
            image = UnsafePointer(out)
        }

        // 3. Values, channel-major.
        let scale = (spec.rangeHigh - spec.rangeLow) / 255
        let plane = outHeight * outWidth
        for c in 0..<inputChannels {
            let (mean, std) = normalization[c]
            let source = working == 1 ? 0 : c
            let destination = output + c * plane
            for i in 0..<plane {
                let x = spec.rangeLow + Double(image[i * working + source]) * scale
                destination[i] = Float((x - mean) / std)
            }
        }
        withExtendedLifetime(converted) {}
        withExtendedLifetime(resized) {}
    }
}
