import D2L
import Foundation

/// What a running section gets from `d2l-book`: the mode (`quick`: a small subset and
/// few epochs), the folder for its figures, the data folder, and checks that fail the
/// run when they do not hold. Printing goes to standard output, as in the notebook.
final class BookContext {
    let section: BookSection
    /// A small subset and few epochs (CI); otherwise the book's full settings.
    let quick: Bool
    /// `OUT/SECTION`, created on the first figure.
    let outputDirectory: String
    /// The `--data` folder, or nil (then `$D2L_DATA_DIR` and the system folders are searched).
    let dataDirectory: String?
    private(set) var checkCount = 0
    private(set) var failedChecks: [String] = []

    init(section: BookSection, quick: Bool, outputRoot: String, dataDirectory: String?) throws {
        self.section = section
        self.quick = quick
        self.outputDirectory = (outputRoot as NSString).appendingPathComponent(section.name)
        self.dataDirectory = dataDirectory
    }

    /// `full` normally, `quick` with `--quick`.
    func choose<T>(full: T, quick small: T) -> T { quick ? small : full }

    /// Records a check and prints `check: WHAT: ok` or `check: WHAT: FAILED`.
    func check(_ condition: Bool, _ what: String) {
        checkCount += 1
        print("check: \(what): \(condition ? "ok" : "FAILED")")
        if !condition { failedChecks.append(what) }
    }

    /// Prints `label = VALUE` in the book format (see ``bookFormat(_:decimals:)``), which
    /// the reference outputs in `Tests/Fixtures/book` use.
    func show(_ label: String, _ value: Tensor, decimals: Int = 4) {
        print("\(label) = \(bookFormat(value, decimals: decimals))")
    }

    /// Prints `label = VALUE` with `decimals` digits.
    func show(_ label: String, _ value: Float, decimals: Int = 4) {
        print("\(label) = \(formatNumber(value, decimals: decimals))")
    }

    /// The path of `name` in the section's folder, creating the folder.
    func outputPath(_ name: String) throws -> String {
        try FileManager.default.createDirectory(atPath: outputDirectory, withIntermediateDirectories: true)
        return (outputDirectory as NSString).appendingPathComponent(name)
    }

    /// Writes `chart` as `NAME.svg` in the section's folder and prints `figure: PATH`.
    @discardableResult
    func save(_ chart: CurveChart, as name: String) throws -> String {
        let path = try outputPath(name + ".svg")
        try chart.write(to: path)
        print("figure: \(path)")
        return path
    }
}

/// A tensor on one line: nested brackets, `decimals` digits per value, `, ` between
/// items (`[[4.0000, 5.0000], [7.0000, 8.0000]]`); a scalar is its number alone.
/// `tools/fixtures/book/common.py` formats PyTorch's values the same way.
func bookFormat(_ t: Tensor, decimals: Int = 4) -> String {
    let values = t.scalars
    func render(_ dim: Int, _ offset: Int) -> String {
        if dim == t.rank { return formatNumber(values[offset], decimals: decimals) }
        let stride = t.shape[(dim + 1)...].reduce(1, *)
        return "[" + (0..<t.shape[dim]).map { render(dim + 1, offset + $0 * stride) }.joined(separator: ", ") + "]"
    }
    return render(0, 0)
}

/// `value` with `decimals` digits; `-0.0000` prints as `0.0000`.
func formatNumber(_ value: Float, decimals: Int = 4) -> String {
    let text = String(format: "%.\(decimals)f", Double(value))
    return text.hasPrefix("-") && text.dropFirst().allSatisfy({ $0 == "0" || $0 == "." }) ? String(text.dropFirst()) : text
}
