import Foundation
import D2LRuntime

/// A table read from a CSV file with a header row, and its conversion to numbers the
/// way the book's chapter 2 does with pandas:
/// `pd.get_dummies(inputs, dummy_na=True)` then `inputs.fillna(inputs.mean())`.
///
/// Fields follow RFC 4180: separated by commas, optionally in double quotes (a quoted
/// field may hold commas, newlines and `""` for a quote). A field is missing (nil)
/// when it is empty or one of pandas' default missing markers (`NA`, `N/A`, `NaN`,
/// `nan`, `NULL`, `null`, `None`, `<NA>`, `#N/A`, …).
public struct CSVTable: Sendable, Equatable {
    /// The column names, from the header row.
    public var columns: [String]
    /// The rows, each with one field per column; nil marks a missing value.
    public var rows: [[String?]]

    /// The field texts that mean "missing" (pandas' default `na_values`, plus empty).
    public static let missingMarkers: Set<String> = [
        "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
        "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
    ]

    /// Makes a table after checking that every row has one field per column.
    ///
    /// - Throws: `ToolkitError(.shape)` naming the first row of the wrong width.
    public init(columns: [String], rows: [[String?]]) throws {
        if let bad = rows.firstIndex(where: { $0.count != columns.count }) {
            throw ToolkitError(
                .shape, "CSVTable: row \(bad) has \(rows[bad].count) fields, the header has \(columns.count)")
        }
        self.columns = columns
        self.rows = rows
    }

    /// Parses CSV text whose first record is the header. Blank lines are skipped.
    ///
    /// - Parameters:
    ///   - text: the whole CSV file: comma-separated fields, double-quoted where they hold
    ///     commas, quotes or line breaks; an empty field or a missing marker
    ///     (``missingMarkers``) is nil in ``rows``.
    ///   - source: a name for error messages (the path).
    /// - Throws: `ToolkitError(.invalidData)` when there is no header, a quote is not
    ///   closed, or a record has a different number of fields than the header (the
    ///   message gives the line number and both counts).
    public init(parsing text: String, source: String = "<text>") throws {
        var records = try CSVTable.records(text, source: source)
        guard !records.isEmpty else {
            throw ToolkitError(.invalidData, "'\(source)' has no header row")
        }
        let header = records.removeFirst()
        var rows: [[String?]] = []
        rows.reserveCapacity(records.count)
        for (line, fields) in records {
            guard fields.count == header.fields.count else {
                throw ToolkitError(
                    .invalidData,
                    "'\(source)' line \(line): \(fields.count) fields, the header has \(header.fields.count)")
            }
            rows.append(fields.map { CSVTable.missingMarkers.contains($0) ? nil : $0 })
        }
        self.columns = header.fields
        self.rows = rows
    }

    /// The largest CSV file ``load(path:)`` reads (it is parsed in memory, as text and as cells).
    public static let maxFileSize = 256 << 20

    /// Reads a CSV file (UTF-8) whose first line is the header.
    ///
    /// - Throws: `ToolkitError(.io)` naming the path when it cannot be read or is not
    ///   UTF-8, and `.invalidData` as `init(parsing:source:)` does.
    public static func load(path: String) throws -> CSVTable {
        // A regular file of at most maxFileSize bytes (FIFOs and devices are refused unread).
        let bytes = try BoundedFile.read(path: path, limit: maxFileSize, what: "a CSV file")
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ToolkitError(.io, "'\(path)' is not UTF-8 text")
        }
        return try CSVTable(parsing: text, source: path)
    }

    /// The index of a column.
    ///
    /// - Throws: `ToolkitError(.invalidArgument)` listing the columns when there is none
    ///   of that name.
    public func columnIndex(named name: String) throws -> Int {
        guard let index = columns.firstIndex(of: name) else {
            throw ToolkitError(
                .invalidArgument, "CSVTable: no column \(quoted(name)); the columns are \(columns.map { quoted($0) }.joined(separator: ", "))")
        }
        return index
    }

    /// The values of one column, top to bottom (nil = missing).
    public func column(named name: String) throws -> [String?] {
        let index = try columnIndex(named: name)
        return rows.map { $0[index] }
    }

    /// The table with only the given columns, in the given order (pandas `data[names]`).
    ///
    /// - Throws: `ToolkitError(.invalidArgument)` for an unknown name.
    public func selecting(columns names: [String]) throws -> CSVTable {
        try selecting(columnIndices: names.map { try columnIndex(named: $0) })
    }

    /// The table with only the given columns, in the given order (pandas
    /// `data.iloc[:, 0:2]` is `selecting(columnIndices: 0..<2)`).
    ///
    /// - Throws: `ToolkitError(.invalidArgument)` for an index outside `0..<columns.count`.
    public func selecting(columnIndices indices: some Sequence<Int>) throws -> CSVTable {
        let picked = Array(indices)
        if let bad = picked.first(where: { !columns.indices.contains($0) }) {
            throw ToolkitError(
                .invalidArgument, "CSVTable: column index \(bad) is outside 0..<\(columns.count)")
        }
        var result = self
        result.columns = picked.map { columns[$0] }
        result.rows = rows.map { row in picked.map { row[$0] } }
        return result
    }

    /// Whether every present value of column `index` parses as a number (a column with
    /// no values at all counts as numeric, as pandas reads it as float NaN).
    public func isNumeric(column index: Int) -> Bool {
        rows.allSatisfy { row in row[index].map { Double($0) != nil } ?? true }
    }

    /// The table as numbers, as the book prepares it with pandas.
    ///
    /// Numeric columns come first, in table order; then, for each non-numeric column in
    /// table order, its one-hot columns `name_value` for each distinct value in sorted
    /// order and a last `name_nan` column for missing values (`pd.get_dummies(...,
    /// dummy_na=True)`; 1 and 0). With `fillingMissing`, a missing number becomes its
    /// column's mean over the present values (`fillna(mean())`); otherwise it is NaN.
    ///
    /// - Returns: the result's column names and `rows.count × columns.count` values,
    ///   row-major.
    /// - Throws: `ToolkitError(.invalidData)` when a column is non-numeric and
    ///   `oneHotCategoricals` is false, or when filling a numeric column that has no
    ///   values to average.
    public func numericMatrix(
        fillingMissing: Bool = true, oneHotCategoricals: Bool = true
    ) throws -> (columns: [String], values: [Float]) {
        // Each output column as a function of the row.
        var names: [String] = []
        var extractors: [(Int) -> Float] = []
        var categorical: [Int] = []
        for index in columns.indices {
            guard isNumeric(column: index) else {
                categorical.append(index)
                continue
            }
            let numbers = rows.map { row in row[index].flatMap { Double($0) } }
            var fill = Double.nan
            if fillingMissing && numbers.contains(where: { $0 == nil }) {
                let present = numbers.compactMap { $0 }
                guard !present.isEmpty else {
                    throw ToolkitError(
                        .invalidData, "CSVTable: column \(quoted(columns[index])) has no values to take the mean of")
                }
                fill = present.reduce(0, +) / Double(present.count)
            }
            names.append(columns[index])
            extractors.append { row in Float(numbers[row] ?? fill) }
        }
        for index in categorical {
            guard oneHotCategoricals else {
                let example = rows.lazy.compactMap { $0[index] }.first(where: { Double($0) == nil }) ?? ""
                throw ToolkitError(
                    .invalidData,
                    "CSVTable: column \(quoted(columns[index])) is not numeric (e.g. \(quoted(example))); pass oneHotCategoricals: true")
            }
            let categories = Set(rows.compactMap { $0[index] }).sorted()
            for category in categories {
                names.append("\(columns[index])_\(category)")
                extractors.append { row in rows[row][index] == category ? 1 : 0 }
            }
            names.append("\(columns[index])_nan")
            extractors.append { row in rows[row][index] == nil ? 1 : 0 }
        }
        var values: [Float] = []
        values.reserveCapacity(rows.count * names.count)
        for row in rows.indices {
            for extract in extractors { values.append(extract(row)) }
        }
        return (names, values)
    }

    /// Splits text into records of fields, with the line number where each record starts.
    private static func records(_ text: String, source: String) throws -> [(line: Int, fields: [String])] {
        var records: [(line: Int, fields: [String])] = []
        var fields: [String] = []
        var field = ""
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var fieldStarted = false
        var characters = text.unicodeScalars.makeIterator()
        var pending = characters.next()
        func endRecord() {
            fields.append(field)
            // A blank line is a single empty field: skip it.
            if !(fields.count == 1 && fields[0].isEmpty && !fieldStarted) {
                records.append((recordLine, fields))
            }
            fields = []
            field = ""
            fieldStarted = false
        }
        while let scalar = pending {
            pending = characters.next()
            if inQuotes {
                if scalar == "\"" {
                    if pending == "\"" {
                        field.unicodeScalars.append("\"")
                        pending = characters.next()
                    } else {
                        inQuotes = false
                    }
                } else {
                    if scalar == "\n" { line += 1 }
                    field.unicodeScalars.append(scalar)
                }
                continue
            }
            switch scalar {
            case "\"" where field.isEmpty:
                inQuotes = true
                fieldStarted = true
            case ",":
                fields.append(field)
                field = ""
                fieldStarted = true
            case "\r" where pending == "\n":
                continue
            case "\n", "\r":
                endRecord()
                line += 1
                recordLine = line
            default:
                field.unicodeScalars.append(scalar)
            }
        }
        if inQuotes {
            throw ToolkitError(.invalidData, "'\(source)' line \(recordLine): a quoted field is not closed")
        }
        if !field.isEmpty || !fields.isEmpty || fieldStarted { endRecord() }
        return records
    }
}
