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
