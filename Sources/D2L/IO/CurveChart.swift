import Foundation

/// A line chart of training curves as a standalone SVG, like the book's `Animator`.
///
/// Axes with ticks and labels, a legend, and one style per series in the book's order:
/// blue solid, magenta dashed, green dash-dot, red dotted (then other colours). NaN and
/// infinite points are skipped: the line breaks there. With `logY` (`logX`), non-positive
/// y (x) values are skipped too.
///
/// ```swift
/// var chart = CurveChart(xLabel: "epoch")
/// chart.series = [("train loss", losses), ("test acc", accuracies)]
/// try chart.write(to: "runs/lenet.svg")
/// ```
public struct CurveChart {
    /// A title above the plot, or none.
    public var title: String?
    /// The label under the x axis.
    public var xLabel: String
    /// The label beside the y axis, or none.
    public var yLabel: String?
    /// The curves, drawn and listed in the legend in order.
    public var series: [(name: String, points: [(x: Double, y: Double)])]
    /// The x range shown; nil fits the data.
    public var xLimits: (Double, Double)?
    /// The y range shown; nil fits the data.
    public var yLimits: (Double, Double)?
    /// A logarithmic y axis (base 10).
    public var logY: Bool
    /// A logarithmic x axis (base 10; with `logY`, the book's log-log plots such as Zipf's law).
    public var logX: Bool = false
    /// The image's width in pixels.
    public var width: Double
    /// The image's height in pixels.
    public var height: Double
    /// Whether each point gets a marker (a dot in the series' colour): nil (the default)
    /// marks series of at most ``automaticMarkerLimit`` points, so a one-epoch run's
    /// single point shows; a point with no neighbour to join is always marked.
    public var showsMarkers: Bool?
    /// Series with at most this many points get markers when `showsMarkers` is nil.
    public static let automaticMarkerLimit = 40
    /// Ticks on the x axis at whole numbers only (epochs), never at 1.2 or 1.4.
    public var integerXTicks: Bool = false
    /// Horizontal reference lines across the plot, black and dashed, listed in the legend
    /// after the series (matplotlib's `axhline(y, color='black', linestyle='dashed')`, as the
    /// book marks 1/6 in its die-rolling plot).
    public var referenceLines: [(name: String, y: Double)] = []

    /// A chart with the given labels and series.
    public init(title: String? = nil, xLabel: String, yLabel: String? = nil,
                series: [(name: String, points: [(x: Double, y: Double)])] = [],
                xLimits: (Double, Double)? = nil, yLimits: (Double, Double)? = nil,
                logY: Bool = false, width: Double = 480, height: Double = 340) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.xLimits = xLimits
        self.yLimits = yLimits
        self.logY = logY
        self.width = width
        self.height = height
        self.showsMarkers = nil
    }

    /// A chart of per-epoch curves of a run of `epochs`: x labelled "epoch" from 1 to
    /// `epochs` (the book's `Animator(xlim=[1, num_epochs])`; 0.5 to 1.5 for one epoch, so
    /// that its single points sit mid-plot), ticks at whole epochs, y labelled `yLabel`.
    public static func epochs(_ epochs: Int, yLabel: String) -> CurveChart {
        var chart = CurveChart(xLabel: "epoch", yLabel: yLabel)
        chart.xLimits = epochs <= 1 ? (0.5, 1.5) : (1, Double(epochs))
        chart.integerXTicks = true
        return chart
    }

    /// The radius of a point's marker.
    static let markerRadius = 2.5

    /// One series' stroke: colour and SVG dash pattern (nil for solid).
    struct Style { var color: String; var dash: String? }

    /// The book's formats ('-', 'm--', 'g-.', 'r:') first, then more colours, solid.
    static let styles: [Style] = [
        Style(color: "#1f77b4", dash: nil),
        Style(color: "#bf00bf", dash: "6,4"),
        Style(color: "#008000", dash: "7,3,1.5,3"),
        Style(color: "#ff0000", dash: "1.5,3"),
        Style(color: "#ff7f0e", dash: nil),
        Style(color: "#8c564b", dash: nil),
        Style(color: "#17becf", dash: nil),
        Style(color: "#7f7f7f", dash: nil),
    ]

    /// The chart as an SVG document.
    public func svg() -> String {
        let w = max(width.isFinite ? width : 480, 120), h = max(height.isFinite ? height : 340, 100)
        let left = 62.0, right = 16.0
        let top = title == nil ? 14.0 : 34.0
        let bottom = 46.0
        let plotW = w - left - right, plotH = h - top - bottom

        // Data to show: finite points (positive y on a log axis).
        let shown: [[(x: Double, y: Double)?]] = series.map { s in
            s.points.map { p in
                (p.x.isFinite && p.y.isFinite && (!logY || p.y > 0) && (!logX || p.x > 0)) ? p : nil
            }
        }
        let all = shown.flatMap { $0.compactMap { $0 } }
        let references = referenceLines.filter { $0.y.isFinite && (!logY || $0.y > 0) }
        let (x0, x1) = CurveChart.range(xLimits, all.map(\.x), log: logX)
        let (y0, y1) = CurveChart.range(yLimits, all.map(\.y) + references.map(\.y), log: logY)
        let xTicks = logX ? CurveChart.logTicks(x0, x1) : CurveChart.linearTicks(x0, x1, minimumStep: integerXTicks ? 1 : 0)
        let yTicks = logY ? CurveChart.logTicks(y0, y1) : CurveChart.linearTicks(y0, y1)

        func px(_ x: Double) -> Double {
            if logX { return left + (log10(x) - log10(x0)) / (log10(x1) - log10(x0)) * plotW }
            return left + (x - x0) / (x1 - x0) * plotW
        }
        func py(_ y: Double) -> Double {
            if logY { return top + plotH - (log10(y) - log10(y0)) / (log10(y1) - log10(y0)) * plotH }
            return top + plotH - (y - y0) / (y1 - y0) * plotH
        }

        var out = """
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" width="\(n(w))" height="\(n(h))" viewBox="0 0 \(n(w)) \(n(h))" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">
        <rect x="0" y="0" width="\(n(w))" height="\(n(h))" fill="white"/>
        <defs><clipPath id="plot-area"><rect x="\(n(left))" y="\(n(top))" width="\(n(plotW))" height="\(n(plotH))"/></clipPath><clipPath id="marker-area"><rect x="\(n(left - CurveChart.markerRadius))" y="\(n(top - CurveChart.markerRadius))" width="\(n(plotW + 2 * CurveChart.markerRadius))" height="\(n(plotH + 2 * CurveChart.markerRadius))"/></clipPath></defs>

        """
        if let title {
            out += "<text x=\"\(n(left + plotW / 2))\" y=\"20\" text-anchor=\"middle\" font-size=\"13\">\(xml(title))</text>\n"
        }
        // Grid and ticks.
        out += "<g stroke=\"#b0b0b0\" stroke-width=\"0.8\">\n"
        for t in xTicks where t >= x0 && t <= x1 {
            let x = px(t)
            out += "<line x1=\"\(n(x))\" y1=\"\(n(top + plotH))\" x2=\"\(n(x))\" y2=\"\(n(top + plotH + 4))\"/>\n"
        }
        for t in yTicks where t >= y0 && t <= y1 {
            let y = py(t)
            out += "<line x1=\"\(n(left - 4))\" y1=\"\(n(y))\" x2=\"\(n(left))\" y2=\"\(n(y))\"/>\n"
        }
        out += "</g>\n<g fill=\"#262626\">\n"
        for t in xTicks where t >= x0 && t <= x1 {
            out += "<text x=\"\(n(px(t)))\" y=\"\(n(top + plotH + 16))\" text-anchor=\"middle\">\(xml(CurveChart.tickLabel(t, ticks: xTicks, log: logX)))</text>\n"
        }
        for t in yTicks where t >= y0 && t <= y1 {
            out += "<text x=\"\(n(left - 7))\" y=\"\(n(py(t) + 4))\" text-anchor=\"end\">\(xml(CurveChart.tickLabel(t, ticks: yTicks, log: logY)))</text>\n"
        }
        out += "<text x=\"\(n(left + plotW / 2))\" y=\"\(n(h - 10))\" text-anchor=\"middle\" font-size=\"12\">\(xml(xLabel))</text>\n"
        if let yLabel {
            let cx = 14.0, cy = top + plotH / 2
            out += "<text x=\"\(n(cx))\" y=\"\(n(cy))\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 \(n(cx)) \(n(cy)))\">\(xml(yLabel))</text>\n"
        }
        out += "</g>\n"
        // The frame.
        out += "<rect x=\"\(n(left))\" y=\"\(n(top))\" width=\"\(n(plotW))\" height=\"\(n(plotH))\" fill=\"none\" stroke=\"#262626\" stroke-width=\"1\"/>\n"

        // The curves: one path per series, broken at skipped points.
        out += "<g clip-path=\"url(#plot-area)\" fill=\"none\" stroke-width=\"1.5\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n"
        var markers = ""
        for (i, points) in shown.enumerated() {
            let style = CurveChart.styles[i % CurveChart.styles.count]
            var d = ""
            var penDown = false
            for p in points {
                guard let p else { penDown = false; continue }
                d += (penDown ? "L" : "M") + "\(n(px(p.x))),\(n(py(p.y)))"
                penDown = true
            }
            let dash = style.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
            out += "<path d=\"\(d.isEmpty ? "M0,0" : d)\" stroke=\"\(style.color)\"\(dash)\(d.isEmpty ? " visibility=\"hidden\"" : "")><title>\(xml(series[i].name))</title></path>\n"
            // Markers: every point of a short series, and isolated points of any series.
            let markAll = showsMarkers ?? (points.count <= CurveChart.automaticMarkerLimit)
            var dots = ""
            for (j, p) in points.enumerated() {
                guard let p else { continue }
                let isolated = (j == 0 || points[j - 1] == nil) && (j + 1 == points.count || points[j + 1] == nil)
                if markAll || isolated { dots += "<circle cx=\"\(n(px(p.x)))\" cy=\"\(n(py(p.y)))\" r=\"\(n(CurveChart.markerRadius))\"/>" }
            }
            if !dots.isEmpty { markers += "<g class=\"markers\" fill=\"\(style.color)\" stroke=\"none\">\(dots)</g>\n" }
        }
        for line in references {
            out += "<line class=\"reference\" x1=\"\(n(left))\" y1=\"\(n(py(line.y)))\" x2=\"\(n(left + plotW))\" y2=\"\(n(py(line.y)))\" stroke=\"#000000\" stroke-dasharray=\"6,4\"><title>\(xml(line.name))</title></line>\n"
        }
        out += "</g>\n"
        // The markers, clipped to the plot widened by a marker, so that a point on the
        // frame (the first epoch's) shows whole.
        if !markers.isEmpty { out += "<g clip-path=\"url(#marker-area)\">\n" + markers + "</g>\n" }

        // The legend, top right inside the plot.
        let entries: [(name: String, style: Style)] = series.enumerated().map {
            ($0.element.name, CurveChart.styles[$0.offset % CurveChart.styles.count])
        } + references.map { ($0.name, Style(color: "#000000", dash: "6,4")) }
        if !entries.isEmpty {
            let longest = entries.map { $0.name.count }.max() ?? 0
            let boxW = 34 + Double(longest) * 6.6 + 8, rowH = 16.0
            let boxH = Double(entries.count) * rowH + 6
            let bx = left + plotW - boxW - 6, by = top + 6
            out += "<g class=\"legend\">\n<rect x=\"\(n(bx))\" y=\"\(n(by))\" width=\"\(n(boxW))\" height=\"\(n(boxH))\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#cccccc\" rx=\"3\"/>\n"
            for (i, s) in entries.enumerated() {
                let style = s.style
                let y = by + 3 + rowH * Double(i) + rowH / 2
                let dash = style.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
                out += "<line x1=\"\(n(bx + 6))\" y1=\"\(n(y))\" x2=\"\(n(bx + 28))\" y2=\"\(n(y))\" stroke=\"\(style.color)\" stroke-width=\"1.5\"\(dash)/>\n"
                out += "<text x=\"\(n(bx + 34))\" y=\"\(n(y + 4))\" fill=\"#262626\">\(xml(s.name))</text>\n"
            }
            out += "</g>\n"
        }
        out += "</svg>\n"
        return out
    }

    /// Writes ``svg()`` to `path` atomically.
    /// - Throws: ``ToolkitError`` `.io` naming `path`.
    public func write(to path: String) throws {
        try AtomicFile.write(text: svg(), to: path)
    }

    // MARK: - Scales

    /// The range to show: the limits if usable, else the data's with a margin (widened when
    /// empty or flat).
    static func range(_ limits: (Double, Double)?, _ values: [Double], log: Bool) -> (Double, Double) {
        if let (a, b) = limits, a.isFinite, b.isFinite, a < b, !log || a > 0 { return (a, b) }
        guard var lo = values.min(), var hi = values.max() else { return log ? (1, 10) : (0, 1) }
        // A 5% margin around the data, as matplotlib leaves.
        if log {
            if lo == hi { return (lo / 2, hi * 2) }
            let margin = pow(hi / lo, 0.05)
            return (lo / margin, hi * margin)
        }
        if lo == hi {
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            return (lo - pad, hi + pad)
        }
        let margin = (hi - lo) * 0.05
        lo -= margin; hi += margin
        return (lo, hi)
    }

    /// About five round ticks (1, 2 or 5 × 10^k apart, at least `minimumStep`) within [lo, hi].
    static func linearTicks(_ lo: Double, _ hi: Double, minimumStep: Double = 0) -> [Double] {
        let span = hi - lo
        guard span > 0, span.isFinite else { return [lo] }
        let raw = max(span / 5, minimumStep)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var ticks: [Double] = []
        var k = ceil(lo / step - 1e-9)
        while k * step <= hi + step * 1e-9 && ticks.count < 50 {
            let t = k * step
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            k += 1
        }
        return ticks
    }

    /// Powers of ten within [lo, hi] (thinned to at most ~8); the ends when there are none.
    static func logTicks(_ lo: Double, _ hi: Double) -> [Double] {
        let a = Int(ceil(log10(lo) - 1e-9)), b = Int(floor(log10(hi) + 1e-9))
        guard a <= b else { return [lo, hi] }
        let stride = max(1, (b - a) / 8 + 1)
        return Swift.stride(from: a, through: b, by: stride).map { pow(10, Double($0)) }
    }

    /// A tick's label: as few decimals as the spacing needs; powers of ten as `1e-5` when far from 1.
    static func tickLabel(_ value: Double, ticks: [Double], log: Bool) -> String {
        if log {
            let e = Int(log10(value).rounded())
            if abs(log10(value) - Double(e)) < 1e-9 {
                if e >= -3 && e <= 4 { return e >= 0 ? String(Int(pow(10, Double(e)))) : String(format: "%.\(-e)f", value) }
                return "1e\(e)"
            }
            return String(format: "%.3g", value)
        }
        let step = ticks.count > 1 ? abs(ticks[1] - ticks[0]) : max(abs(value), 1)
        if abs(value) >= 1e6 || (step < 1e-4 && value != 0) { return String(format: "%.3g", value) }
        let decimals = max(0, Int(ceil(-log10(step) - 1e-9)))
        return String(format: "%.\(decimals)f", value)
    }
}

/// A coordinate with at most two decimals, without trailing zeros.
private func n(_ v: Double) -> String {
    let r = (v * 100).rounded() / 100
    if r == r.rounded() { return String(Int(r)) }
    var s = String(format: "%.2f", r)
    while s.hasSuffix("0") { s.removeLast() }
    return s
}

/// `text` with XML's special characters escaped.
private func xml(_ text: String) -> String {
    var out = ""
    for c in text {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default:
            // Characters XML 1.0 cannot hold at all.
            if c.unicodeScalars.allSatisfy({ $0.value >= 0x20 || $0 == "\t" || $0 == "\n" || $0 == "\r" }) {
                out.append(c)
            } else {
                out += "\u{FFFD}"
            }
        }
    }
    return out
}
