/// Setting an image input from raw 8-bit pixels (`d2l_session_set_image_u8`).
extension Session {
    /// Prepares input `index`, a float32 `[N, C, H, W]` input (N symbolic or 1), from the
    /// 8-bit image `pixels` (`height × width × channels` bytes, channels interleaved: 1 =
    /// grayscale, 3 = RGB, 4 = RGBA) as the model's `d2l.input` metadata says
    /// (``ImageInputSpec``, and the preparation in `ImagePreprocessing`), and sets it as a batch of one,
    /// `[1, C, H', W']`. H' × W' is `d2l.input`'s `"size"`, else the input's fixed height
    /// and width, else the image's own size; C is the input's channel count (for a
    /// symbolic one, 1 for a grayscale image and 3 otherwise).
    ///
    /// - Throws: D2L_ERR_INVALID_ARGUMENT (index out of range, sizes 0, channels not 1, 3
    ///   or 4, sizes whose product overflows, an input that is not float32 or not rank 4),
    ///   D2L_ERR_INVALID_MODEL (malformed `d2l.input`, or a `"size"` other than the input's
    ///   fixed height and width), D2L_ERR_SHAPE (a fixed batch other than 1, a colour image
    ///   for an input of 2 or more than 3 channels, an input too large),
    ///   D2L_ERR_OUT_OF_MEMORY. On error the input set before is kept.
    public func setImage(_ index: Int, pixels: UnsafePointer<UInt8>, height: Int, width: Int,
                         channels: Int) throws(D2LError) {
        guard index >= 0 && index < model.inputs.count else {
            throw .invalidArgument("input index \(index) is out of range (the model has \(model.inputs.count) inputs)")
        }
        guard height >= 1, width >= 1 else {
            throw .invalidArgument("the image is \(height) × \(width) pixels; height and width must be at least 1")
        }
        guard channels == 1 || channels == 3 || channels == 4 else {
            throw .invalidArgument("channels is \(channels); an image has 1 (grayscale), 3 (RGB) or 4 (RGBA)")
        }
        guard checkedElementCount([height, width, channels], limit: maxTensorElements) != nil else {
            throw .invalidArgument("a \(height) × \(width) × \(channels) image is too large")
        }
        let input = model.inputs[index]
        let dims = input.type.dims
        guard input.type.dtype == .float32, dims.count == 4 else {
            throw .invalidArgument("input \(quoted(input.name)) is \(input.type.dtype.name)\(describeDeclared(dims)); an image needs a float32 [N, C, H, W] input")
        }
        if let batch = dims[0], batch != 1 {
            throw .shape("input \(quoted(input.name)) has a fixed batch of \(batch) (\(describeDeclared(dims))); an image is a batch of 1")
        }
        let spec = try ImageInputSpec(metadata: model.metadata("d2l.input"))
        let inputChannels = dims[1] ?? (channels == 1 ? 1 : 3)
        guard inputChannels >= 1 else { throw .shape("input \(quoted(input.name)) has 0 channels") }
        var outHeight = dims[2] ?? height, outWidth = dims[3] ?? width
        if let h = spec.height, let w = spec.width {
            if (dims[2] ?? h) != h || (dims[3] ?? w) != w {
                throw .invalidModel("d2l.input's \"size\" [\(h), \(w)] differs from the fixed height and width of input \(quoted(input.name)) \(describeDeclared(dims))")
            }
            outHeight = h
            outWidth = w
        }
        let working = ImagePreprocessing.workingChannels(image: channels, inputChannels: inputChannels)
        guard let count = checkedElementCount([inputChannels, outHeight, outWidth], limit: maxTensorElements),
              checkedElementCount([height, outWidth, working], limit: maxTensorElements) != nil else {
            throw .shape("input \(quoted(input.name)) of \(shapeText([1, inputChannels, outHeight, outWidth])) is too large")
        }
        let prepared = try AlignedBuffer(byteCount: count * DType.float32.size)
        try ImagePreprocessing.prepare(pixels: pixels, height: height, width: width, channels: channels, spec: spec,
                                       inputChannels: inputChannels, outHeight: outHeight, outWidth: outWidth,
                                       into: prepared.pointer.assumingMemoryBound(to: Float.self))
        try setInput(index, dtype: .float32, data: UnsafeRawPointer(prepared.pointer),
                     shape: [1, inputChannels, outHeight, outWidth])
    }
}
