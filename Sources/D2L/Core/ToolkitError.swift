/// An error from the toolkit: what went wrong, in words a user can act on.
///
/// Toolkit functions that can fail on user input (files, shapes, options) throw this
/// instead of trapping; the message names the values involved (both shapes of a
/// mismatch, the path of a file, the key of a checkpoint entry).
public struct ToolkitError: Error, CustomStringConvertible, Equatable, Sendable {
    /// What kind of problem this is.
    public enum Kind: String, Sendable {
        /// An option or argument is out of range or inconsistent.
        case invalidArgument
        /// Tensor shapes do not fit together.
        case shape
        /// A file could not be read or written.
        case io
        /// A file was read but its contents are wrong (bad magic, truncated, mismatched counts).
        case invalidData
        /// Something valid that the toolkit does not do.
        case unsupported
        /// Training produced a non-finite loss.
        case numerical
    }

    /// What kind of problem this is.
    public var kind: Kind
    /// A one-line explanation naming the values involved.
    public var message: String
    /// The whole story when `message` is a summary (every key of a state-dictionary
    /// mismatch, of which the message lists the first few), one item per line; nil when the
    /// message says it all. `d2l-export convert --verbose` prints it.
    public var details: String?

    public init(_ kind: Kind, _ message: String, details: String? = nil) {
        self.kind = kind
        self.message = message
        self.details = details
    }

    public var description: String { message }
}

extension ToolkitError {
    /// `error` as the one line a command prints after `error: `: a ToolkitError's message,
    /// any other error's description, with line breaks joined by "; " and other control
    /// characters (terminal escapes included) shown as `?`, so that bytes copied from a
    /// file cannot break the line or drive the terminal.
    public static func line(for error: Error) -> String {
        printable(lines((error as? ToolkitError)?.message ?? "\(error)").joined(separator: "; "))
    }

    /// `error`'s ``details`` (a ToolkitError's, else none) as lines to print below its
    /// ``line(for:)``: one per detail, control characters shown as `?`.
    public static func detailLines(for error: Error) -> [String] {
        lines((error as? ToolkitError)?.details ?? "").map(printable)
    }

    /// The non-empty lines of `text`, trimmed.
    private static func lines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    /// `text` with every control character (terminal escapes included) shown as `?`.
    private static func printable(_ text: String) -> String {
        String(String.UnicodeScalarView(text.unicodeScalars.map { scalar in
            scalar.properties.generalCategory == .control ? "?" : scalar
        }))
    }
}
