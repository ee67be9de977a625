/// How raw 8-bit pixels become a model's float input: the `d2l.input` metadata of
/// docs/FORMAT.md, `{"layout": "NCHW", "range": [lo, hi], "mean": [..], "std": [..],
/// "size": [H, W]}`. A pixel p of channel c becomes
/// `(lo + p · (hi − lo) / 255 − mean[c]) / std[c]`; `"size"` (optional) is the height and
/// width images are resized to. Every key is optional: without the metadata, or without a
/// key, range [0, 1], mean 0, std 1 and no size apply. Other keys are ignored.
public struct ImageInputSpec: Sendable {
    /// What pixel 0 maps to.
    public var rangeLow = 0.0
    /// What pixel 255 maps to.
    public var rangeHigh = 1.0
    /// One value per channel, or one value for every channel.
    public var mean: [Double] = [0]
    /// One value per channel, or one value for every channel; never 0.
    public var std: [Double] = [1]
    /// `"size": [H, W]`, when given.
    public var height: Int?
    public var width: Int?

    /// The largest height or width `"size"` may name (the element count is checked
    /// against the tensor limit besides).
    public static let maximumSide = 1 << 24

    /// Range [0, 1], mean 0, std 1, no size: what a model without `d2l.input` gets.
    public init() {}

    /// Reads `d2l.input` (`text`), or the defaults when `text` is nil.
    /// - Throws: D2L_ERR_INVALID_MODEL naming what is wrong: not a JSON object, a layout
    ///   other than "NCHW", a range that is not two finite numbers, a mean or std that is
    ///   not a non-empty array of finite numbers (std: none 0), a size that is not two
    ///   whole numbers from 1 to ``maximumSide``.
    public init(metadata text: String?) throws(D2LError) {
        guard let text else { return }
        var copy = text
        var spec = ImageInputSpec()
        let problem = copy.withUTF8 { bytes -> String? in
            var reader = JSONReader(bytes: bytes)
            return ImageInputSpec.read(&reader, into: &spec)
        }
        if let problem { throw .invalidModel("d2l.input \(problem)") }
        self = spec
    }

    /// The mean and std of channel `channel` of a `channels`-channel input.
    /// - Throws: D2L_ERR_INVALID_MODEL when mean or std has neither 1 nor `channels` values.
    public func normalization(channel: Int, of channels: Int) throws(D2LError) -> (mean: Double, std: Double) {
        for (name, values) in [("mean", mean), ("std", std)] where values.count != 1 && values.count != channels {
            let allowed = channels == 1 ? "1" : "1 or \(channels)"
            throw .invalidModel("d2l.input has \(values.count) \"\(name)\" values for a \(channels)-channel input (give \(allowed))")
        }
        return (mean.count == 1 ? mean[0] : mean[channel], std.count == 1 ? std[0] : std[channel])
    }

    /// Reads the object at `r` into `spec`; returns what is wrong (to follow "d2l.input "), or nil.
    private static func read(_ r: inout JSONReader, into spec: inout ImageInputSpec) -> String? {
        guard r.take(UInt8(ascii: "{")) else { return "is not a JSON object" }
        if !r.take(UInt8(ascii: "}")) {
            while true {
                r.skipSpace()
                guard let key = r.string(), r.take(UInt8(ascii: ":")) else { return "is not a well-formed JSON object" }
                switch key {
                case "layout":
                    r.skipSpace()
                    guard let layout = r.string() else { return "\"layout\" must be a string (\"NCHW\")" }
                    guard layout == "NCHW" else { return "\"layout\" is \(quoted(layout)); only \"NCHW\" is supported" }
                case "range":
                    guard let range = r.numberArray(), range.count == 2, range[0].isFinite, range[1].isFinite else {
                        return "\"range\" must be an array of two finite numbers"
                    }
                    spec.rangeLow = range[0]
                    spec.rangeHigh = range[1]
                case "mean":
                    guard let mean = r.numberArray(), !mean.isEmpty, mean.allSatisfy({ $0.isFinite }) else {
                        return "\"mean\" must be a non-empty array of finite numbers"
                    }
                    spec.mean = mean
                case "std":
                    guard let std = r.numberArray(), !std.isEmpty, std.allSatisfy({ $0.isFinite && $0 != 0 }) else {
                        return "\"std\" must be a non-empty array of finite numbers other than 0"
                    }
                    spec.std = std
                case "size":
                    guard let size = r.numberArray(), size.count == 2,
                          size.allSatisfy({ $0 >= 1 && $0 <= Double(maximumSide) && $0 == $0.rounded(.down) }) else {
                        return "\"size\" must be [height, width], whole numbers from 1 to \(maximumSide)"
                    }
                    spec.height = Int(size[0])
                    spec.width = Int(size[1])
                default:
                    guard r.skipValue() else { return "is not well-formed JSON (at the value of \(quoted(key)))" }
                }
                if r.take(UInt8(ascii: ",")) { continue }
                guard r.take(UInt8(ascii: "}")) else { return "is not a well-formed JSON object" }
                break
            }
        }
        guard r.atEnd() else { return "has text after its JSON object" }
        return nil
    }
}
