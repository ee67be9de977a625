import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A CSV file of training metrics, one row per call, safe against interruption.
///
/// The header (the column names) is written when the log is created; each ``append(_:)``
/// writes one complete row with a single `write` system call, so a run that is killed
/// keeps every row appended before it. Numbers are written compactly: integers in full,
/// others with 6 significant digits (`%.6g`), non-finite values as `nan`, `inf`, `-inf`.
///
/// ```swift
/// let log = try MetricsLog(path: "runs/lenet.csv", columns: ["epoch", "train_loss", "test_acc"])
/// try log.append([1, 0.5213, 0.81])
/// ```
public final class MetricsLog {
    /// The largest metrics.csv read back (64 MiB: about a million epochs), checked before reading.
    public static let maxFileSize = 64 << 20
    /// The file written.
    public let path: String
    /// The column names, in order.
    public let columns: [String]
    private let fd: Int32

    /// Creates (or truncates) the CSV file at `path` and writes the header line.
    ///
    /// - Parameters:
    ///   - path: the CSV file to write, such as `runs/lenet/metrics.csv`.
    ///   - columns: the header's column names, in order: at least one, none empty or with a
    ///     comma, quote or line break.
    ///   - resume: when true and `path` already holds a log with the same columns,
    ///     new rows are appended after its rows instead (for a resumed run).
    /// - Throws: ``ToolkitError`` `.invalidArgument` for no columns, an empty name, or a name
    ///   with a comma, quote or line break; `.io` naming `path` when it cannot be written;
    ///   `.invalidData` when resuming a log whose columns differ.
    public init(path: String, columns: [String], resume: Bool = false) throws {
        guard !columns.isEmpty else {
            throw ToolkitError(.invalidArgument, "a metrics log needs at least one column")
        }
        for name in columns {
            guard !name.isEmpty, !name.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else {
                throw ToolkitError(.invalidArgument, "metrics column name \"\(name)\" must be non-empty, without commas, quotes or line breaks")
            }
        }
        self.path = path
        self.columns = columns

        // `fd` is assigned last: a throw before then leaves no object, and no deinit to close it.
        if resume, access(path, F_OK) == 0 {
            let existing = try MetricsLog.read(path: path)
            guard existing.columns == columns else {
                throw ToolkitError(.invalidData, "cannot resume \(path): its columns \(existing.columns) differ from \(columns)")
            }
            let handle = open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
            guard handle >= 0 else { throw ToolkitError(.io, "cannot write \(path): \(AtomicFile.systemReason())") }
            // A row cut short by a crash (no line break yet) is cut off, or the next row
            // would run into it.
            let bytes: [UInt8]
            do { bytes = try BoundedFile.read(path: path, limit: MetricsLog.maxFileSize, what: "a metrics log") } catch {
                close(handle)
                throw error
            }
            if let last = bytes.last, last != UInt8(ascii: "\n") {
                let keep = (bytes.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
                guard ftruncate(handle, off_t(keep)) == 0 else {
                    let reason = AtomicFile.systemReason()
                    close(handle)
                    throw ToolkitError(.io, "cannot write \(path): \(reason)")
                }
            }
            fd = handle
        } else {
            let handle = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard handle >= 0 else { throw ToolkitError(.io, "cannot write \(path): \(AtomicFile.systemReason())") }
            do {
                try AtomicFile.writeAll(handle, Array((columns.joined(separator: ",") + "\n").utf8), path: path)
            } catch {
                close(handle)
                throw error
            }
            fd = handle
        }
    }

    deinit {
        close(fd)
    }

    /// Appends one row, one value per column, and hands it to the system at once.
    /// - Throws: ``ToolkitError`` `.invalidArgument` when the number of values is not the
    ///   number of columns; `.io` naming the path when the write fails.
    public func append(_ values: [Double]) throws {
        guard values.count == columns.count else {
            throw ToolkitError(.invalidArgument, "metrics row has \(values.count) values but \(path) has \(columns.count) columns \(columns)")
        }
        let line = values.map(MetricsLog.format).joined(separator: ",") + "\n"
        try AtomicFile.writeAll(fd, Array(line.utf8), path: path)
    }

    /// A value as written in the log: integers in full (below 2^53), others `%.6g`.
    public static func format(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        if value == value.rounded(), abs(value) < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return String(format: "%.6g", value)
    }

    /// Reads a metrics log: its column names and rows.
    ///
    /// Empty cells read as NaN. A last line without a line break is kept only when it is a
    /// whole row (every cell a number): otherwise it is a row cut short by a crash, and left out.
    /// - Throws: ``ToolkitError`` `.io` when the file cannot be read; `.invalidData` naming
    ///   the path and line for an empty file, a row of the wrong length, or a cell that is
    ///   not a number.
    public static func read(path: String) throws -> (columns: [String], rows: [[Double]]) {
        let bytes = try BoundedFile.read(path: path, limit: maxFileSize, what: "a metrics log")
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ToolkitError(.invalidData, "\(path): not UTF-8 text")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map {
            $0.hasSuffix("\r") ? $0.dropLast() : $0
        }
        let terminated = text.hasSuffix("\n")
        if terminated { lines.removeLast() }
        guard let headerLine = lines.first, !headerLine.isEmpty else {
            throw ToolkitError(.invalidData, "\(path): no header line")
        }
        let columns = headerLine.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        var rows: [[Double]] = []
        for (index, line) in lines.enumerated().dropFirst() {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false)
            let isLast = index == lines.count - 1
            if cells.count != columns.count {
                if isLast && !terminated { break }
                if line.isEmpty { continue }
                throw ToolkitError(.invalidData, "\(path) line \(index + 1): \(cells.count) cells, but the header has \(columns.count)")
            }
            var row: [Double] = []
            row.reserveCapacity(cells.count)
            for cell in cells {
                let trimmed = cell.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty {
                    if isLast && !terminated { return (columns, rows) }
                    row.append(.nan)
                    continue
                }
                guard let value = Double(trimmed) else {
                    if isLast && !terminated { return (columns, rows) }
                    throw ToolkitError(.invalidData, "\(path) line \(index + 1): \"\(trimmed)\" is not a number")
                }
                row.append(value)
            }
            rows.append(row)
        }
        return (columns, rows)
    }
}
