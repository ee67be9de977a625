// The argument checks of the detection functions (`BoxGeometry.swift`), shared by the C
// API and the toolkit: each failure is a `D2LError` `.invalidArgument` whose message names
// the function and the argument. Nothing is computed before they pass.

package enum DetectionChecks {
    /// `a · b`, or an error naming `what` when it overflows.
    package static func product(_ a: Int, _ b: Int, _ what: String, _ fn: String) throws(D2LError) -> Int {
        guard a >= 0, b >= 0, let p = checkedMultiply(a, b) else {
            throw D2LError(.invalidArgument, "\(fn): \(what) (\(a) × \(b)) is too large")
        }
        return p
    }

    /// `count` values at `p` must be finite (a NULL pointer is an error unless `count` is 0).
    package static func finite(_ p: UnsafePointer<Float>?, count: Int, _ what: String, _ fn: String) throws(D2LError) {
        guard count > 0 else { return }
        guard let p else { throw D2LError(.invalidArgument, "\(fn): \(what) is NULL") }
        for i in 0..<count where !p[i].isFinite {
            throw D2LError(.invalidArgument, "\(fn): \(what)[\(i)] is \(Double(p[i])), not a finite number")
        }
    }

    /// A threshold in [0, 1].
    package static func threshold(_ value: Float, _ what: String, _ fn: String) throws(D2LError) {
        guard value >= 0, value <= 1 else {
            throw D2LError(.invalidArgument, "\(fn): \(what) must be in [0, 1], got \(Double(value))")
        }
    }

    /// `count` values at `p`, each finite and > 0 (`multibox_prior`'s sizes and ratios).
    package static func positive(_ p: UnsafePointer<Float>?, count: Int, _ what: String, _ fn: String) throws(D2LError) {
        guard count >= 1 else { throw D2LError(.invalidArgument, "\(fn): at least one of \(what) is needed") }
        guard let p else { throw D2LError(.invalidArgument, "\(fn): \(what) is NULL") }
        for i in 0..<count where !(p[i].isFinite && p[i] > 0) {
            throw D2LError(.invalidArgument, "\(fn): \(what)[\(i)] must be a finite number > 0, got \(Double(p[i]))")
        }
    }

    /// The values of `multibox_prior`'s output, `height · width · (sizes + ratios − 1) · 4`.
    package static func priorValues(height: Int, width: Int, sizeCount: Int, ratioCount: Int, _ fn: String) throws(D2LError) -> Int {
        guard height >= 1, width >= 1 else {
            throw D2LError(.invalidArgument, "\(fn): the feature map must be at least 1 × 1, got \(height) × \(width)")
        }
        guard let perPixel = checkedAdd(sizeCount, ratioCount).map({ $0 - 1 }), perPixel >= 1 else {
            throw D2LError(.invalidArgument, "\(fn): too many sizes and ratios")
        }
        let pixels = try product(height, width, "height × width", fn)
        let anchors = try product(pixels, perPixel, "the anchor count", fn)
        return try product(anchors, 4, "the anchor count × 4", fn)
    }
}
