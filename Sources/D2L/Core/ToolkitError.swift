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

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension ToolkitError {
    /// `error` as the one line a command prints after `error: `: a ToolkitError's message,
    /// any other error's description, with line breaks joined by "; " and other control
    /// characters (terminal escapes included) shown as `?`, so that bytes copied from a
    /// file cannot break the line or drive the terminal.
    public static func line(for error: Error) -> String {
        let text = (error as? ToolkitError)?.message ?? "\(error)"
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        let joined = lines.filter { !$0.isEmpty }.joined(separator: "; ")
        return String(String.UnicodeScalarView(joined.unicodeScalars.map { scalar in
            scalar.properties.generalCategory == .control ? "?" : scalar
        }))
    }
}
