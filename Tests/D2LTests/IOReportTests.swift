import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest
@testable import D2L

/// Collects the elements and attributes of an XML document; fails on malformed XML.
private final class SVGCollector: NSObject, XMLParserDelegate {
    var elements: [(name: String, attributes: [String: String])] = []
    var text = ""
    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
                qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        text += "\n"
    }

    static func parse(_ svg: String) throws -> SVGCollector {
        let collector = SVGCollector()
        let parser = XMLParser(data: Data(svg.utf8))
        parser.delegate = collector
        guard parser.parse() else {
            throw ToolkitError(.invalidData, "invalid XML: \(parser.parserError.map { "\($0)" } ?? "?")")
        }
        return collector
    }
}

final class IOMetricsLogTests: XCTestCase {
    func testWritesHeaderAndRowsCompactly() throws {
        let dir = try ioTemporaryDirectory(self)
        let path = dir + "/metrics.csv"
        let log = try MetricsLog(path: path, columns: ["epoch", "train_loss", "test_acc"])
        // Each row is on disk as soon as append returns.
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "epoch,train_loss,test_acc\n")
        try log.append([1, 0.123456789, 0.5])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "epoch,train_loss,test_acc\n1,0.123457,0.5\n")
        try log.append([2_000_000, .nan, -.infinity])
        try log.append([3, 1e-7, 123456789.5])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8),
                       "epoch,train_loss,test_acc\n1,0.123457,0.5\n2000000,nan,-inf\n3,1e-07,1.23457e+08\n")

        let (columns, rows) = try MetricsLog.read(path: path)
        XCTAssertEqual(columns, ["epoch", "train_loss", "test_acc"])
        XCTAssertEqual(rows.count, 3)
        XCTAssertEqual(rows[0], [1, 0.123457, 0.5])
        XCTAssertEqual(rows[1][0], 2_000_000)
        XCTAssertTrue(rows[1][1].isNaN)
        XCTAssertEqual(rows[1][2], -.infinity)
        XCTAssertEqual(rows[2], [3, 1e-7, 123457000])
    }

    func testRejectsBadInput() throws {
        let dir = try ioTemporaryDirectory(self)
        ioAssertThrows(.invalidArgument, ["column"]) { try MetricsLog(path: dir + "/a.csv", columns: []) }
        ioAssertThrows(.invalidArgument, ["a,b"]) { try MetricsLog(path: dir + "/a.csv", columns: ["a,b"]) }
        ioAssertThrows(.io, [dir + "/no/such.csv", "No such file"]) { try MetricsLog(path: dir + "/no/such.csv", columns: ["a"]) }
        let log = try MetricsLog(path: dir + "/b.csv", columns: ["x", "y"])
        ioAssertThrows(.invalidArgument, ["3 values", "2 columns"]) { try log.append([1, 2, 3]) }

        try AtomicFile.write(text: "x,y\n1,2\n3,oops\n", to: dir + "/c.csv")
        ioAssertThrows(.invalidData, [dir + "/c.csv", "line 3", "oops"]) { try MetricsLog.read(path: dir + "/c.csv") }
        try AtomicFile.write(text: "x,y\n1\n2,3\n", to: dir + "/d.csv")
        ioAssertThrows(.invalidData, ["line 2", "1 cells"]) { try MetricsLog.read(path: dir + "/d.csv") }
        try AtomicFile.write(text: "", to: dir + "/e.csv")
        ioAssertThrows(.invalidData, ["header"]) { try MetricsLog.read(path: dir + "/e.csv") }
    }

    func testInterruptedRowIsDroppedAndResumeAppends() throws {
        let dir = try ioTemporaryDirectory(self)
        let path = dir + "/run.csv"
        try AtomicFile.write(text: "step,loss\n1,0.5\n2,0.4\n3,0.", to: path)  // killed mid-row
        var (columns, rows) = try MetricsLog.read(path: path)
        XCTAssertEqual(columns, ["step", "loss"])
        XCTAssertEqual(rows, [[1, 0.5], [2, 0.4], [3, 0]])  // "0." is a number; a cut at "3," is not:
        try AtomicFile.write(text: "step,loss\n1,0.5\n2,0.4\n3,", to: path)
        XCTAssertEqual(try MetricsLog.read(path: path).rows, [[1, 0.5], [2, 0.4]])

        let log = try MetricsLog(path: path, columns: ["step", "loss"], resume: true)
        try log.append([3, 0.3])
        (columns, rows) = try MetricsLog.read(path: path)
        XCTAssertEqual(rows, [[1, 0.5], [2, 0.4], [3, 0.3]])
        ioAssertThrows(.invalidData, ["differ"]) { try MetricsLog(path: path, columns: ["epoch", "loss"], resume: true) }
        // Without resume the file starts over.
        _ = try MetricsLog(path: path, columns: ["epoch"])
        XCTAssertEqual(try MetricsLog.read(path: path).rows, [])
    }
}

final class IOCurveChartTests: XCTestCase {
    private func bookChart() -> CurveChart {
        var chart = CurveChart(title: "LeNet <fashion-mnist> & co", xLabel: "epoch", yLabel: "value")
        chart.series = [
            (name: "train loss", points: (1 ... 10).map { (x: Double($0), y: 2.0 / Double($0)) }),
            (name: "train acc", points: (1 ... 10).map { (x: Double($0), y: 0.5 + 0.04 * Double($0)) }),
            (name: "test acc", points: [(x: 1, y: 0.6), (x: 2, y: .nan), (x: 3, y: 0.7), (x: 4, y: 0.75)]),
            (name: "lr", points: [(x: 1, y: 0.1), (x: 10, y: 0.01)]),
        ]
        return chart
    }

    func testValidSVGWithOnePathPerSeriesAndLegend() throws {
        let chart = bookChart()
        let svg = chart.svg()
        let parsed = try SVGCollector.parse(svg)
        XCTAssertEqual(parsed.elements.first?.name, "svg")
        let paths = parsed.elements.filter { $0.name == "path" }
        XCTAssertEqual(paths.count, 4)
        XCTAssertEqual(paths.map { $0.attributes["stroke"] ?? "" }, ["#1f77b4", "#bf00bf", "#008000", "#ff0000"])
        XCTAssertNil(paths[0].attributes["stroke-dasharray"])
        XCTAssertNotNil(paths[1].attributes["stroke-dasharray"])
        // The NaN point breaks the third line into two pieces.
        XCTAssertEqual(paths[2].attributes["d"]?.filter { $0 == "M" }.count, 2)
        for name in ["train loss", "train acc", "test acc", "lr", "epoch", "value", "LeNet <fashion-mnist> & co"] {
            XCTAssertTrue(parsed.text.contains(name), name)
        }
        // Ticks: round numbers on both axes.
        XCTAssertTrue(parsed.text.contains("10"))
        XCTAssertTrue(parsed.text.contains("0.5"))
    }

    func testLogScaleLimitsAndEmptyCharts() throws {
        var chart = bookChart()
        chart.logY = true
        chart.series.append((name: "zero", points: [(x: 1, y: 0), (x: 2, y: -1)]))  // nothing to draw on a log axis
        let parsed = try SVGCollector.parse(chart.svg())
        XCTAssertEqual(parsed.elements.filter { $0.name == "path" }.count, 5)
        XCTAssertTrue(parsed.text.contains("0.01"))
        XCTAssertTrue(parsed.text.contains("zero"))

        chart.logY = false
        chart.xLimits = (0, 20)
        chart.yLimits = (5, 1)  // unusable: falls back to the data
        XCTAssertNoThrow(try SVGCollector.parse(chart.svg()))

        let empty = CurveChart(xLabel: "x")
        XCTAssertEqual(try SVGCollector.parse(empty.svg()).elements.filter { $0.name == "path" }.count, 0)
        let flat = CurveChart(xLabel: "x", series: [(name: "c", points: [(x: 0, y: 3), (x: 0, y: 3)])])
        let flatSVG = flat.svg()
        XCTAssertFalse(flatSVG.contains("nan"))
        XCTAssertNoThrow(try SVGCollector.parse(flatSVG))
    }

    func testMarkersShowSinglePointsAndShortSeries() throws {
        // A one-epoch run: one point per series, which a path alone would not show.
        let single = CurveChart(xLabel: "epoch", yLabel: "loss", series: [(name: "train loss", points: [(x: 1, y: 0.5)])])
        let parsed = try SVGCollector.parse(single.svg())
        let circles = parsed.elements.filter { $0.name == "circle" }
        XCTAssertEqual(circles.count, 1)
        XCTAssertTrue(parsed.text.contains("epoch") && parsed.text.contains("loss"), "both axes are labelled")
        // Short series: every finite point is marked (the NaN of "test acc" is not).
        let book = try SVGCollector.parse(bookChart().svg())
        XCTAssertEqual(book.elements.filter { $0.name == "circle" }.count, 10 + 10 + 3 + 2)
        // Long series: no markers, but an isolated point still gets one.
        var long = CurveChart(xLabel: "step")
        long.series = [(name: "loss", points: (0..<100).map { (x: Double($0), y: $0 == 50 ? Double.nan : (($0 == 52) ? .nan : 1.0)) })]
        XCTAssertEqual(try SVGCollector.parse(long.svg()).elements.filter { $0.name == "circle" }.count, 1, "point 51 alone")
        long.showsMarkers = true
        XCTAssertEqual(try SVGCollector.parse(long.svg()).elements.filter { $0.name == "circle" }.count, 98)
    }

    func testEpochChartsOfOneEpochShowTheirPointsMidPlot() throws {
        var chart = CurveChart.epochs(1, yLabel: "loss / accuracy")
        chart.series = [("train loss", [(x: 1, y: 0.8)]), ("train acc", [(x: 1, y: 0.7)]), ("test acc", [(x: 1, y: 0.6)])]
        let parsed = try SVGCollector.parse(chart.svg())
        let circles = parsed.elements.filter { $0.name == "circle" }
        XCTAssertEqual(circles.count, 3, "one marker per series")
        let left = 62.0, right = chart.width - 16
        for circle in circles {
            let x = try XCTUnwrap(Double(circle.attributes["cx"] ?? ""))
            XCTAssertEqual(x, (left + right) / 2, accuracy: 0.01, "epoch 1 mid-plot, not on the frame")
        }
        XCTAssertTrue(parsed.text.contains("epoch") && parsed.text.contains("loss / accuracy"), "both axes are labelled")
        XCTAssertFalse(parsed.text.contains("1.2") || parsed.text.contains("1.0"), "ticks at whole epochs only: \(parsed.text)")
        // Longer runs: the book's limits [1, epochs], whole-epoch ticks, and the first
        // epoch's markers (on the frame) clipped to the plot widened by a marker.
        var ten = CurveChart.epochs(10, yLabel: "perplexity")
        ten.series = [("train", (1...10).map { (x: Double($0), y: 10 / Double($0)) })]
        let svg = ten.svg()
        let tenParsed = try SVGCollector.parse(svg)
        let xs = tenParsed.elements.filter { $0.name == "circle" }.compactMap { Double($0.attributes["cx"] ?? "") }
        XCTAssertEqual(xs.first ?? 0, left, accuracy: 0.01)
        XCTAssertEqual(xs.last ?? 0, right, accuracy: 0.01)
        XCTAssertTrue(svg.contains("<g clip-path=\"url(#marker-area)\">") && svg.contains("<clipPath id=\"marker-area\">"))
        XCTAssertEqual(CurveChart.linearTicks(0.5, 1.5, minimumStep: 1), [1])
        XCTAssertEqual(CurveChart.linearTicks(1, 3, minimumStep: 1), [1, 2, 3])
    }

    func testReferenceLinesAreBlackDashedAndInTheLegend() throws {
        var chart = CurveChart(xLabel: "groups", series: [(name: "P(die=1)", points: [(x: 0, y: 0.5), (x: 10, y: 0.3)])])
        chart.referenceLines = [(name: "1/6", y: 1.0 / 6)]
        let parsed = try SVGCollector.parse(chart.svg())
        let lines = parsed.elements.filter { $0.name == "line" && $0.attributes["class"] == "reference" }
        XCTAssertEqual(lines.count, 1)
        XCTAssertEqual(lines.first?.attributes["stroke"], "#000000")
        XCTAssertNotNil(lines.first?.attributes["stroke-dasharray"])
        XCTAssertTrue(parsed.text.contains("1/6"), "the legend names the line")
        // The y range reaches the line although no point is that low.
        let y = try XCTUnwrap(Double(lines.first?.attributes["y1"] ?? ""))
        XCTAssertLessThan(y, chart.height - 46, "inside the plot, above the x axis")
    }

    func testLogLogAxes() throws {
        // Zipf's law: frequency against rank on log-log axes; rank 0 cannot be drawn.
        var chart = CurveChart(xLabel: "token: x", yLabel: "frequency: n(x)")
        chart.logX = true
        chart.logY = true
        chart.series = [(name: "unigram", points: (0..<1000).map { (x: Double($0), y: 1000 / Double(max($0, 1))) })]
        let parsed = try SVGCollector.parse(chart.svg())
        XCTAssertTrue(parsed.text.contains("1000") && parsed.text.contains("100"), "powers of ten on both axes")
        let d = try XCTUnwrap(parsed.elements.first { $0.name == "path" }?.attributes["d"])
        XCTAssertEqual(d.filter { $0 == "M" }.count, 1, "one line: the x = 0 point is skipped at the start")
        XCTAssertFalse(d.contains("nan") || d.contains("inf"))
        // A power law is a straight line in log-log: the path's points are collinear.
        let points = d.split(whereSeparator: { $0 == "M" || $0 == "L" }).map { $0.split(separator: ",").compactMap { Double($0) } }
        let (a, b, c) = (points[0], points[points.count / 2], points[points.count - 1])
        let slope1 = (b[1] - a[1]) / (b[0] - a[0]), slope2 = (c[1] - b[1]) / (c[0] - b[0])
        XCTAssertEqual(slope1, slope2, accuracy: 0.05)
    }

    func testTicks() {
        XCTAssertEqual(CurveChart.linearTicks(0, 1), [0, 0.2, 0.4, 0.6000000000000001, 0.8, 1])
        XCTAssertEqual(CurveChart.linearTicks(1, 10), [2, 4, 6, 8, 10])
        XCTAssertEqual(CurveChart.logTicks(0.01, 2), [0.01, 0.1, 1])
        XCTAssertEqual(CurveChart.tickLabel(0.6000000000000001, ticks: [0, 0.2], log: false), "0.6")
        XCTAssertEqual(CurveChart.tickLabel(1e-5, ticks: [], log: true), "1e-5")
    }

    func testWriteIsAtomicAndNamesPath() throws {
        let dir = try ioTemporaryDirectory(self)
        try bookChart().write(to: dir + "/curves.svg")
        XCTAssertNoThrow(try SVGCollector.parse(String(contentsOfFile: dir + "/curves.svg", encoding: .utf8)))
        ioAssertThrows(.io, [dir + "/no/curves.svg"]) { try bookChart().write(to: dir + "/no/curves.svg") }
    }
}

final class IOProgressTests: XCTestCase {
    /// `line` padded with spaces to blank the rest of the longer `previous`.
    private func over(_ line: String, _ previous: String) -> String {
        line + String(repeating: " ", count: max(0, previous.count - line.count))
    }

    func testInteractiveRedrawsOneLineWithElapsedETAAndThroughput() {
        var written: [String] = []
        var now = 100.0
        var progress = ProgressReporter(total: 10, label: "train", interactive: true, clock: { now },
                                        output: { written.append($0) })
        progress.barWidth = 10
        progress.maxWidth = nil
        progress.update(done: 0, extra: "")
        now = 102
        progress.update(done: 4, items: 400, extra: "loss 0.52")
        now = 102.05
        progress.update(done: 5, items: 500, extra: "")  // within redrawInterval of the last: not drawn
        now = 103
        progress.update(done: 5, items: 500, extra: "")
        now = 175
        progress.finish(summary: "loss 0.40, 1200 examples/s")
        progress.update(done: 7, extra: "ignored")
        progress.finish(summary: "ignored")
        let first = "train [          ] 0/10 elapsed 0:00"
        let second = "train [====>     ] 4/10 elapsed 0:02 ETA 0:03 200 examples/s loss 0.52"  // 2 s for 4 of 10
        let third = "train [=====>    ] 5/10 elapsed 0:03 ETA 0:03 167 examples/s"
        let last = "train [=====>    ] 5/10 elapsed 1:15 loss 0.40, 1200 examples/s"
        XCTAssertEqual(written, ["\r" + first, "\r" + second, "\r" + over(third, second), "\r" + over(last, third), "\n"])
        XCTAssertFalse(written.joined().contains("ignored"))
    }

    func testTheLastStepAlwaysDrawsAndLinesAreCutToTheWidth() {
        var written: [String] = []
        var progress = ProgressReporter(total: 3, label: "epoch 1", unit: "tokens", interactive: true, clock: { 0 },
                                        output: { written.append($0) })
        progress.barWidth = 3
        progress.maxWidth = 25
        for step in 1...3 { progress.update(done: step, items: step * 10, extra: "perplexity 9.99") }
        // No time has passed: step 1 draws (the first), step 2 is too soon, step 3 is the last.
        XCTAssertEqual(written, ["\repoch 1 [=> ] 1/3 elapsed", "\repoch 1 [===] 3/3 elapsed"])
        progress.finish(summary: "perplexity 9.99, 1000 tokens/sec")
        XCTAssertEqual(written.last, "\n")
        XCTAssertEqual(written[written.count - 2], "\repoch 1 [===] 3/3 elapsed 0:00 perplexity 9.99, 1000 tokens/sec",
                       "the final line is not cut")
    }

    func testNonInteractivePrintsOnePlainLine() {
        var written: [String] = []
        var now = 0.0
        var progress = ProgressReporter(total: 235, label: "epoch 1", interactive: false, clock: { now },
                                        output: { written.append($0) })
        for i in 1 ... 235 { now += 0.1; progress.update(done: i, items: i * 256, extra: "loss \(i)") }
        XCTAssertEqual(written, [])
        progress.finish(summary: "loss 0.31")
        XCTAssertEqual(written, ["epoch 1 235/235 elapsed 0:23 loss 0.31\n"])
        XCTAssertFalse(written.joined().contains("\r"))
    }

    func testOutOfRangeCountsAreClamped() {
        var written: [String] = []
        var progress = ProgressReporter(total: 4, label: "", interactive: true, clock: { 0 }, output: { written.append($0) })
        progress.barWidth = 4
        progress.maxWidth = nil
        progress.redrawInterval = 0
        progress.update(done: 9, extra: "")
        progress.update(done: -3, extra: "")
        var empty = ProgressReporter(total: -1, label: "x", interactive: true, clock: { 0 }, output: { written.append($0) })
        empty.barWidth = 4
        empty.finish(summary: "")
        XCTAssertEqual(written, ["\r[====] 4/4 elapsed 0:00 ETA 0:00", "\r" + over("[    ] 0/4 elapsed 0:00", "[====] 4/4 elapsed 0:00 ETA 0:00"),
                                 "\rx [====] 0/0 elapsed 0:00", "\n"])
    }

    func testDurations() {
        XCTAssertEqual(ProgressReporter.duration(0), "0:00")
        XCTAssertEqual(ProgressReporter.duration(59.9), "0:59")
        XCTAssertEqual(ProgressReporter.duration(754), "12:34")
        XCTAssertEqual(ProgressReporter.duration(3600), "1:00:00")
        XCTAssertEqual(ProgressReporter.duration(-5), "0:00")
        XCTAssertEqual(ProgressReporter.duration(.nan), "0:00")
        XCTAssertEqual(ProgressReporter.duration(.infinity), "0:00")
    }
}
