import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Progress of a loop (an epoch's batches), shown the way its output is consumed.
///
/// On a terminal (`interactive`), every ``update(done:extra:)`` redraws one line in place:
///
///     \rtrain [==============>               ] 120/235 loss 0.52
///
/// Otherwise (output to a file or pipe) updates print nothing, and ``finish(summary:)``
/// prints one plain line, so logs hold one line per loop instead of hundreds.
public struct ProgressReporter {
    /// The number of steps the loop will take.
    public let total: Int
    /// A word in front of the bar (`"train"`, `"epoch 3"`).
    public let label: String
    /// Whether to redraw a line per update (a terminal) or print one line at the end.
    public let interactive: Bool
    /// The characters in the bar between the brackets.
    public var barWidth: Int = 30
    private let output: (String) -> Void
    private var done = 0
    private var lastLine = ""
    private var finished = false

    /// A reporter for `total` steps, writing through `output` (stdout by default).
    /// - Parameters:
    ///   - total: the number of steps; a negative value counts as 0.
    ///   - interactive: redraw a line per update; by default, when stdout is a terminal.
    public init(total: Int, label: String, interactive: Bool = isatty(STDOUT_FILENO) != 0,
                output: @escaping (String) -> Void = { print($0, terminator: ""); fflush(stdout) }) {
        self.total = max(0, total)
        self.label = label
        self.interactive = interactive
        self.output = output
    }

    /// Records that `done` steps are complete; on a terminal, redraws the line with `extra`
    /// (such as `"loss 0.52"`) after the count. Does nothing after ``finish(summary:)``.
    public mutating func update(done: Int, extra: String = "") {
        guard !finished else { return }
        self.done = min(max(0, done), total)
        if interactive { draw(extra) }
    }

    /// Ends the loop: on a terminal, draws the line a last time with `summary` and moves to
    /// the next line; otherwise prints `label done/total summary` as one line. Only the
    /// first call does anything.
    public mutating func finish(summary: String = "") {
        guard !finished else { return }
        finished = true
        if interactive {
            draw(summary, force: true)
            output("\n")
        } else {
            output(label + " \(done)/\(total)" + (summary.isEmpty ? "" : " " + summary) + "\n")
        }
    }

    /// The bar for the current count: `[=====>    ]`.
    func bar() -> String {
        let width = max(1, barWidth)
        let fraction = total == 0 ? 1 : Double(done) / Double(total)
        let filled = min(width, Int((fraction * Double(width)).rounded(.down)))
        if filled >= width { return "[" + String(repeating: "=", count: width) + "]" }
        let body = String(repeating: "=", count: filled) + (filled > 0 || done > 0 ? ">" : " ")
        return "[" + body + String(repeating: " ", count: width - body.count) + "]"
    }

    /// Redraws the line (when it changed), blanking what is left of a longer previous line.
    private mutating func draw(_ extra: String, force: Bool = false) {
        let line = (label.isEmpty ? "" : label + " ") + bar() + " \(done)/\(total)" + (extra.isEmpty ? "" : " " + extra)
        guard force || line != lastLine else { return }
        let padding = max(0, lastLine.count - line.count)
        output("\r" + line + String(repeating: " ", count: padding))
        lastLine = line
    }
}
