/// Sliding-window attributes shared by `Conv`, `AveragePool` and `MaxPool`: kernel
/// shape, strides, dilations, pads (`[x1_begin, x2_begin, …, x1_end, x2_end]`) and
/// `auto_pad`, and the output size they give.
struct SpatialWindow {
    enum AutoPad { case notSet, sameUpper, sameLower, valid }

    var kernel: [Int]?
    var strides: [Int]?
    var dilations: [Int]?
    var pads: [Int]?
    var autoPad: AutoPad

    /// Reads and range-checks the attributes (values ≥ 1, pads ≥ 0, consistent lengths).
    init(_ a: AttributeReader, dilationsAllowed: Bool) throws(D2LError) {
        kernel = try a.ints("kernel_shape")
        strides = try a.ints("strides")
        dilations = dilationsAllowed ? try a.ints("dilations") : nil
        pads = try a.ints("pads")
        switch try a.string("auto_pad", default: "NOTSET") {
        case "NOTSET": autoPad = .notSet
        case "SAME_UPPER": autoPad = .sameUpper
        case "SAME_LOWER": autoPad = .sameLower
        case "VALID": autoPad = .valid
        case let other: throw a.invalid("auto_pad", "has unknown value \(quoted(other))")
        }
        for (name, values) in [("kernel_shape", kernel), ("strides", strides), ("dilations", dilations)] {
            guard let values else { continue }
            if values.isEmpty || values.count > 3 { throw a.invalid(name, "must have 1 to 3 values") }
            for v in values where v < 1 || v > 1 << 20 { throw a.invalid(name, "has out-of-range value \(v)") }
        }
        if let pads {
            if pads.count % 2 != 0 || pads.count > 6 { throw a.invalid("pads", "must have 2 × spatial rank values") }
            for v in pads where v < 0 || v > 1 << 20 { throw a.invalid("pads", "has out-of-range value \(v)") }
            if autoPad != .notSet { throw a.invalid("pads", "cannot be combined with auto_pad") }
        }
    }

    /// Output sizes and leading/trailing pads for spatial input sizes `input` and kernel
    /// sizes `kernelSizes` (from `kernel_shape` or the weights).
    func resolve(input: [Int], kernelSizes: [Int], ceilMode: Bool, label: String) throws(D2LError)
        -> (output: [Int], padBegin: [Int], padEnd: [Int], strides: [Int], dilations: [Int]) {
        let r = input.count
        let s = strides ?? [Int](repeating: 1, count: r)
        let d = dilations ?? [Int](repeating: 1, count: r)
        guard s.count == r, d.count == r, kernelSizes.count == r else {
            throw .shape("\(label): strides, dilations and kernel need \(r) spatial values")
        }
        var begin = [Int](repeating: 0, count: r), end = [Int](repeating: 0, count: r)
        if let pads {
            guard pads.count == 2 * r else { throw .shape("\(label): pads need \(2 * r) values, got \(pads.count)") }
            for i in 0..<r { begin[i] = pads[i]; end[i] = pads[r + i] }
        }
        var out = [Int](repeating: 0, count: r)
        for i in 0..<r {
            let extent = (kernelSizes[i] - 1) * d[i] + 1
            switch autoPad {
            case .sameUpper, .sameLower:
                out[i] = (input[i] + s[i] - 1) / s[i]
                let total = max(0, (out[i] - 1) * s[i] + extent - input[i])
                begin[i] = autoPad == .sameUpper ? total / 2 : total - total / 2
                end[i] = total - begin[i]
            case .valid, .notSet:
                let padded = input[i] + begin[i] + end[i]
                guard padded >= extent else {
                    throw .shape("\(label): the window (\(extent)) is larger than the padded input (\(padded)) in spatial dimension \(i)")
                }
                if ceilMode {
                    out[i] = (padded - extent + s[i] - 1) / s[i] + 1
                    // The last window must start inside the input or the leading padding.
                    if (out[i] - 1) * s[i] >= input[i] + begin[i] { out[i] -= 1 }
                } else {
                    out[i] = (padded - extent) / s[i] + 1
                }
            }
        }
        return (out, begin, end, s, d)
    }
}
