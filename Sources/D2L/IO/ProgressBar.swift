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
/// On a terminal (`interactive`), ``update(done:items:extra:)`` redraws one line in place
/// (at most every ``redrawInterval``, cut to the terminal's width), with the time since the
/// reporter was made, the estimated time left and the live throughput:
///
///     \repoch 1 [=========>          ] 120/235 elapsed 0:12 ETA 0:11 1523 examples/s loss 0.520
///
/// Otherwise (output to a file or pipe) updates print nothing, and ``finish(summary:)``
/// prints one plain line, so logs hold one line per loop instead of hundreds:
///
///     epoch 1 235/235 elapsed 0:23 loss 0.310, …
public struct ProgressReporter {
    /// The number of steps the loop will take.
    public let total: Int
    /// A word in front of the bar (`"train"`, `"epoch 3"`).
    public let label: String
    /// What the `items` of ``update(done:items:extra:)`` count (`"examples"`, `"tokens"`),
    /// shown as the throughput `1523 examples/s`.
    public let unit: String
    /// Whether to redraw a line per update (a terminal) or print one line at the end.
    public let interactive: Bool
    /// The characters in the bar between the brackets.
    public var barWidth: Int = 20
    /// The longest line a redraw writes (by default the terminal's columns less one, so
    /// that it never wraps and `\r` returns to its start); nil: no limit. The final line
    /// of ``finish(summary:)`` is never cut.
    public var maxWidth: Int?
    /// The least time, in seconds, between two redraws; the first step, the last step and
    /// ``finish(summary:)`` always draw.
    public var redrawInterval: Double = 0.1
    private let output: (String) -> Void
    private let clock: () -> Double
    private let start: Double
    private var done = 0
    private var items: Int?
    private var lastLine = ""
    private var lastDraw: Double?
    private var finished = false

    /// A reporter for `total` steps, writing through `output` (stdout by default), its
    /// clock started now.
    /// - Parameters:
    ///   - total: the number of steps; a negative value counts as 0.
    ///   - label: the word in front of the bar and the count (`"train"`); may be empty.
    ///   - unit: what the `items` of ``update(done:items:extra:)`` count.
    ///   - interactive: redraw a line per update; by default, when stdout is a terminal.
    ///   - clock: seconds on a monotonic clock (by default the system's uptime).
    ///   - output: writes a piece of text as it is (the pieces carry their own `\r` and
    ///     line breaks); by default to stdout, flushed.
    public init(total: Int, label: String, unit: String = "examples", interactive: Bool = isatty(STDOUT_FILENO) != 0,
                clock: @escaping () -> Double = ProgressReporter.uptime,
                output: @escaping (String) -> Void = { print($0, terminator: ""); fflush(stdout) }) {
        self.total = max(0, total)
        self.label = label
        self.unit = unit
        self.interactive = interactive
        self.clock = clock
        self.output = output
        self.start = clock()
        self.maxWidth = interactive ? ProgressReporter.terminalColumns().map { max($0 - 1, 20) } : nil
    }

    /// Records that `done` steps are complete, having processed `items` (examples, tokens)
    /// in all; on a terminal, redraws the line with `extra` (such as `"loss 0.52"`) after
    /// the count, the times and the throughput. Does nothing after ``finish(summary:)``.
    public mutating func update(done: Int, items: Int? = nil, extra: String = "") {
        guard !finished else { return }
        self.done = min(max(0, done), total)
        self.items = items
        guard interactive else { return }
        let now = clock()
        if let lastDraw, now - lastDraw < redrawInterval, self.done < total { return }
        draw(runningLine(extra, now: now), cut: true, now: now)
    }

    /// Ends the loop: on a terminal, draws the line a last time with the elapsed time and
    /// `summary`, and moves to the next line; otherwise prints
    /// `label done/total elapsed M:SS summary` as one line. Only the first call does anything.
    public mutating func finish(summary: String = "") {
        guard !finished else { return }
        finished = true
        let now = clock()
        let tail = " \(done)/\(total) elapsed \(Self.duration(now - start))" + (summary.isEmpty ? "" : " " + summary)
        if interactive {
            draw(prefix() + tail, cut: false, now: now)
            output("\n")
        } else {
            output(label + tail + "\n")
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

    /// `label [bar]`.
    private func prefix() -> String { (label.isEmpty ? "" : label + " ") + bar() }

    /// `label [bar] done/total elapsed M:SS ETA M:SS N unit/s extra` (ETA once a step is done,
    /// the throughput once items and time are counted).
    private func runningLine(_ extra: String, now: Double) -> String {
        let elapsed = max(0, now - start)
        var line = prefix() + " \(done)/\(total) elapsed \(Self.duration(elapsed))"
        if done > 0 { line += " ETA " + Self.duration(elapsed / Double(done) * Double(total - done)) }
        if let items, elapsed > 0 { line += String(format: " %.0f %@/s", Double(items) / elapsed, unit) }
        return line + (extra.isEmpty ? "" : " " + extra)
    }

    /// Redraws the line (when it changed), cut to ``maxWidth`` when `cut`, blanking what is
    /// left of a longer previous line.
    private mutating func draw(_ full: String, cut: Bool, now: Double) {
        let line = cut ? String(full.prefix(maxWidth ?? Int.max)) : full
        lastDraw = now
        guard !cut || line != lastLine else { return }
        let padding = max(0, lastLine.count - line.count)
        output("\r" + line + String(repeating: " ", count: padding))
        lastLine = line
    }

    /// `M:SS`, or `H:MM:SS` from an hour on (whole seconds, rounded down; negative and
    /// non-finite times as `0:00`).
    public static func duration(_ seconds: Double) -> String {
        let total = seconds.isFinite && seconds > 0 ? Int(min(seconds, 1e9)) : 0
        let (h, m, s) = (total / 3600, total / 60 % 60, total % 60)
        return h > 0 ? String(format: "%d:%02d:%02d", h, m, s) : String(format: "%d:%02d", m, s)
    }

    /// Seconds since boot on the monotonic clock.
    public static func uptime() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// The columns of the terminal on standard output, or nil (not a terminal, or unknown).
    static func terminalColumns() -> Int? {
        #if canImport(Glibc) || canImport(Darwin)
        var size = winsize()
        guard ioctl(STDOUT_FILENO, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
        #else
        return nil
        #endif
    }
}
